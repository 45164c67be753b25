//! CloudWatch Logs' failures, in its own terms; `berth-api` gives each its wire `__type`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogsErrorKind {
    InvalidParameter,
    ResourceNotFound,
    ResourceAlreadyExists,
    /// Refused as CloudWatch Logs' `ValidationException` (a protected group's deletion).
    Validation,
    TooManyTags,
    LimitExceeded,
    /// The log store failed; the request may be retried.
    ServiceUnavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LogsError {
    pub kind: LogsErrorKind,
    pub message: String,
}

impl LogsError {
    pub fn new(kind: LogsErrorKind, message: impl Into<String>) -> Self {
        LogsError { kind, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(LogsErrorKind::InvalidParameter, message)
    }

    pub fn group_not_found() -> Self {
        Self::new(LogsErrorKind::ResourceNotFound, "The specified log group does not exist.")
    }

    pub fn stream_not_found() -> Self {
        Self::new(LogsErrorKind::ResourceNotFound, "The specified log stream does not exist.")
    }
}

impl From<berth_log_store::LogStoreError> for LogsError {
    fn from(error: berth_log_store::LogStoreError) -> Self {
        tracing::error!(%error, "the log store failed");
        Self::new(LogsErrorKind::ServiceUnavailable, "The log store is unavailable; retry the request.")
    }
}
