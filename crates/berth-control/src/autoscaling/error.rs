//! Application Auto Scaling's failures, in its own terms; `berth-api` gives each its wire
//! `__type` (the model's error shapes).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoScalingErrorKind {
    Validation,
    /// A scalable target, policy or scheduled action that is not there.
    ObjectNotFound,
    /// TagResource and friends: an ARN that names nothing.
    ResourceNotFound,
    ConcurrentUpdate,
    LimitExceeded,
    TooManyTags,
    InvalidNextToken,
    /// The ECS service behind a target could not be changed.
    FailedResourceAccess,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AutoScalingError {
    pub kind: AutoScalingErrorKind,
    pub message: String,
}

pub type AutoScalingResult<T> = Result<T, AutoScalingError>;

impl AutoScalingError {
    pub fn new(kind: AutoScalingErrorKind, message: impl Into<String>) -> Self {
        AutoScalingError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(AutoScalingErrorKind::Validation, message)
    }

    /// AWS's wording for a member that breaks one of the model's constraints.
    pub fn constraint(field: &str, value: impl std::fmt::Display, constraint: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(AutoScalingErrorKind::ObjectNotFound, message)
    }
}

/// A member the model marks required, or that this request needs.
pub fn required<T>(value: Option<T>, field: &str) -> AutoScalingResult<T> {
    value.ok_or_else(|| AutoScalingError::validation(format!("Missing required parameter: {field}")))
}
