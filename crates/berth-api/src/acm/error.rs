//! The one mapping from failures to ACM's JSON error shape (`{"__type", "message"}`), with
//! the model's codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_acm_wire::{DecodeError, ErrorBody, ErrorCode};
use berth_control::acm::{AcmError, AcmErrorKind};
use berth_control::ControlError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AcmApiError {
    fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        AcmApiError {
            status: StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.code(),
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::model(ErrorCode::ValidationException, message)
    }

    /// An operation of the model that Berth does not serve (certificates ACM would issue,
    /// export, ACME, account configuration).
    pub fn unsupported(operation: &str) -> Self {
        Self::validation(format!(
            "{operation} is not supported by this Berth version: Berth's ACM serves imported certificates."
        ))
    }

    pub fn unknown_operation(target: &str) -> Self {
        AcmApiError {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!("Unknown operation: {target}"),
        }
    }

    pub fn internal() -> Self {
        AcmApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::InternalServerException.code(),
            message: "The server could not complete the request; it may not have been applied.".to_string(),
        }
    }
}

impl From<DecodeError> for AcmApiError {
    fn from(error: DecodeError) -> Self {
        if error.message.starts_with("Request body is not valid JSON") {
            AcmApiError { status: StatusCode::BAD_REQUEST, code: "SerializationException", message: error.message }
        } else {
            Self::validation(error.message)
        }
    }
}

impl From<AcmError> for AcmApiError {
    fn from(error: AcmError) -> Self {
        let code = match error.kind {
            AcmErrorKind::Validation => ErrorCode::ValidationException,
            AcmErrorKind::InvalidArn => ErrorCode::InvalidArnException,
            AcmErrorKind::InvalidParameter => ErrorCode::InvalidParameterException,
            AcmErrorKind::InvalidTag => ErrorCode::InvalidTagException,
            AcmErrorKind::TooManyTags => ErrorCode::TooManyTagsException,
            AcmErrorKind::ResourceNotFound => ErrorCode::ResourceNotFoundException,
            AcmErrorKind::ResourceInUse => ErrorCode::ResourceInUseException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for AcmApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Acm(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving an ACM request");
                Self::internal()
            }
            other => Self::validation(other.to_string()),
        }
    }
}

impl IntoResponse for AcmApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error_type: self.code.to_string(), message: self.message, resource_ids: None };
        let json = serde_json::to_vec(&body).expect("error bodies always serialise");
        (self.status, [(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], json).into_response()
    }
}
