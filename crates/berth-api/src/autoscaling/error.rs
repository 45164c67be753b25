//! The one mapping from failures to Application Auto Scaling's JSON error shape
//! (`{"__type", "message"}`), with the model's codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_autoscaling_wire::{DecodeError, ErrorBody, ErrorCode};
use berth_control::autoscaling::{AutoScalingError, AutoScalingErrorKind};
use berth_control::ControlError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoScalingApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AutoScalingApiError {
    fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        // The model gives every error 400; a failure of the server's own is a 500, so SDKs
        // retry it.
        let status = if code == ErrorCode::InternalServiceException {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
        };
        AutoScalingApiError { status, code: code.code(), message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::model(ErrorCode::ValidationException, message)
    }

    /// An operation of the model Berth does not serve (predictive scaling's forecast).
    pub fn unsupported(operation: &str) -> Self {
        Self::validation(format!(
            "{operation} is not supported by this Berth version: Berth has no predictive scaling forecasts."
        ))
    }

    pub fn unknown_operation(target: &str) -> Self {
        AutoScalingApiError {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!("Unknown operation: {target}"),
        }
    }

    pub fn internal() -> Self {
        Self::model(
            ErrorCode::InternalServiceException,
            "The server could not complete the request; it may not have been applied.",
        )
    }
}

impl From<DecodeError> for AutoScalingApiError {
    fn from(error: DecodeError) -> Self {
        if error.message.starts_with("Request body is not valid JSON") {
            AutoScalingApiError {
                status: StatusCode::BAD_REQUEST,
                code: "SerializationException",
                message: error.message,
            }
        } else {
            Self::validation(error.message)
        }
    }
}

impl From<AutoScalingError> for AutoScalingApiError {
    fn from(error: AutoScalingError) -> Self {
        let code = match error.kind {
            AutoScalingErrorKind::Validation => ErrorCode::ValidationException,
            AutoScalingErrorKind::ObjectNotFound => ErrorCode::ObjectNotFoundException,
            AutoScalingErrorKind::ResourceNotFound => ErrorCode::ResourceNotFoundException,
            AutoScalingErrorKind::ConcurrentUpdate => ErrorCode::ConcurrentUpdateException,
            AutoScalingErrorKind::LimitExceeded => ErrorCode::LimitExceededException,
            AutoScalingErrorKind::TooManyTags => ErrorCode::TooManyTagsException,
            AutoScalingErrorKind::InvalidNextToken => ErrorCode::InvalidNextTokenException,
            AutoScalingErrorKind::FailedResourceAccess => ErrorCode::FailedResourceAccessException,
            AutoScalingErrorKind::Internal => ErrorCode::InternalServiceException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for AutoScalingApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::AutoScaling(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving an Application Auto Scaling request");
                Self::internal()
            }
            // The ECS service behind a target refused the change.
            other => Self::model(ErrorCode::FailedResourceAccessException, other.to_string()),
        }
    }
}

impl IntoResponse for AutoScalingApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error_type: self.code.to_string(), message: self.message, resource_ids: None };
        let json = serde_json::to_vec(&body).expect("error bodies always serialise");
        (self.status, [(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], json).into_response()
    }
}
