//! What the planner reads: the service as the user configured it, its tasks, and the container
//! instances they run on, gathered by the control plane into one immutable [`Snapshot`].
//!
//! Invariant: nothing here is derived. Every field is either the user's configuration or an
//! observation the control plane already holds; the planner computes everything else.
//! Not here: the planner's own memory between passes (see `progress`).

use crate::progress::{DeploymentId, ServiceProgress};
use berth_types::{
    ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, HealthStatus, ServiceName, TaskDefinitionFamily,
    TaskId, TaskStatus, TaskStopCode, Timestamp,
};
use std::fmt;
use std::time::Duration;

/// `schedulingStrategy`: keep a count of tasks, or one task per eligible instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulingStrategy {
    Replica,
    Daemon,
}

/// How the circuit breaker turns a desired count into a number of failed tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureThreshold {
    /// Exactly this many failures (at least one).
    Count(u32),
    /// `clamp(ceil(percent × desired), 3, 200)`: ECS's default with 50.
    BoundedPercent(u32),
    /// `ceil(percent × desired)`, at least one.
    UnboundedPercent(u32),
}

/// `deploymentCircuitBreaker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreaker {
    pub enable: bool,
    pub rollback: bool,
    pub threshold: FailureThreshold,
    /// True: failures must be consecutive (a healthy task resets the count). False: cumulative.
    pub reset_on_healthy_task: bool,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            enable: false,
            rollback: false,
            threshold: FailureThreshold::BoundedPercent(50),
            reset_on_healthy_task: true,
        }
    }
}

/// `deploymentConfiguration.alarms` as the planner needs it: whether an alarm in ALARM fails
/// the deployment, and whether that failure rolls back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlarmRollback {
    pub enable: bool,
    pub rollback: bool,
}

/// `deploymentConfiguration`: the bounds a deployment moves within, and its circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentConfiguration {
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub circuit_breaker: CircuitBreaker,
    pub alarms: AlarmRollback,
}

impl DeploymentConfiguration {
    /// ECS's defaults: 100/200 for REPLICA, 0/100 for DAEMON.
    pub fn defaults_for(strategy: SchedulingStrategy) -> Self {
        let (minimum_healthy_percent, maximum_percent) = match strategy {
            SchedulingStrategy::Replica => (100, 200),
            SchedulingStrategy::Daemon => (0, 100),
        };
        DeploymentConfiguration {
            minimum_healthy_percent,
            maximum_percent,
            circuit_breaker: CircuitBreaker::default(),
            alarms: AlarmRollback::default(),
        }
    }
}

/// The service as the user configured it. The planner never changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: ServiceName,
    /// Ignored for DAEMON, whose desired count is the number of eligible instances.
    pub desired_count: u32,
    pub scheduling_strategy: SchedulingStrategy,
    pub deployment_configuration: DeploymentConfiguration,
    /// `healthCheckGracePeriodSeconds`: UNHEALTHY is ignored this long after RUNNING.
    pub health_check_grace_period: Duration,
    /// `None` for the ECS deployment controller (the planner runs the deployments). For the
    /// EXTERNAL controller, the task sets the user created: each keeps its own count of tasks,
    /// and the planner neither starts deployments nor retires one task set for another.
    pub task_sets: Option<Vec<TaskSetTarget>>,
    /// Blue/green, linear and canary deployments: the PRIMARY starts its whole count at once
    /// (beside the older deployments, whatever `maximumPercent` says), and the older
    /// deployments' tasks stay until the control plane has shifted the traffic and baked.
    pub hold_previous: bool,
    /// A lifecycle hook holds the deployment before it scales up: nothing is launched.
    pub hold_launches: bool,
}

/// One task set of an EXTERNAL service: its tasks carry its ID as their deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSetTarget {
    pub id: DeploymentId,
    pub task_definition: TaskDefinitionKey,
    /// `computedDesiredCount`: zero for a DRAINING task set.
    pub desired_count: u32,
}

/// A task definition revision, `family:revision`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct TaskDefinitionKey {
    pub family: TaskDefinitionFamily,
    pub revision: u32,
}

