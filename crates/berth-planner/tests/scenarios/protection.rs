//! Task scale-in protection: scale-in and rolling replacement leave protected tasks alone
//! until their protection ends, say so in the events, and wake up when it expires.

use crate::{checked_step, count_events, replica, run_checked_until_steady, TICK};
use berth_planner::simulation::Simulation;
use berth_planner::{ServiceEvent, StopReason};
use berth_types::{DesiredStatus, TaskStatus, Timestamp};
use std::time::Duration;

fn steady_service(desired: u32) -> Simulation {
    let mut sim = replica(desired, 2);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    sim
}

fn protect(sim: &mut Simulation, index: usize, for_how_long: Duration) -> Timestamp {
    let until = sim.now.plus(for_how_long);
    sim.tasks[index].protected_until = Some(until);
    until
}

fn live_ids(sim: &Simulation) -> Vec<berth_types::TaskId> {
    sim.tasks.iter().filter(|task| task.desired_status == DesiredStatus::Running).map(|task| task.id.clone()).collect()
}

#[test]
fn scale_in_skips_protected_tasks_and_stops_the_others() {
    let mut sim = steady_service(3);
    let protected: Vec<_> = [0, 1].iter().map(|&index| sim.tasks[index].id.clone()).collect();
    protect(&mut sim, 0, Duration::from_secs(600));
    protect(&mut sim, 1, Duration::from_secs(600));
    sim.spec.desired_count = 1;
    let plan = checked_step(&mut sim);
    assert_eq!(plan.stops.len(), 1, "only the unprotected task stops");
    assert!(!protected.contains(&plan.stops[0].task_id));
    assert!(matches!(plan.stops[0].reason, StopReason::Scaling { .. }));
    // Two tasks are still wanted gone, one of them is protected: one more stop is held back.
    assert!(plan.events.contains(&ServiceEvent::UnableToScaleInProtected { protected: 1 }));
    assert_eq!(
        ServiceEvent::UnableToScaleInProtected { protected: 1 }.message(&sim.spec.name),
        "(service web) was unable to scale in due to (reason: 1 tasks were protected)."
    );
    assert!(!plan.steady);
}

#[test]
fn scale_in_waits_for_protection_to_expire_and_wakes_for_it() {
    let mut sim = steady_service(2);
    let until = protect(&mut sim, 0, Duration::from_secs(120));
    protect(&mut sim, 1, Duration::from_secs(600));
    let first = sim.tasks[0].id.clone();
    sim.spec.desired_count = 1;
    let plan = checked_step(&mut sim);
    assert!(plan.stops.is_empty());
    assert!(plan.events.contains(&ServiceEvent::UnableToScaleInProtected { protected: 1 }));
    assert_eq!(plan.wake_at, Some(until), "the pass must run again when the earliest protection ends");

    // Later passes before expiry neither stop nor repeat the event.
    sim.advance(TICK);
    let quiet = checked_step(&mut sim);
    assert!(quiet.stops.is_empty() && quiet.events.is_empty());

    sim.now = until;
    let after = checked_step(&mut sim);
    assert_eq!(after.stops.len(), 1);
    assert_eq!(after.stops[0].task_id, first, "the task whose protection ended goes");
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(count_events(&sim, "was unable to scale in due to (reason: 1 tasks were protected)."), 1);
}

#[test]
fn disabling_protection_lets_scale_in_proceed() {
    let mut sim = steady_service(2);
    protect(&mut sim, 0, Duration::from_secs(600));
    protect(&mut sim, 1, Duration::from_secs(600));
    sim.spec.desired_count = 1;
    assert!(checked_step(&mut sim).stops.is_empty());
    sim.tasks[1].protected_until = None;
    sim.advance(TICK);
    let plan = checked_step(&mut sim);
    assert_eq!(plan.stops.len(), 1);
    assert_eq!(plan.stops[0].task_id, sim.tasks[1].id);
}

#[test]
fn deployment_waits_for_protected_tasks_then_completes() {
    let mut sim = steady_service(2);
    let old: Vec<_> = live_ids(&sim);
    let until = protect(&mut sim, 0, Duration::from_secs(300));
    let new = sim.deploy(2);
    // The new tasks start and become healthy; the unprotected old task is replaced, the
    // protected one keeps running.
    for _ in 0..10 {
        checked_step(&mut sim);
        sim.advance(TICK);
    }
    assert!(sim.now < until);
    let old_running: Vec<_> = sim
        .tasks
        .iter()
        .filter(|task| old.contains(&task.id) && task.last_status != TaskStatus::Stopped)
        .map(|task| task.id.clone())
        .collect();
    assert_eq!(old_running, vec![old[0].clone()], "only the protected old task is left");
    assert_eq!(sim.tasks_of(&new).filter(|task| task.last_status == TaskStatus::Running).count(), 2);
    assert_eq!(count_events(&sim, "was unable to scale in due to (reason: 1 tasks were protected)."), 1);
    assert_eq!(count_events(&sim, "deployment completed."), 1, "only the first deployment completed so far");
    assert_eq!(count_events(&sim, "cannot make progress"), 0, "waiting for protection is not being stuck");

    let plan = checked_step(&mut sim);
    assert_eq!(plan.wake_at, Some(until));
    sim.now = until;
    let after = checked_step(&mut sim);
    assert_eq!(after.stops.len(), 1);
    assert_eq!(after.stops[0].task_id, old[0]);
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(count_events(&sim, "deployment completed."), 2);
    assert_eq!(sim.progress.primary().unwrap().id, new);
}

#[test]
fn unhealthy_protected_tasks_are_still_replaced() {
    let mut sim = replica(1, 1);
    sim.health_checks = true;
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    protect(&mut sim, 0, Duration::from_secs(600));
    sim.tasks[0].health = berth_types::HealthStatus::Unhealthy;
    let plan = checked_step(&mut sim);
    assert_eq!(plan.stops.len(), 1);
    assert_eq!(plan.stops[0].reason, StopReason::FailedHealthChecks);
}
