use crate::{checked_step, count_events, replica, run_checked_until_steady, TICK};
use berth_planner::simulation::instance_id;
use berth_planner::StopReason;
use berth_types::TaskStatus;
use std::collections::HashSet;

#[test]
fn scale_up_and_down_keeps_tasks_spread() {
    let mut sim = replica(2, 3);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.spec.desired_count = 6;
    let up = checked_step(&mut sim);
    assert_eq!(up.launches.len(), 4);
    run_checked_until_steady(&mut sim, 10);
    sim.spec.desired_count = 3;
    let down = checked_step(&mut sim);
    assert_eq!(down.stops.len(), 3);
    assert!(down.launches.is_empty());
    assert!(down.stops.iter().all(|stop| matches!(stop.reason, StopReason::Scaling { .. })));
    run_checked_until_steady(&mut sim, 10);
    let instances: HashSet<_> = sim
        .tasks
        .iter()
        .filter(|task| task.last_status != TaskStatus::Stopped)
        .map(|task| task.instance.clone())
        .collect();
    assert_eq!(instances.len(), 3, "one task left on each instance");
    assert_eq!(count_events(&sim, "has stopped 3 running tasks"), 1);
}

#[test]
fn scale_down_prefers_pending_tasks() {
    let mut sim = replica(2, 2);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.spec.desired_count = 3;
    let up = checked_step(&mut sim);
    let pending = up.launches[0].task_id.clone();
    sim.spec.desired_count = 2;
    let down = checked_step(&mut sim);
    assert_eq!(down.stops.len(), 1);
    assert_eq!(down.stops[0].task_id, pending);
}

#[test]
fn placement_failures_are_reported_without_repeating() {
    let mut sim = replica(3, 1);
    sim.slots_per_instance = 2;
    sim.deploy(1);
    checked_step(&mut sim); // two placed, one not
    sim.advance(TICK);
    let plan = checked_step(&mut sim);
    let message = plan.events.iter().map(|e| e.message(&sim.spec.name)).find(|m| m.contains("unable to place"));
    assert_eq!(
        message.as_deref(),
        Some("(service web) was unable to place a task because no container instance met all of its requirements. The closest matching container instance has no room left.")
    );
    for _ in 0..5 {
        sim.advance(TICK);
        checked_step(&mut sim);
    }
    assert_eq!(count_events(&sim, "unable to place"), 1);
    sim.slots_per_instance = 3;
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(sim.occupying(), 3);
    let _ = instance_id(1);
}
