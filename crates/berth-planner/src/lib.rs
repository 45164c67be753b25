//! The service planner: given one service and the world around it, decide what a single
//! reconciler pass should do — which tasks to start and stop, how its deployments move, what
//! events to tell — and return that as a [`Plan`] with no choices left.
//!
//! The control plane calls [`plan`] on every activation with a fresh [`Snapshot`] (service
//! configuration, the progress the previous plan returned, the service's tasks including
//! recently STOPPED ones, the relevant container instances, `now` and a seed), then executes
//! the plan: store `plan.progress`, create the launches (placing them unless an instance is
//! named), set the stops' tasks to desired STOPPED with the given reason and code, record the
//! events, and schedule the next pass by `wake_at` or any task change.
//!
//! Invariant: pure and deterministic — no I/O, no clock, no global randomness; the same
//! snapshot gives the same plan. Each pass re-reads the world and takes no hints; the notes in
//! the progress exist only so that a failure or recovery is never counted twice.
//!
//! Load balancers enter only as each task's health in its target groups
//! (`TaskView::load_balancer_health`): registering, draining and the health checks themselves
//! are the control plane's and the proxy's. CloudWatch alarms enter only as the deployment
//! alarms now in ALARM (`Snapshot::alarms_in_alarm`). Deliberately not here: placement
//! (berth-scheduler), the CODE_DEPLOY controller and blue/green strategies, and service auto scaling. The EXTERNAL
//! controller's task sets are kept at their counts (`external`); moving scale between them is
//! the user's.

#![forbid(unsafe_code)]

mod bounds;
mod breaker;
mod classify;
mod daemon;
mod events;
mod external;
mod lost;
mod model;
mod observe;
mod pass;
mod plan;
mod progress;
mod protection;
mod replica;
mod selection;
mod settle;
pub mod simulation;

pub use bounds::{circuit_breaker_threshold, Bounds};
pub use breaker::DEPLOYMENT_ALARMS;
pub use events::ServiceEvent;
pub use model::{
    AlarmRollback, CircuitBreaker, DeploymentConfiguration, FailureThreshold, InstanceView, LoadBalancerHealth,
    PlannerSettings, SchedulingStrategy, ServiceSpec, Snapshot, TaskDefinitionKey, TaskSetTarget, TaskView,
    UnhealthyTarget,
};
pub use observe::throttle_delay;
pub use plan::{Launch, Plan, Stop, StopReason, TaskSetProgress};
pub use progress::{
    begin_deployment, begin_rollback, Deployment, DeploymentId, DeploymentStatus, RolloutState, ServiceProgress,
    TaskNote, Throttle,
};

/// Plans one pass over one service.
pub fn plan(snapshot: &Snapshot) -> Plan {
    pass::run(snapshot)
}
