//! The one mapping from failures to EventBridge's JSON error shape (`{"__type", "message"}`),
//! with the model's codes, and `ValidationException` (which EventBridge answers for malformed
//! members though its model does not list it).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_control::events::{EventsError, EventsErrorKind};
use berth_control::ControlError;
use berth_events_wire::{DecodeError, ErrorBody, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl EventsApiError {
    fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        // The model gives 400 throughout; a failure of the server's own is a 500, so SDKs retry.
        let status = if code == ErrorCode::InternalException {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
        };
        EventsApiError { status, code: code.code(), message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        EventsApiError { status: StatusCode::BAD_REQUEST, code: "ValidationException", message: message.into() }
    }

    /// An operation of the model that Berth does not serve (archives, replays, connections,
    /// API destinations, endpoints, partner sources, custom buses).
    pub fn unsupported(operation: &str) -> Self {
        Self::validation(format!(
            "{operation} is not supported by this Berth version: Berth's EventBridge serves rules, targets and events on the default event bus."
        ))
    }

    pub fn unknown_operation(target: &str) -> Self {
        EventsApiError {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!("Unknown operation: {target}"),
        }
    }

    pub fn internal() -> Self {
        Self::model(
            ErrorCode::InternalException,
            "The server could not complete the request; it may not have been applied.",
        )
    }
}

impl From<DecodeError> for EventsApiError {
    fn from(error: DecodeError) -> Self {
        if error.message.starts_with("Request body is not valid JSON") {
            EventsApiError { status: StatusCode::BAD_REQUEST, code: "SerializationException", message: error.message }
        } else {
            Self::validation(error.message)
        }
    }
}

impl From<EventsError> for EventsApiError {
    fn from(error: EventsError) -> Self {
        let code = match error.kind {
            EventsErrorKind::Validation => return Self::validation(error.message),
            EventsErrorKind::ResourceNotFound => ErrorCode::ResourceNotFoundException,
            EventsErrorKind::InvalidEventPattern => ErrorCode::InvalidEventPatternException,
            EventsErrorKind::LimitExceeded => ErrorCode::LimitExceededException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for EventsApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Events(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving an EventBridge request");
                Self::internal()
            }
            other => Self::validation(other.to_string()),
        }
    }
}

impl IntoResponse for EventsApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error_type: self.code.to_string(), message: self.message, resource_ids: None };
        let json = serde_json::to_vec(&body).expect("error bodies always serialise");
        (self.status, [(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], json).into_response()
    }
}
