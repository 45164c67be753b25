//! Accounting for what happened since the previous pass: tasks that became healthy, tasks
//! that ended, tasks that turned unhealthy, tasks whose instance was lost. This feeds the
//! deployments' `failedTasks` (and so the circuit breaker) and the launch throttle.
//!
//! Invariant: each task is counted at most once per kind, through the notes in the progress.
//! Within one pass recoveries are applied before failures, so a pass that sees both ends with
//! the failures counted.

use crate::classify::{Presence, Readiness};
use crate::events::ServiceEvent;
use crate::model::TaskView;
use crate::pass::Pass;
use crate::plan::StopReason;
use crate::progress::{DeploymentId, RolloutState};
use berth_types::{TaskStatus, TaskStopCode};
use std::collections::BTreeMap;
use std::time::Duration;

struct Failure {
    deployment: DeploymentId,
    /// Never reached RUNNING (circuit-breaker stage 1, and the throttle).
    before_running: bool,
}

pub(crate) fn account_for_changes(pass: &mut Pass) {
    let mut notes = BTreeMap::new();
    let mut recoveries: Vec<DeploymentId> = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut unhealthy: Vec<usize> = Vec::new();
    for (index, state) in pass.tasks.iter().enumerate() {
        let task = state.task;
        let mut note = pass.note_of(state);
        if state.on_lost_instance && task.last_status != TaskStatus::Stopped {
            note.superseded = true;
        }
        if state.presence == Presence::Live && state.readiness == Readiness::Healthy && !note.seen_healthy {
            note.seen_healthy = true;
            recoveries.push(task.deployment.clone());
        }
        if task.last_status == TaskStatus::Stopped && !note.outcome_counted {
            note.outcome_counted = true;
            if ended_in_failure(task) {
                failures
                    .push(Failure { deployment: task.deployment.clone(), before_running: task.started_at.is_none() });
            }
        }
        if state.presence == Presence::Live && state.readiness == Readiness::Unhealthy {
            // The stop below is the planner's own, so its STOPPED report will carry
            // ServiceSchedulerInitiated; the failure is counted here, once.
            note.outcome_counted = true;
            unhealthy.push(index);
            failures.push(Failure { deployment: task.deployment.clone(), before_running: false });
        }
        notes.insert(task.id.clone(), note);
    }
    pass.progress.task_notes = notes;

    for index in unhealthy {
        let id = pass.tasks[index].task.id.clone();
        match pass.tasks[index].failed_target.cloned() {
            None => {
                pass.stop(index, StopReason::FailedHealthChecks);
                pass.events.push(ServiceEvent::TaskFailedHealthChecks(id));
            }
            Some(target) => {
                pass.stop(
                    index,
                    StopReason::FailedElbHealthChecks { target_group_arn: target.target_group_arn.clone() },
                );
                pass.events.push(ServiceEvent::TargetUnhealthy(target));
            }
        }
    }
    let reset_on_healthy_task = pass.snapshot.service.deployment_configuration.circuit_breaker.reset_on_healthy_task;
    for deployment_id in recoveries {
        pass.progress.throttle = Default::default();
        if let Some(deployment) = in_progress_deployment(pass, &deployment_id) {
            if reset_on_healthy_task {
                deployment.failed_tasks = 0;
            }
        }
    }
    let now = pass.now();
    let settings = pass.snapshot.settings;
    for failure in failures {
        if let Some(deployment) = in_progress_deployment(pass, &failure.deployment) {
            deployment.failed_tasks += 1;
            deployment.updated_at = now;
        }
        if failure.before_running {
            let throttle = &mut pass.progress.throttle;
            throttle.consecutive_start_failures += 1;
            let delay = throttle_delay(
                throttle.consecutive_start_failures,
                settings.throttle_initial_delay,
                settings.throttle_max_delay,
            );
            throttle.next_launch_at = Some(now.plus(delay));
        }
    }
}

fn in_progress_deployment<'p>(pass: &'p mut Pass, id: &DeploymentId) -> Option<&'p mut crate::progress::Deployment> {
    pass.progress
        .deployments
        .iter_mut()
        .find(|deployment| &deployment.id == id && deployment.rollout_state == RolloutState::InProgress)
}

/// Whether a STOPPED task counts as a failure: it failed to start, or an essential container
/// exited. Stops by users and by the scheduler (scale-down, draining) are not failures; a task
/// that never ran and reports no code is assumed to have failed to start.
fn ended_in_failure(task: &TaskView) -> bool {
    match task.stop_code {
        Some(TaskStopCode::TaskFailedToStart | TaskStopCode::EssentialContainerExited) => true,
        Some(_) => false,
        None => task.started_at.is_none(),
    }
}

/// The launch delay after `failures` consecutive failures to start: the initial delay,
/// doubled per further failure, capped.
pub fn throttle_delay(failures: u32, initial: Duration, max: Duration) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let doublings = (failures - 1).min(31);
    initial.saturating_mul(1u32 << doublings).min(max)
}
