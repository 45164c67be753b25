//! EXTERNAL decisions: each task set keeps its own `computedDesiredCount` of tasks. An
//! external controller moves scale from one task set to another (UpdateTaskSet); the planner
//! only keeps every set at its count — it replaces tasks that ended, scales a set in or out,
//! moves tasks off draining instances and stops tasks whose task set is gone.
//!
//! Invariant: a task counts only for the task set whose ID it carries, so one set's shortfall
//! is never made up by another's tasks. No deployment is started, completed or rolled back here;
//! the circuit breaker and the deployment bounds belong to the ECS controller. Not here: stops
//! of unhealthy tasks (`observe`) and of tasks on lost instances (`lost`).

use crate::classify::{Readiness, TaskState};
use crate::model::TaskSetTarget;
use crate::pass::Pass;
use crate::plan::{StopReason, TaskSetProgress};
use crate::protection;
use crate::selection::choose_to_stop;
use berth_types::TaskStatus;
use std::collections::HashSet;

pub(crate) fn decide(pass: &mut Pass, targets: &[TaskSetTarget]) {
    let known: HashSet<&str> = targets.iter().map(|target| target.id.as_str()).collect();
    let orphans = pass.task_indexes(|task| task.is_live() && !known.contains(task.task.deployment.as_str()));
    for index in orphans {
        let deployment = pass.tasks[index].task.deployment.clone();
        pass.stop(index, StopReason::Scaling { deployment });
    }
    for target in targets {
        keep_count(pass, target);
    }
    let settled = pass.stops.is_empty()
        && pass.launches.is_empty()
        && targets.iter().all(|target| task_set_progress(pass, target).steady);
    pass.external_settled = Some(settled);
}

fn belongs(task: &TaskState, target: &TaskSetTarget) -> bool {
    task.task.deployment == target.id
}

/// Scales one task set to its count. Pending tasks on draining instances go at once; RUNNING
/// ones go once the set has as many healthy tasks elsewhere as it needs.
fn keep_count(pass: &mut Pass, target: &TaskSetTarget) {
    let scaling = StopReason::Scaling { deployment: target.id.clone() };
    let pending_on_draining = pass.task_indexes(|task| {
        belongs(task, target) && task.is_live() && task.on_draining_instance && task.readiness == Readiness::Pending
    });
    for index in pending_on_draining {
        pass.stop(index, StopReason::InstanceDraining);
    }

    let serving = pass.task_indexes(|task| belongs(task, target) && task.is_live() && !task.on_draining_instance);
    let desired = target.desired_count as usize;
    if serving.len() > desired {
        let excess = serving.len() - desired;
        let (candidates, protected) = protection::unprotected(pass, serving.clone());
        let chosen = choose_to_stop(&pass.tasks, candidates, excess, |task| task.readiness);
        protection::note_held_back(pass, excess, chosen.len(), protected);
        for index in chosen {
            pass.stop(index, scaling.clone());
        }
    }

    let healthy_elsewhere = pass
        .tasks
        .iter()
        .filter(|task| belongs(task, target) && task.is_healthy() && !task.on_draining_instance)
        .count();
    if healthy_elsewhere >= desired {
        let draining = pass.task_indexes(|task| belongs(task, target) && task.is_live() && task.on_draining_instance);
        for index in draining {
            pass.stop(index, StopReason::InstanceDraining);
        }
    }

    let still_serving = serving.len().min(desired);
    let needed = desired - still_serving;
    if needed > 0 && pass.may_launch() {
        for _ in 0..needed {
            pass.launch_for(target.id.clone(), target.task_definition.clone(), None);
        }
    }
}

/// A task set's counts after this pass's decisions, and whether it is stable: as many RUNNING
/// tasks as its count, all healthy, none pending, stopping or on a draining instance.
pub(crate) fn task_set_progress(pass: &Pass, target: &TaskSetTarget) -> TaskSetProgress {
    let (mut running, mut pending, mut unsettled, mut occupying) = (0u32, 0u32, false, 0u32);
    for task in pass.tasks.iter().filter(|task| belongs(task, target) && task.occupies()) {
        occupying += 1;
        if task.task.last_status == TaskStatus::Running {
            running += 1;
        } else if task.task.last_status < TaskStatus::Running {
            pending += 1;
        }
        if !task.is_healthy() || task.on_draining_instance {
            unsettled = true;
        }
    }
    let launched = pass.launches.iter().filter(|launch| launch.deployment == target.id).count();
    let steady = running == target.desired_count && pending == 0 && !unsettled && launched == 0;
    TaskSetProgress { id: target.id.clone(), running_count: running, pending_count: pending, occupying, steady }
}
