//! The one mapping from failures to EventBridge Scheduler's REST-JSON error shape: the code in
//! the `x-amzn-ErrorType` header, `{"Message"}` as the body, and the model's HTTP status.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_control::schedules::{SchedulerError, SchedulerErrorKind};
use berth_control::ControlError;
use berth_eventbridge_scheduler_wire::{DecodeError, ErrorCode, RestErrorBody, ERROR_TYPE_HEADER};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl SchedulerApiError {
    pub fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        SchedulerApiError { status, code: code.code(), message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::model(ErrorCode::ValidationException, message)
    }

    pub fn internal() -> Self {
        Self::model(
            ErrorCode::InternalServerException,
            "The server could not complete the request; it may not have been applied.",
        )
    }

    /// A method and path that are no Scheduler operation.
    pub fn unknown_operation(method: &str, path: &str) -> Self {
        SchedulerApiError {
            status: StatusCode::NOT_FOUND,
            code: "UnknownOperationException",
            message: format!("No EventBridge Scheduler operation is {method} {path}."),
        }
    }
}

impl From<DecodeError> for SchedulerApiError {
    fn from(error: DecodeError) -> Self {
        Self::validation(error.message)
    }
}

impl From<SchedulerError> for SchedulerApiError {
    fn from(error: SchedulerError) -> Self {
        let code = match error.kind {
            SchedulerErrorKind::Validation => ErrorCode::ValidationException,
            SchedulerErrorKind::ResourceNotFound => ErrorCode::ResourceNotFoundException,
            SchedulerErrorKind::Conflict => ErrorCode::ConflictException,
            SchedulerErrorKind::ServiceQuotaExceeded => ErrorCode::ServiceQuotaExceededException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for SchedulerApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Scheduler(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving an EventBridge Scheduler request");
                Self::internal()
            }
            other => Self::validation(other.to_string()),
        }
    }
}

impl IntoResponse for SchedulerApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&RestErrorBody { message: self.message }).expect("error bodies always serialise");
        let mut response =
            (self.status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
        response.headers_mut().insert(ERROR_TYPE_HEADER, HeaderValue::from_static(self.code));
        response
    }
}
