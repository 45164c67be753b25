//! DAEMON decisions: one PRIMARY task on every eligible instance (ACTIVE, agent connected,
//! not lost, satisfying the placement constraints), joining instances included.
//!
//! Invariant: an instance never runs two of the service's tasks at once, so a deployment
//! replaces per instance, stop first, then start; the RUNNING floor (min%, 0 by default)
//! bounds how many instances are between tasks at a time. `maximumPercent` above 100 is
//! not used to overlap tasks on one instance. Tasks on a disconnected (not lost) instance are
//! left alone; tasks on draining or no longer eligible instances are stopped.

use crate::classify::{Readiness, TaskState};
use crate::model::InstanceView;
use crate::pass::Pass;
use crate::plan::StopReason;
use crate::replica::report_if_stuck;
use crate::selection::choose_to_stop;
use berth_types::{ContainerInstanceId, ContainerInstanceStatus};
use std::collections::HashMap;

pub(crate) fn decide(pass: &mut Pass) {
    let Some(primary) = pass.primary() else { return };
    let primary_id = primary.id.clone();
    let primary_failed = pass.primary_failed();
    let scaling = StopReason::Scaling { deployment: primary_id.clone() };
    let instances: HashMap<&ContainerInstanceId, &InstanceView> =
        pass.snapshot.instances.iter().map(|instance| (&instance.id, instance)).collect();

    for index in pass.task_indexes(|task| task.is_live()) {
        let task = &pass.tasks[index];
        if let Some(instance) = instances.get(&task.task.instance) {
            if instance.status == ContainerInstanceStatus::Draining {
                pass.stop(index, StopReason::InstanceDraining);
                continue;
            }
            if instance.status != ContainerInstanceStatus::Active || !instance.satisfies_constraints {
                pass.stop(index, StopReason::InstanceIneligible);
                continue;
            }
        }
        if task.readiness == Readiness::Pending && task.task.deployment != primary_id && !primary_failed {
            pass.stop(index, scaling.clone());
        }
    }

    // More than one PRIMARY task on an instance: keep the most advanced one.
    let mut primary_by_instance: HashMap<ContainerInstanceId, Vec<usize>> = HashMap::new();
    for index in pass.task_indexes(|task| task.is_live() && pass.is_primary_task(task)) {
        let instance = pass.tasks[index].task.instance.clone();
        primary_by_instance.entry(instance).or_default().push(index);
    }
    for indexes in primary_by_instance.values() {
        if indexes.len() > 1 {
            let chosen = choose_to_stop(&pass.tasks, indexes.clone(), indexes.len() - 1, |task| task.readiness);
            for index in chosen {
                pass.stop(index, scaling.clone());
            }
        }
    }

    let mut occupying_by_instance: HashMap<ContainerInstanceId, Vec<usize>> = HashMap::new();
    for index in pass.task_indexes(|task| task.occupies()) {
        let instance = pass.tasks[index].task.instance.clone();
        occupying_by_instance.entry(instance).or_default().push(index);
    }
    let mut needing_launch = Vec::new();
    let mut retiring = Vec::new();
    for instance in &pass.eligible_instances {
        let on_instance = occupying_by_instance.get(instance).map_or(&[][..], Vec::as_slice);
        retiring.extend(
            on_instance
                .iter()
                .copied()
                .filter(|&index| pass.tasks[index].is_live() && !pass.is_primary_task(&pass.tasks[index])),
        );
        if !primary_by_instance.contains_key(instance) && on_instance.is_empty() {
            needing_launch.push(instance.clone());
        }
    }
    if !primary_failed {
        retire_within_floor(pass, retiring, &scaling);
    }
    let needed = pass.eligible_instances.len()
        - pass.eligible_instances.iter().filter(|instance| primary_by_instance.contains_key(*instance)).count();
    if !needing_launch.is_empty() && pass.may_launch() {
        for instance in needing_launch {
            pass.launch(Some(instance));
        }
    }
    report_if_stuck(pass, u32::try_from(needed).unwrap_or(u32::MAX));
}

/// As for REPLICA (`replica::retire_within_floor`): settling tasks go while the RUNNING floor
/// holds, healthy ones only while the healthy tasks stay at the floor too.
fn retire_within_floor(pass: &mut Pass, retiring: Vec<usize>, scaling: &StopReason) {
    let (running, not_running): (Vec<usize>, Vec<usize>) =
        retiring.into_iter().partition(|&index| pass.tasks[index].is_running());
    for index in not_running {
        pass.stop(index, scaling.clone());
    }
    let (settling, healthy): (Vec<usize>, Vec<usize>) =
        running.into_iter().partition(|&index| pass.tasks[index].readiness == Readiness::Starting);
    let floor = pass.bounds.minimum_running as usize;
    let running_now = |pass: &Pass| pass.tasks.iter().filter(|task| task.is_running()).count();
    let settling_budget = running_now(pass).saturating_sub(floor);
    stop_oldest(pass, settling, settling_budget, scaling);
    let healthy_now = pass.tasks.iter().filter(|task| task.is_healthy()).count();
    let budget = running_now(pass).saturating_sub(floor).min(healthy_now.saturating_sub(floor));
    stop_oldest(pass, healthy, budget, scaling);
}

fn stop_oldest(pass: &mut Pass, candidates: Vec<usize>, budget: usize, scaling: &StopReason) {
    let chosen = choose_to_stop(&pass.tasks, candidates, budget, |task: &TaskState| pass.deployment_age_key(task));
    for index in chosen {
        pass.stop(index, scaling.clone());
    }
}
