//! The control plane's error type. Every variant corresponds to an ECS exception; the edge maps
//! them to the AWS error shape in one place.

use berth_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("Cluster not found.")]
    ClusterNotFound,
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Client(String),
    #[error("The cluster cannot be deleted while container instances are active or draining.")]
    ClusterContainsContainerInstances,
    #[error("The cluster cannot be deleted while tasks are active.")]
    ClusterContainsTasks,
    #[error("{message}")]
    Conflict { message: String, resource_ids: Vec<String> },
    #[error("The specified resource could not be found.")]
    ResourceNotFound,
    #[error("{0}")]
    TargetNotFound(String),
    #[error("{0}")]
    AttributeLimitExceeded(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("Service not found.")]
    ServiceNotFound,
    #[error("{0}")]
    ServiceNotActive(String),
    #[error("The specified task set could not be found.")]
    TaskSetNotFound,
    #[error("{0}")]
    LimitExceeded(String),
    #[error("The service deployment was not found.")]
    ServiceDeploymentNotFound,
    #[error("The cluster cannot be deleted while services are active.")]
    ClusterContainsServices,
    #[error("{0}")]
    TargetNotConnected(String),
    #[error("Daemon not found.")]
    DaemonNotFound,
    #[error("{0}")]
    DaemonNotActive(String),
    #[error("The specified gateway was not found.")]
    GatewayNotFound,
    /// ELBv2's own failures, with ELBv2's codes.
    #[error(transparent)]
    Elb(#[from] crate::elb::ElbError),
    /// ACM's own failures, with ACM's codes.
    #[error(transparent)]
    Acm(#[from] crate::acm::AcmError),
    /// CloudWatch Logs' own failures, with its codes.
    #[error(transparent)]
    Logs(#[from] crate::logs::LogsError),
    #[error(transparent)]
    Events(#[from] crate::events::EventsError),
    /// CloudWatch's own failures (metrics and alarms), with its codes.
    #[error(transparent)]
    Metrics(#[from] crate::cloudwatch::MetricsError),
    /// Application Auto Scaling's own failures, with its codes.
    #[error(transparent)]
    AutoScaling(#[from] crate::autoscaling::AutoScalingError),
    /// EventBridge Scheduler's own failures, with its codes.
    #[error(transparent)]
    Scheduler(#[from] crate::schedules::SchedulerError),
    #[error("internal storage failure: {0}")]
    Store(#[from] StoreError),
}

pub type ControlResult<T> = Result<T, ControlError>;
