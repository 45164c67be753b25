//! EventBridge Scheduler's failures, in its own terms; `berth-api` gives each its wire code.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerErrorKind {
    Validation,
    ResourceNotFound,
    Conflict,
    ServiceQuotaExceeded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchedulerError {
    pub kind: SchedulerErrorKind,
    pub message: String,
}

impl SchedulerError {
    pub fn new(kind: SchedulerErrorKind, message: impl Into<String>) -> Self {
        SchedulerError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(SchedulerErrorKind::Validation, message)
    }

    pub fn schedule_not_found(group: &str, name: &str) -> Self {
        Self::new(SchedulerErrorKind::ResourceNotFound, format!("Schedule {name} does not exist in group {group}."))
    }

    pub fn group_not_found(group: &str) -> Self {
        Self::new(SchedulerErrorKind::ResourceNotFound, format!("Schedule group {group} does not exist."))
    }
}
