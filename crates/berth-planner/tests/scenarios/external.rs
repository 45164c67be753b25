//! EXTERNAL services: task sets hold their own counts, and scale moves between them only
//! when the user says so.

use crate::{replica, TICK};
use berth_planner::simulation::{Simulation, TaskBehaviour};
use berth_planner::{DeploymentId, StopReason};
use berth_types::{DesiredStatus, TaskStatus};

fn live_tasks_of(sim: &Simulation, set: &DeploymentId) -> usize {
    sim.tasks_of(set)
        .filter(|task| task.desired_status == DesiredStatus::Running && task.last_status != TaskStatus::Stopped)
        .count()
}

fn run_until_steady(sim: &mut Simulation, max_passes: usize) {
    for _ in 0..max_passes {
        if sim.step().steady {
            return;
        }
        sim.advance(TICK);
    }
    panic!("not steady after {max_passes} passes; events: {:#?}", sim.events);
}

#[test]
fn each_task_set_keeps_its_own_count_and_scale_moves_between_them() {
    let mut sim = replica(4, 2);
    let blue = sim.add_task_set(1, 4);
    run_until_steady(&mut sim, 10);
    assert_eq!(live_tasks_of(&sim, &blue), 4);
    assert!(sim.progress.deployments.is_empty(), "an EXTERNAL service has no ECS deployments");

    let green = sim.add_task_set(2, 1);
    let plan = sim.step();
    assert_eq!(plan.launches.len(), 1);
    assert!(plan.launches.iter().all(|launch| launch.deployment == green));
    assert!(plan.stops.is_empty(), "a new task set never retires another's tasks");
    run_until_steady(&mut sim, 10);

    sim.scale_task_set(&green, 4);
    sim.scale_task_set(&blue, 0);
    let plan = sim.step();
    assert_eq!(plan.launches.iter().filter(|launch| launch.deployment == green).count(), 3);
    assert_eq!(plan.stops.len(), 4);
    assert!(plan.stops.iter().all(|stop| stop.reason == StopReason::Scaling { deployment: blue.clone() }));
    run_until_steady(&mut sim, 10);
    assert_eq!(live_tasks_of(&sim, &blue), 0);
    assert_eq!(live_tasks_of(&sim, &green), 4);
    let last = sim.step();
    let counts: Vec<_> = last.task_sets.iter().map(|set| (set.running_count, set.pending_count, set.steady)).collect();
    assert_eq!(counts, vec![(0, 0, true), (4, 0, true)]);
}

#[test]
fn a_task_set_replaces_tasks_that_exit_and_is_stabilizing_meanwhile() {
    let mut sim = replica(2, 1);
    let set = sim.add_task_set(1, 2);
    run_until_steady(&mut sim, 10);
    sim.exit_task(0);
    let plan = sim.step();
    assert_eq!(plan.launches.len(), 1);
    assert_eq!(plan.launches[0].deployment, set);
    assert!(!plan.steady);
    assert!(!plan.task_sets[0].steady, "a task set short of its count is STABILIZING");
    run_until_steady(&mut sim, 10);
}

#[test]
fn tasks_of_a_removed_task_set_are_stopped() {
    let mut sim = replica(2, 1);
    let set = sim.add_task_set(1, 2);
    run_until_steady(&mut sim, 10);
    sim.spec.task_sets = Some(vec![]);
    let plan = sim.step();
    assert_eq!(plan.stops.len(), 2);
    assert!(plan.stops.iter().all(|stop| stop.reason == StopReason::Scaling { deployment: set.clone() }));
    assert!(plan.launches.is_empty());
}

#[test]
fn a_failing_task_set_is_throttled_and_others_are_untouched() {
    let mut sim = replica(2, 2);
    let good = sim.add_task_set(1, 2);
    run_until_steady(&mut sim, 10);
    sim.behaviours.insert(2, TaskBehaviour::FailsToStart);
    let bad = sim.add_task_set(2, 2);
    for _ in 0..6 {
        let plan = sim.step();
        assert!(plan.stops.iter().all(|stop| sim.tasks_of(&bad).any(|task| task.id == stop.task_id)));
        sim.advance(TICK);
    }
    assert_eq!(live_tasks_of(&sim, &good), 2, "the healthy task set keeps its tasks");
    assert!(
        sim.events.iter().any(|event| event.contains("unable to consistently start tasks")),
        "events: {:#?}",
        sim.events
    );
}
