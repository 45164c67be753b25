//! REPLICA decisions: keep `desiredCount` tasks of the PRIMARY deployment, retire older
//! deployments' tasks and tasks on draining instances, all within the deployment bounds.
//!
//! Invariant: the planner's own stops never take the service's RUNNING tasks below the floor
//! `ceil(minimumHealthyPercent × desired)` — a task still settling counts as RUNNING here,
//! though not as healthy for completing a deployment — nor stop a healthy task when that
//! leaves fewer healthy ones than the floor; and its launches never take tasks
//! running, pending or still stopping above the ceiling. A stop does not free room in the same
//! pass: the stopping task occupies its slot until it is STOPPED. Scale-in and retirement skip
//! protected tasks (`protection`) and wait for their protection to end. Not here: stops of unhealthy
//! tasks (`observe`), of tasks on lost instances (`lost`) and the circuit breaker.

use crate::classify::{Readiness, TaskState};
use crate::events::ServiceEvent;
use crate::pass::Pass;
use crate::plan::StopReason;
use crate::progress::RolloutState;
use crate::protection;
use crate::selection::choose_to_stop;

pub(crate) fn decide(pass: &mut Pass) {
    let Some(primary) = pass.primary() else { return };
    let primary_id = primary.id.clone();
    let primary_failed = pass.primary_failed();
    let scaling = StopReason::Scaling { deployment: primary_id.clone() };

    // Pending tasks that will never serve go at once: nothing healthy is lost. A stalled
    // (FAILED) primary keeps what the older deployments still have.
    for index in pass.task_indexes(|task| task.is_live() && task.readiness == Readiness::Pending) {
        let task = &pass.tasks[index];
        if task.on_draining_instance {
            pass.stop(index, StopReason::InstanceDraining);
        } else if task.task.deployment != primary_id && !primary_failed {
            pass.stop(index, scaling.clone());
        }
    }

    stop_primary_excess(pass, &scaling);
    let holding = pass.snapshot.service.hold_previous;
    if !primary_failed && !holding {
        retire_within_floor(pass, &scaling);
    }

    let serving = count(pass, |pass, task| task.is_live() && pass.is_primary_task(task) && pass.serves(task));
    let needed = pass.desired_count.saturating_sub(serving);
    let occupying = count(pass, |_, task| task.occupies());
    let room = pass.bounds.maximum_occupying.saturating_sub(occupying);
    // Blue/green: the green revision starts in full beside the blue one.
    let launches = if holding { needed } else { needed.min(room) };
    if launches > 0 && pass.may_launch() {
        for _ in 0..launches {
            pass.launch(None);
        }
    }
    report_if_stuck(pass, needed);
}

fn count(pass: &Pass, filter: impl Fn(&Pass, &TaskState) -> bool) -> u32 {
    let matching = pass.tasks.iter().filter(|task| filter(pass, task)).count();
    u32::try_from(matching).unwrap_or(u32::MAX)
}

/// Scale-down: the PRIMARY has more serving tasks than desired. Pending ones go first, then
/// those not yet healthy, then copies that came back from a lost instance, then by spread.
fn stop_primary_excess(pass: &mut Pass, scaling: &StopReason) {
    let serving = pass.task_indexes(|task| task.is_live() && pass.is_primary_task(task) && pass.serves(task));
    let desired = pass.desired_count as usize;
    if serving.len() <= desired {
        return;
    }
    let excess = serving.len() - desired;
    let (candidates, protected) = protection::unprotected(pass, serving);
    let chosen =
        choose_to_stop(&pass.tasks, candidates, excess, |task| (task.readiness, !pass.note_of(task).superseded));
    protection::note_held_back(pass, excess, chosen.len(), protected);
    for index in chosen {
        let reason =
            if pass.note_of(&pass.tasks[index]).superseded { StopReason::ReplacedWhileLost } else { scaling.clone() };
        pass.stop(index, reason);
    }
}