impl fmt::Display for TaskDefinitionKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.family, self.revision)
    }
}

/// One task of the service, live or stopped (stopped tasks must stay in the snapshot until
/// a pass has seen them STOPPED, or their failure goes uncounted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    pub id: TaskId,
    /// The deployment that started it (`startedBy`).
    pub deployment: DeploymentId,
    pub instance: ContainerInstanceId,
    pub last_status: TaskStatus,
    pub desired_status: DesiredStatus,
    /// When the task first reached RUNNING; `None` means it never did.
    pub started_at: Option<Timestamp>,
    /// Aggregate over essential containers.
    pub health: HealthStatus,
    /// Whether any essential container defines a health check.
    pub has_health_check: bool,
    pub stop_code: Option<TaskStopCode>,
    pub stopped_reason: Option<String>,
    /// Scale-in protection (UpdateTaskProtection) holds until this instant; `None` when not
    /// protected. Scale-in and deployments do not stop the task before then.
    pub protected_until: Option<Timestamp>,
    /// The task's health in its service's target groups; `None` when the service has no load
    /// balancer (then a task without container health checks is healthy once it has settled).
    pub load_balancer_health: Option<LoadBalancerHealth>,
}

/// A task's targets taken together: unhealthy if any is, healthy once all are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadBalancerHealth {
    /// Not registered yet, or its health checks have not decided.
    Initial,
    Healthy,
    Unhealthy(UnhealthyTarget),
}

/// The target that failed, as ECS's event names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnhealthyTarget {
    pub target_group_arn: String,
    pub target_id: String,
    pub port: u16,
    /// ALB's description, e.g. "Health checks failed with these codes: [500]".
    pub reason: String,
}

/// A container instance the service's tasks run on (REPLICA), or any instance of the cluster
/// (DAEMON). An instance a task names but the snapshot lacks counts as ACTIVE and connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    pub id: ContainerInstanceId,
    pub status: ContainerInstanceStatus,
    pub agent_connected: bool,
    /// The agent has been gone longer than the control plane's lost-after interval: its tasks
    /// count as gone and are replaced. A disconnected instance that is not lost is left alone.
    pub lost: bool,
    /// Whether the service's placement constraints allow this instance.
    pub satisfies_constraints: bool,
}

/// Tunables that ECS fixes but tests need small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerSettings {
    /// A RUNNING task without container health checks counts as healthy after this long
    /// (ECS: 40 s for services without a load balancer).
    pub healthy_after_running: Duration,
    /// The throttle's first launch delay; it doubles per consecutive failure to start.
    pub throttle_initial_delay: Duration,
    /// The throttle's ceiling (ECS documents 27 minutes).
    pub throttle_max_delay: Duration,
    /// A steady service repeats its steady-state event this often (ECS: about 6 hours).
    pub steady_state_event_interval: Duration,
    /// The same placement failure is reported at most this often.
    pub placement_failure_event_interval: Duration,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings {
            healthy_after_running: Duration::from_secs(40),
            throttle_initial_delay: Duration::from_secs(10),
            throttle_max_delay: Duration::from_secs(27 * 60),
            steady_state_event_interval: Duration::from_secs(6 * 60 * 60),
            placement_failure_event_interval: Duration::from_secs(5 * 60),
        }
    }
}

/// Everything one pass reads. The control plane builds it fresh on every activation.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub service: ServiceSpec,
    /// The planner's memory, as returned by the previous pass (or `begin_deployment`).
    pub progress: ServiceProgress,
    pub tasks: Vec<TaskView>,
    pub instances: Vec<InstanceView>,
    /// Why the control plane could not place the tasks the previous plan asked for, if it
    /// could not (ECS's "no container instance met all of its requirements" detail).
    pub placement_failure: Option<String>,
    /// The deployment alarms (`deploymentConfiguration.alarms.alarmNames`) now in ALARM, with
    /// when each went into it, as CloudWatch holds them.
    pub alarms_in_alarm: Vec<(String, Timestamp)>,
    pub now: Timestamp,
    /// Seeds the IDs of tasks and rollback deployments the plan creates.
    pub seed: u64,
    pub settings: PlannerSettings,
}
