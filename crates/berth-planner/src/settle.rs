//! The end of a pass: deployment counts and statuses, rollout completion, the steady state,
//! and the events that summarise the pass, assembled into the [`Plan`].
//!
//! Invariant: a deployment other than the PRIMARY becomes INACTIVE only when none of its
//! tasks occupies a slot; the PRIMARY completes only when it alone has tasks and exactly the
//! desired number of them serve, all healthy. Of INACTIVE deployments only the newest
//! COMPLETED one is kept, as the circuit breaker's rollback target. An EXTERNAL service has no
//! deployments: it is steady when every task set holds its count (`external`).

use crate::events::ServiceEvent;
use crate::model::SchedulingStrategy;
use crate::pass::Pass;
use crate::plan::{Plan, StopReason};
use crate::progress::{DeploymentStatus, RolloutState};
use berth_types::TaskStatus;
use std::collections::HashMap;

#[derive(Default)]
struct Counts {
    running: u32,
    pending: u32,
    live: u32,
    occupying: u32,
}

pub(crate) fn finish(mut pass: Pass) -> Plan {
    let now = pass.now();
    let mut counts: HashMap<&str, Counts> = HashMap::new();
    for task in pass.tasks.iter().filter(|task| task.occupies()) {
        let entry = counts.entry(task.task.deployment.as_str()).or_default();
        entry.occupying += 1;
        if task.task.last_status == TaskStatus::Running {
            entry.running += 1;
        } else if task.task.last_status < TaskStatus::Running {
            entry.pending += 1;
        }
        if task.is_live() {
            entry.live += 1;
        }
    }
    let desired_count = pass.desired_count;
    for deployment in &mut pass.progress.deployments {
        let counted = counts.get(deployment.id.as_str());
        let (running, pending, live, occupying) =
            counted.map_or((0, 0, 0, 0), |c| (c.running, c.pending, c.live, c.occupying));
        let desired = if deployment.status == DeploymentStatus::Primary { desired_count } else { live };
        let status = if deployment.status == DeploymentStatus::Active && occupying == 0 {
            DeploymentStatus::Inactive
        } else {
            deployment.status
        };
        let changed = (deployment.running_count, deployment.pending_count, deployment.desired_count, deployment.status)
            != (running, pending, desired, status);
        if changed {
            deployment.running_count = running;
            deployment.pending_count = pending;
            deployment.desired_count = desired;
            deployment.status = status;
            deployment.updated_at = now;
        }
    }

    let others_have_tasks = pass.tasks.iter().any(|task| task.occupies() && !pass.is_primary_task(task));
    let is_daemon = pass.snapshot.service.scheduling_strategy == SchedulingStrategy::Daemon;
    // A PRIMARY task still stopping, starting, or (REPLICA) on a draining instance holds the
    // rollout back; on a disconnected DAEMON instance it occupies without serving and does not.
    let primary_unsettled = pass.tasks.iter().any(|task| {
        task.occupies()
            && pass.is_primary_task(task)
            && (!task.is_live() || (pass.serves(task) && !task.is_healthy()) || (!is_daemon && !pass.serves(task)))
    });
    let primary_serving_healthy =
        pass.tasks.iter().filter(|task| task.is_healthy() && pass.is_primary_task(task) && pass.serves(task)).count();
    let settled = pass.external_settled.unwrap_or(
        !others_have_tasks
            && !primary_unsettled
            && primary_serving_healthy == desired_count as usize
            && pass.stops.is_empty()
            && pass.launches.is_empty(),
    );
    if settled {
        if let Some(primary) = pass.primary_mut() {
            if primary.rollout_state == RolloutState::InProgress {
                primary.rollout_state = RolloutState::Completed;
                primary.rollout_state_reason = format!("ECS deployment {} completed.", primary.id);
                primary.updated_at = now;
                let id = primary.id.clone();
                pass.events.push(ServiceEvent::DeploymentCompleted(id));
            }
        }
    }
    prune_inactive(&mut pass);

    // Summaries of this pass's own actions.
    let (mut stopped_running, mut stopped_pending) = (Vec::new(), Vec::new());
    // Stops of a lost instance's tasks have their own event (`lost`).
    for stop in pass.stops.iter().filter(|stop| stop.reason != StopReason::InstanceLost) {
        let was_running = pass
            .tasks
            .iter()
            .find(|task| task.task.id == stop.task_id)
            .is_some_and(|task| task.task.last_status >= TaskStatus::Running);
        if was_running {
            stopped_running.push(stop.task_id.clone());
        } else {
            stopped_pending.push(stop.task_id.clone());
        }
    }
    if !stopped_running.is_empty() {
        pass.events.push(ServiceEvent::StoppedRunningTasks(stopped_running));
    }
    if !stopped_pending.is_empty() {
        pass.events.push(ServiceEvent::StoppedPendingTasks(stopped_pending));
    }
    if !pass.launches.is_empty() {
        let started = pass.launches.iter().map(|launch| launch.task_id.clone()).collect();
        pass.events.push(ServiceEvent::StartedTasks(started));
    }

    report_placement_failure(&mut pass);
    report_throttle(&mut pass);
    crate::protection::report(&mut pass);

    // EXTERNAL: no deployments, only task sets holding their counts.
    let external = pass.external_settled.is_some();
    let steady = settled
        && (external
            || (pass.progress.deployments.iter().filter(|d| d.status != DeploymentStatus::Inactive).count() == 1
                && pass.primary().is_some_and(|primary| primary.rollout_state == RolloutState::Completed)));
    if steady {
        let interval = pass.snapshot.settings.steady_state_event_interval;
        let due = match pass.progress.last_steady_state_event_at {
            Some(at) if pass.progress.steady => now >= at.plus(interval),
            _ => true,
        };
        if due {
            pass.events.push(ServiceEvent::SteadyState);
            pass.progress.last_steady_state_event_at = Some(now);
        }
        if let Some(at) = pass.progress.last_steady_state_event_at {
            pass.wake(at.plus(interval));
        }
    }
    pass.progress.steady = steady;
    pass.progress.revision += 1;
    let task_sets = match &pass.snapshot.service.task_sets {
        Some(targets) => targets.iter().map(|target| crate::external::task_set_progress(&pass, target)).collect(),
        None => Vec::new(),
    };

    Plan {
        progress: pass.progress,
        desired_count,
        launches: pass.launches,
        stops: pass.stops,
        events: pass.events,
        steady,
        launches_throttled_until: pass.launches_throttled_until,
        wake_at: pass.wake_at,
        task_sets,
    }
}