/// Rolling update and draining: older deployments' tasks and tasks on draining instances go.
/// Those not RUNNING yet cost nothing (the pending ones already went above). RUNNING ones go
/// only while the service keeps `minimum_running` RUNNING tasks: settling ones first, then
/// healthy ones, which must also leave that many healthy — so a new deployment's tasks that
/// reach RUNNING and then crash never erode the healthy tasks they were meant to replace.
fn retire_within_floor(pass: &mut Pass, scaling: &StopReason) {
    let retiring =
        pass.task_indexes(|task| task.is_running() && (!pass.is_primary_task(task) || task.on_draining_instance));
    let (settling, healthy): (Vec<usize>, Vec<usize>) =
        retiring.into_iter().partition(|&index| pass.tasks[index].readiness == Readiness::Starting);
    let floor = pass.bounds.minimum_running;
    let settling_budget = count(pass, |_, task| task.is_running()).saturating_sub(floor) as usize;
    stop_chosen(pass, settling, settling_budget, scaling);
    let running_left = count(pass, |_, task| task.is_running()).saturating_sub(floor);
    let healthy_left = count(pass, |_, task| task.is_healthy()).saturating_sub(floor);
    stop_chosen(pass, healthy, running_left.min(healthy_left) as usize, scaling);
}

/// Stops up to `budget` of `candidates` that are not protected, oldest deployment first, then
/// spread; protected ones that would have gone are counted for the event (`protection`).
fn stop_chosen(pass: &mut Pass, candidates: Vec<usize>, budget: usize, scaling: &StopReason) {
    let (candidates, protected) = protection::unprotected(pass, candidates);
    let chosen = choose_to_stop(&pass.tasks, candidates, budget, |task| {
        (pass.is_primary_task(task), pass.deployment_age_key(task), !task.on_draining_instance)
    });
    protection::note_held_back(pass, budget, chosen.len(), protected);
    for index in chosen {
        let reason = retire_reason(&pass.tasks[index], scaling);
        pass.stop(index, reason);
    }
}

fn retire_reason(task: &TaskState, scaling: &StopReason) -> StopReason {
    if task.on_draining_instance {
        StopReason::InstanceDraining
    } else {
        scaling.clone()
    }
}

/// A deployment is stuck when work remains, nothing is in flight that could change the
/// picture, and the bounds allow neither a stop nor a start. Said once per deployment.
pub(crate) fn report_if_stuck(pass: &mut Pass, needed: u32) {
    let made_progress = !pass.stops.is_empty() || !pass.launches.is_empty();
    let primary_failed = pass.primary_failed();
    let throttled = pass.launches_throttled_until.is_some();
    let Some(primary) = pass.primary() else { return };
    if made_progress {
        if let Some(primary) = pass.primary_mut() {
            primary.stuck_reported = false;
        }
        return;
    }
    // Waiting for protected tasks is reported as such (`protection`), not as being stuck.
    let waiting_for_protection = pass.protected_held_back > 0;
    if primary_failed
        || throttled
        || waiting_for_protection
        || primary.rollout_state != RolloutState::InProgress
        || primary.stuck_reported
    {
        return;
    }
    let retiring_left =
        pass.tasks.iter().any(|task| task.is_live() && (!pass.is_primary_task(task) || !pass.serves(task)));
    let in_flight =
        pass.tasks.iter().any(|task| task.occupies() && (!task.is_live() || task.readiness != Readiness::Healthy));
    if (needed == 0 && !retiring_left) || in_flight {
        return;
    }
    let deployment = primary.id.clone();
    let running = count(pass, |_, task| task.is_running());
    let occupying = count(pass, |_, task| task.occupies());
    pass.events.push(ServiceEvent::DeploymentStuck {
        deployment,
        running,
        minimum_running: pass.bounds.minimum_running,
        occupying,
        maximum_occupying: pass.bounds.maximum_occupying,
    });
    if let Some(primary) = pass.primary_mut() {
        primary.stuck_reported = true;
    }
}
