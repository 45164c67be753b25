//! ELBv2's failures, in its own terms; `berth-api` gives each its wire `Code`.

/// Which ELBv2 error this is (the model's exception shapes, by their meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElbErrorKind {
    Validation,
    LoadBalancerNotFound,
    TargetGroupNotFound,
    ListenerNotFound,
    RuleNotFound,
    CertificateNotFound,
    DuplicateLoadBalancerName,
    DuplicateTargetGroupName,
    DuplicateListener,
    DuplicateTagKeys,
    PriorityInUse,
    InvalidConfigurationRequest,
    InvalidTarget,
    InvalidLoadBalancerAction,
    IncompatibleProtocols,
    UnsupportedProtocol,
    ResourceInUse,
    OperationNotPermitted,
    TooManyTags,
    TooManyTargets,
    TooManyRules,
    TooManyListeners,
    TooManyLoadBalancers,
    TooManyTargetGroups,
    TargetGroupAssociationLimit,
    TooManyCertificates,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ElbError {
    pub kind: ElbErrorKind,
    pub message: String,
}

impl ElbError {
    pub fn new(kind: ElbErrorKind, message: impl Into<String>) -> Self {
        ElbError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ElbErrorKind::Validation, message)
    }

    pub fn invalid_configuration(message: impl Into<String>) -> Self {
        Self::new(ElbErrorKind::InvalidConfigurationRequest, message)
    }
}
