//! The one mapping from failures to ELBv2's error codes (Query's `<ErrorResponse>`).

use axum::http::StatusCode;
use berth_control::elb::{ElbError, ElbErrorKind};
use berth_control::ControlError;
use berth_query_wire::elbv2::ErrorCode;
use berth_query_wire::DecodeError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElbApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ElbApiError {
    fn client(code: &'static str, message: impl Into<String>) -> Self {
        ElbApiError { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::client("ValidationError", message)
    }

    pub fn invalid_action(action: &str) -> Self {
        Self::client("InvalidAction", format!("The action {action} is not valid for this web service."))
    }

    pub fn unsupported(action: &str) -> Self {
        Self::client(
            ErrorCode::OperationNotPermittedException.code(),
            format!("{action} is not supported by this Berth version."),
        )
    }

    fn model(code: ErrorCode, message: String) -> Self {
        ElbApiError {
            status: StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.code(),
            message,
        }
    }
}

impl From<DecodeError> for ElbApiError {
    fn from(error: DecodeError) -> Self {
        Self::validation(error.message)
    }
}

impl From<ElbError> for ElbApiError {
    fn from(error: ElbError) -> Self {
        use ElbErrorKind as Kind;
        let code = match error.kind {
            Kind::Validation => return Self::validation(error.message),
            Kind::LoadBalancerNotFound => ErrorCode::LoadBalancerNotFoundException,
            Kind::TargetGroupNotFound => ErrorCode::TargetGroupNotFoundException,
            Kind::ListenerNotFound => ErrorCode::ListenerNotFoundException,
            Kind::RuleNotFound => ErrorCode::RuleNotFoundException,
            Kind::CertificateNotFound => ErrorCode::CertificateNotFoundException,
            Kind::DuplicateLoadBalancerName => ErrorCode::DuplicateLoadBalancerNameException,
            Kind::DuplicateTargetGroupName => ErrorCode::DuplicateTargetGroupNameException,
            Kind::DuplicateListener => ErrorCode::DuplicateListenerException,
            Kind::DuplicateTagKeys => ErrorCode::DuplicateTagKeysException,
            Kind::PriorityInUse => ErrorCode::PriorityInUseException,
            Kind::InvalidConfigurationRequest => ErrorCode::InvalidConfigurationRequestException,
            Kind::InvalidTarget => ErrorCode::InvalidTargetException,
            Kind::InvalidLoadBalancerAction => ErrorCode::InvalidLoadBalancerActionException,
            Kind::IncompatibleProtocols => ErrorCode::IncompatibleProtocolsException,
            Kind::UnsupportedProtocol => ErrorCode::UnsupportedProtocolException,
            Kind::ResourceInUse => ErrorCode::ResourceInUseException,
            Kind::OperationNotPermitted => ErrorCode::OperationNotPermittedException,
            Kind::TooManyTags => ErrorCode::TooManyTagsException,
            Kind::TooManyTargets => ErrorCode::TooManyTargetsException,
            Kind::TooManyRules => ErrorCode::TooManyRulesException,
            Kind::TooManyListeners => ErrorCode::TooManyListenersException,
            Kind::TooManyLoadBalancers => ErrorCode::TooManyLoadBalancersException,
            Kind::TooManyTargetGroups => ErrorCode::TooManyTargetGroupsException,
            Kind::TargetGroupAssociationLimit => ErrorCode::TargetGroupAssociationLimitException,
            Kind::TooManyCertificates => ErrorCode::TooManyCertificatesException,
        };
        Self::model(code, error.message)
    }
}

impl From<ControlError> for ElbApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Elb(error) => error.into(),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving an ELBv2 request");
                ElbApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "InternalFailure",
                    message: "The server could not complete the request; it was not applied.".to_string(),
                }
            }
            other => Self::validation(other.to_string()),
        }
    }
}
