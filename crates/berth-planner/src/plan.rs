//! The plan one pass returns: what to launch, what to stop, what to store, what to say.
//!
//! Invariant: no choices are left. Task IDs are chosen, reasons are worded, the successor
//! progress is complete; executing a plan is mechanical. `render` gives a stable text form
//! for snapshot tests and logs.

use crate::events::ServiceEvent;
use crate::model::TaskDefinitionKey;
use crate::progress::{DeploymentId, ServiceProgress};
use berth_types::{ContainerInstanceId, ServiceName, TaskId, TaskStopCode, Timestamp};
use std::fmt::Write;

/// A request to start one task. Placement is the control plane's job unless `instance` names
/// the host (DAEMON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub task_id: TaskId,
    pub deployment: DeploymentId,
    pub task_definition: TaskDefinitionKey,
    pub instance: Option<ContainerInstanceId>,
}

/// Why the planner stops a task; every one is `ServiceSchedulerInitiated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    FailedHealthChecks,
    /// Its target in this group stayed unhealthy past the health check grace period.
    FailedElbHealthChecks {
        target_group_arn: String,
    },
    /// Scale-down or a rolling update, initiated by the PRIMARY deployment.
    Scaling {
        deployment: DeploymentId,
    },
    InstanceDraining,
    /// DAEMON: the instance no longer satisfies the placement constraints.
    InstanceIneligible,
    /// A copy that was replaced while its instance was lost and has come back (tasks stopped
    /// before `InstanceLost` existed).
    ReplacedWhileLost,
    /// Its instance's agent has been away past the lost-after interval; it is replaced
    /// elsewhere, and the returning agent stops it.
    InstanceLost,
}

impl StopReason {
    /// The `stoppedReason` of a task stopped because its instance was lost. Such a task may
    /// still be RUNNING on the unreachable host, but no longer counts as the service's.
    pub const INSTANCE_LOST: &'static str =
        "Container instance was lost (its agent stopped reporting); the task was replaced on another instance";

    /// The task's `stoppedReason`.
    pub fn text(&self) -> String {
        match self {
            StopReason::FailedHealthChecks => "Task failed container health checks".to_string(),
            StopReason::FailedElbHealthChecks { target_group_arn } => {
                format!("Task failed ELB health checks in (target-group {target_group_arn})")
            }
            StopReason::Scaling { deployment } => {
                format!("Scaling activity initiated by (deployment {deployment})")
            }
            StopReason::InstanceDraining => "Container instance is draining".to_string(),
            StopReason::InstanceIneligible => {
                "Container instance no longer satisfies the service's placement constraints".to_string()
            }
            StopReason::ReplacedWhileLost => "Task was replaced while its container instance was lost".to_string(),
            StopReason::InstanceLost => Self::INSTANCE_LOST.to_string(),
        }
    }

    /// Stopped for failing its container's or its load balancer's health checks.
    pub fn is_failed_health_checks(&self) -> bool {
        matches!(self, StopReason::FailedHealthChecks | StopReason::FailedElbHealthChecks { .. })
    }

    /// The task's `stopCode`.
    pub fn code(&self) -> TaskStopCode {
        TaskStopCode::ServiceSchedulerInitiated
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub task_id: TaskId,
    pub reason: StopReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Store this in place of the snapshot's progress.
    pub progress: ServiceProgress,
    /// The service's `desiredCount` to report (for DAEMON, the eligible instances).
    pub desired_count: u32,
    pub launches: Vec<Launch>,
    pub stops: Vec<Stop>,
    /// New events, oldest first.
    pub events: Vec<ServiceEvent>,
    /// The service is steady: one COMPLETED deployment with all desired tasks healthy.
    pub steady: bool,
    /// Launches were wanted but the throttle holds them until then.
    pub launches_throttled_until: Option<Timestamp>,
    /// Run the next pass by then even if nothing changes (settle time, grace period,
    /// throttle, steady-state repeat). Any task change should also trigger a pass.
    pub wake_at: Option<Timestamp>,
    /// EXTERNAL only: each task set's counts and stability after this pass.
    pub task_sets: Vec<TaskSetProgress>,
}

/// One EXTERNAL task set after a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSetProgress {
    pub id: DeploymentId,
    pub running_count: u32,
    pub pending_count: u32,
    /// Tasks not yet STOPPED: a DRAINING task set is gone once this is zero.
    pub occupying: u32,
    /// `stabilityStatus` STEADY_STATE: its count RUNNING and healthy, nothing pending or stopping.
    pub steady: bool,
}

impl Plan {
    /// Event sentences to record, keeping only the started tasks `placed` accepts.
    pub fn event_messages(&self, service: &ServiceName, placed: impl Fn(&TaskId) -> bool) -> Vec<String> {
        let mut messages = Vec::with_capacity(self.events.len());
        for event in &self.events {
            match event {
                ServiceEvent::StartedTasks(tasks) => {
                    let kept: Vec<TaskId> = tasks.iter().filter(|id| placed(id)).cloned().collect();
                    if !kept.is_empty() {
                        messages.push(ServiceEvent::StartedTasks(kept).message(service));
                    }
                }
                other => messages.push(other.message(service)),
            }
        }
        messages
    }

    /// Stable text for snapshot tests: deployments, launches grouped by deployment, stops,
    /// events, flags.
    pub fn render(&self, service: &ServiceName) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "desired {}", self.desired_count);
        for deployment in &self.progress.deployments {
            let _ = writeln!(
                out,
                "deployment {} {} {} {} desired={} running={} pending={} failed={}{} reason={:?}",
                deployment.id,
                deployment.status.as_str(),
                deployment.task_definition,
                deployment.rollout_state.as_str(),
                deployment.desired_count,
                deployment.running_count,
                deployment.pending_count,
                deployment.failed_tasks,
                if deployment.rollback_of.is_some() { " rollback" } else { "" },
                deployment.rollout_state_reason,
            );
        }
        let mut index = 0;
        while index < self.launches.len() {
            let first = &self.launches[index];
            let group: Vec<&Launch> =
                self.launches[index..].iter().take_while(|launch| launch.deployment == first.deployment).collect();
            let _ = write!(out, "start {} for {}:", group.len(), first.deployment);
            for launch in &group {
                match &launch.instance {
                    Some(instance) => {
                        let _ = write!(out, " {}@{}", launch.task_id, instance);
                    }
                    None => {
                        let _ = write!(out, " {}", launch.task_id);
                    }
                }
            }
            out.push('\n');
            index += group.len();
        }
        for stop in &self.stops {
            let _ = writeln!(out, "stop {} ({})", stop.task_id, stop.reason.text());
        }
        for event in &self.events {
            let _ = writeln!(out, "event {}", event.message(service));
        }
        let throttle = &self.progress.throttle;
        if throttle.consecutive_start_failures > 0 {
            let _ = writeln!(
                out,
                "throttle failures={} next_launch_at={:?}",
                throttle.consecutive_start_failures,
                throttle.next_launch_at.map(|at| at.0)
            );
        }
        if let Some(until) = self.launches_throttled_until {
            let _ = writeln!(out, "launches wait until {}", until.0);
        }
        for set in &self.task_sets {
            let _ = writeln!(
                out,
                "task set {} running={} pending={} occupying={} steady={}",
                set.id, set.running_count, set.pending_count, set.occupying, set.steady
            );
        }
        let _ = writeln!(out, "steady {} wake_at {:?}", self.steady, self.wake_at.map(|at| at.0));
        out
    }
}
