//! The one mapping from failures to CloudWatch Logs' JSON error shape (`{"__type",
//! "message"}`), with the model's codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_control::logs::{LogsError, LogsErrorKind};
use berth_control::ControlError;
use berth_logs_wire::{DecodeError, ErrorBody, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl LogsApiError {
    fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        // The model gives no status codes (all 400); a failure of the server's own is a 500,
        // so SDKs retry it.
        let status = if code == ErrorCode::ServiceUnavailableException {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
        };
        LogsApiError { status, code: code.code(), message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::model(ErrorCode::InvalidParameterException, message)
    }

    /// An operation of the model that Berth does not serve yet (metric filters, exports,
    /// deliveries, Live Tail, …).
    pub fn unsupported(operation: &str) -> Self {
        Self::invalid(format!(
            "{operation} is not supported by this Berth version: Berth's CloudWatch Logs serves log groups, streams and their events."
        ))
    }

    pub fn unknown_operation(target: &str) -> Self {
        LogsApiError {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!("Unknown operation: {target}"),
        }
    }

    pub fn internal() -> Self {
        Self::model(
            ErrorCode::ServiceUnavailableException,
            "The server could not complete the request; it may not have been applied.",
        )
    }
}

impl From<DecodeError> for LogsApiError {
    fn from(error: DecodeError) -> Self {
        if error.message.starts_with("Request body is not valid JSON") {
            LogsApiError { status: StatusCode::BAD_REQUEST, code: "SerializationException", message: error.message }
        } else {
            Self::invalid(error.message)
        }
    }
}

impl From<LogsError> for LogsApiError {
    fn from(error: LogsError) -> Self {
        let code = match error.kind {
            LogsErrorKind::InvalidParameter => ErrorCode::InvalidParameterException,
            LogsErrorKind::ResourceNotFound => ErrorCode::ResourceNotFoundException,
            LogsErrorKind::ResourceAlreadyExists => ErrorCode::ResourceAlreadyExistsException,
            LogsErrorKind::Validation => ErrorCode::ValidationException,
            LogsErrorKind::TooManyTags => ErrorCode::TooManyTagsException,
            LogsErrorKind::LimitExceeded => ErrorCode::LimitExceededException,
            LogsErrorKind::ServiceUnavailable => ErrorCode::ServiceUnavailableException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for LogsApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Logs(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving a CloudWatch Logs request");
                Self::internal()
            }
            other => Self::invalid(other.to_string()),
        }
    }
}

impl IntoResponse for LogsApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error_type: self.code.to_string(), message: self.message, resource_ids: None };
        let json = serde_json::to_vec(&body).expect("error bodies always serialise");
        (self.status, [(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], json).into_response()
    }
}
