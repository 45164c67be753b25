//! The single error this crate returns: which ECS error type a rule maps to, and a message
//! that starts with the request field at fault ("containerDefinitions[1].memory: ...").
//!
//! The edge maps `kind` to the AWS `__type`; nothing else here knows about HTTP.

use std::fmt::Display;

/// The ECS error type a validation failure is reported as. ECS uses `ClientException` for most
/// problems with a task definition's content and `InvalidParameterException` for malformed
/// identifiers, limits and overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationErrorKind {
    InvalidParameter,
    Client,
}

impl ValidationErrorKind {
    /// The `__type` of the AWS JSON error body.
    pub fn aws_error_type(self) -> &'static str {
        match self {
            ValidationErrorKind::InvalidParameter => "InvalidParameterException",
            ValidationErrorKind::Client => "ClientException",
        }
    }
}

/// A request that ECS would reject. `message` names the field first, then says what is wrong
/// in ECS's own words where ECS has known words for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub kind: ValidationErrorKind,
    pub message: String,
}

impl ValidationError {
    pub(crate) fn client(field: impl Display, detail: impl Display) -> Self {
        Self { kind: ValidationErrorKind::Client, message: format!("{field}: {detail}") }
    }

    pub(crate) fn invalid_parameter(field: impl Display, detail: impl Display) -> Self {
        Self { kind: ValidationErrorKind::InvalidParameter, message: format!("{field}: {detail}") }
    }

    /// The `__type` of the AWS JSON error body for this error.
    pub fn aws_error_type(&self) -> &'static str {
        self.kind.aws_error_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_leads_with_the_field_and_kind_picks_the_aws_type() {
        let error =
            ValidationError::client("containerDefinitions[1].memory", "Invalid 'memory' setting for container 'web'.");
        assert_eq!(error.message, "containerDefinitions[1].memory: Invalid 'memory' setting for container 'web'.");
        assert_eq!(error.aws_error_type(), "ClientException");
        assert_eq!(ValidationError::invalid_parameter("tags", "x").aws_error_type(), "InvalidParameterException");
        assert_eq!(error.to_string(), error.message);
    }
}