fn prune_inactive(pass: &mut Pass) {
    let keep = pass
        .progress
        .deployments
        .iter()
        .filter(|d| d.status == DeploymentStatus::Inactive && d.rollout_state == RolloutState::Completed)
        .max_by_key(|d| d.created_at)
        .map(|d| d.id.clone());
    pass.progress.deployments.retain(|d| d.status != DeploymentStatus::Inactive || Some(&d.id) == keep.as_ref());
}

fn report_placement_failure(pass: &mut Pass) {
    let now = pass.now();
    let Some(reason) = pass.snapshot.placement_failure.clone() else {
        pass.progress.last_placement_failure_event = None;
        return;
    };
    let interval = pass.snapshot.settings.placement_failure_event_interval;
    let due = match &pass.progress.last_placement_failure_event {
        Some((last_reason, at)) => *last_reason != reason || now >= at.plus(interval),
        None => true,
    };
    if due {
        pass.events.push(ServiceEvent::UnableToPlace { reason: reason.clone() });
        pass.progress.last_placement_failure_event = Some((reason, now));
    }
}

fn report_throttle(pass: &mut Pass) {
    let now = pass.now();
    let throttle = &mut pass.progress.throttle;
    let holding = throttle.next_launch_at.is_some_and(|at| at > now);
    if holding && !throttle.reported {
        throttle.reported = true;
        pass.events.push(ServiceEvent::UnableToConsistentlyStartTasks);
    }
}
