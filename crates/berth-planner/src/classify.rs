//! One task as a pass sees it: still there or gone, pending or healthy, and where it runs.
//!
//! Invariant: classification depends only on the snapshot (task, instance, settings, now);
//! what earlier passes concluded lives in the progress notes, not here.

use crate::model::{InstanceView, LoadBalancerHealth, Snapshot, TaskView, UnhealthyTarget};
use berth_types::{ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, HealthStatus, TaskStatus, Timestamp};
use std::collections::HashMap;

/// Whether a task still occupies a slot of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// STOPPED, or on a lost instance: it counts for nothing.
    Gone,
    /// Asked to stop, or already on its way down: occupies a slot, serves nothing.
    Stopping,
    /// Desired RUNNING and not yet past RUNNING.
    Live,
}

/// How far a live task has come (`Pending` for tasks that are not live).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Readiness {
    /// Not RUNNING yet.
    Pending,
    /// RUNNING, not yet healthy (settling, health UNKNOWN, or UNHEALTHY within the grace).
    Starting,
    Healthy,
    /// UNHEALTHY after the grace period: to be stopped and replaced.
    Unhealthy,
}

pub(crate) struct TaskState<'a> {
    pub task: &'a TaskView,
    pub presence: Presence,
    pub readiness: Readiness,
    pub on_draining_instance: bool,
    pub on_lost_instance: bool,
    /// Live and under scale-in protection now: neither scale-in nor a deployment stops it.
    pub protected: bool,
    /// Set by this pass when it asks the task to stop.
    pub stop_requested: bool,
    /// When `Unhealthy` by its load balancer's checks (not its containers'): the target.
    pub failed_target: Option<&'a UnhealthyTarget>,
}

impl TaskState<'_> {
    pub fn is_live(&self) -> bool {
        self.presence == Presence::Live && !self.stop_requested
    }

    pub fn occupies(&self) -> bool {
        self.presence != Presence::Gone
    }

    /// Live and RUNNING: settling or healthy. What the deployment floor counts.
    pub fn is_running(&self) -> bool {
        self.is_live() && matches!(self.readiness, Readiness::Starting | Readiness::Healthy)
    }

    pub fn is_healthy(&self) -> bool {
        self.is_live() && self.readiness == Readiness::Healthy
    }
}

pub(crate) struct Classification<'a> {
    pub tasks: Vec<TaskState<'a>>,
    /// The earliest future instant at which some task's readiness changes by time alone.
    pub next_change_at: Option<Timestamp>,
}

pub(crate) fn instance_index(instances: &[InstanceView]) -> HashMap<&ContainerInstanceId, &InstanceView> {
    instances.iter().map(|instance| (&instance.id, instance)).collect()
}

pub(crate) fn classify<'a>(
    snapshot: &'a Snapshot,
    instances: &HashMap<&ContainerInstanceId, &InstanceView>,
) -> Classification<'a> {
    let mut next_change_at: Option<Timestamp> = None;
    let mut note_change = |at: Timestamp| {
        if at > snapshot.now {
            next_change_at = Some(next_change_at.map_or(at, |earliest| earliest.min(at)));
        }
    };
    let tasks = snapshot
        .tasks
        .iter()
        .map(|task| {
            let instance = instances.get(&task.instance);
            let on_lost_instance = instance.is_some_and(|instance| instance.lost);
            let on_draining_instance =
                instance.is_some_and(|instance| instance.status == ContainerInstanceStatus::Draining);
            let presence = if task.last_status == TaskStatus::Stopped || on_lost_instance {
                Presence::Gone
            } else if task.desired_status == DesiredStatus::Stopped || task.last_status > TaskStatus::Running {
                Presence::Stopping
            } else {
                Presence::Live
            };
            // Readiness means something only for a task that may still serve; computing it
            // for the others would also report bogus settle times.
            let (readiness, failed_target) = if presence == Presence::Live {
                readiness(snapshot, task, &mut note_change)
            } else {
                (Readiness::Pending, None)
            };
            // The pass must run again when protection ends, or the stop it holds back waits
            // for an unrelated change.
            let protected = presence == Presence::Live
                && task.protected_until.is_some_and(|until| {
                    note_change(until);
                    until > snapshot.now
                });
            TaskState {
                task,
                presence,
                readiness,
                on_draining_instance,
                on_lost_instance,
                protected,
                stop_requested: false,
                failed_target,
            }
        })
        .collect();
    Classification { tasks, next_change_at }
}

/// How far a RUNNING task has come. Its containers' health checks and, when the service has
/// a load balancer, its targets' health must both pass; unhealthy counts only after the grace
/// period. With a load balancer the targets' checks stand in for the settle time.
fn readiness<'a>(
    snapshot: &Snapshot,
    task: &'a TaskView,
    note_change: &mut impl FnMut(Timestamp),
) -> (Readiness, Option<&'a UnhealthyTarget>) {
    if task.last_status < TaskStatus::Running {
        return (Readiness::Pending, None);
    }
    // A task reported RUNNING without a start time is treated as having just started.
    let started_at = task.started_at.unwrap_or(snapshot.now);
    let grace_ends = started_at.plus(snapshot.service.health_check_grace_period);
    let past_grace = snapshot.now >= grace_ends;
    let unhealthy = task.health == HealthStatus::Unhealthy && task.has_health_check
        || matches!(task.load_balancer_health, Some(LoadBalancerHealth::Unhealthy(_)));
    if unhealthy && !past_grace {
        note_change(grace_ends);
    }
    let containers = if task.has_health_check {
        match task.health {
            HealthStatus::Healthy => Readiness::Healthy,
            HealthStatus::Unknown => Readiness::Starting,
            HealthStatus::Unhealthy if past_grace => Readiness::Unhealthy,
            HealthStatus::Unhealthy => Readiness::Starting,
        }
    } else if task.load_balancer_health.is_some() {
        Readiness::Healthy
    } else {
        let settled_at = started_at.plus(snapshot.settings.healthy_after_running);
        if snapshot.now >= settled_at {
            Readiness::Healthy
        } else {
            note_change(settled_at);
            Readiness::Starting
        }
    };
    match &task.load_balancer_health {
        _ if containers == Readiness::Unhealthy => (Readiness::Unhealthy, None),
        None | Some(LoadBalancerHealth::Healthy) => (containers, None),
        Some(LoadBalancerHealth::Initial) => (Readiness::Starting, None),
        Some(LoadBalancerHealth::Unhealthy(target)) if past_grace => (Readiness::Unhealthy, Some(target)),
        Some(LoadBalancerHealth::Unhealthy(_)) => (Readiness::Starting, None),
    }
}
