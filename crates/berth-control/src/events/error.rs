//! EventBridge's failures, in its own terms; `berth-api` gives each its wire `__type`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsErrorKind {
    /// The model's `ValidationException` (a malformed member).
    Validation,
    ResourceNotFound,
    InvalidEventPattern,
    LimitExceeded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EventsError {
    pub kind: EventsErrorKind,
    pub message: String,
}

impl EventsError {
    pub fn new(kind: EventsErrorKind, message: impl Into<String>) -> Self {
        EventsError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(EventsErrorKind::Validation, message)
    }

    pub fn rule_not_found(name: &str) -> Self {
        Self::new(EventsErrorKind::ResourceNotFound, format!("Rule {name} does not exist on EventBus default."))
    }
}
