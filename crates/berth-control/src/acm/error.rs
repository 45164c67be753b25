//! ACM's failures, in its own terms; `berth-api` gives each its wire `__type`. Messages never
//! quote key material.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcmErrorKind {
    /// A malformed input: unreadable PEM, a key that does not match, a bad filter.
    Validation,
    InvalidArn,
    InvalidParameter,
    InvalidTag,
    TooManyTags,
    ResourceNotFound,
    /// The certificate is used by a load balancer's listener.
    ResourceInUse,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AcmError {
    pub kind: AcmErrorKind,
    pub message: String,
}

impl AcmError {
    pub fn new(kind: AcmErrorKind, message: impl Into<String>) -> Self {
        AcmError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(AcmErrorKind::Validation, message)
    }
}
