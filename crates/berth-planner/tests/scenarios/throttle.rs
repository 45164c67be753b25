use crate::{checked_step, count_events, replica, TICK};
use berth_planner::simulation::TaskBehaviour;
use berth_types::Timestamp;
use std::time::Duration;

#[test]
fn start_failures_delay_launches_more_each_time_and_a_new_deployment_resets() {
    let mut sim = replica(1, 1);
    sim.behaviours.insert(1, TaskBehaviour::FailsToStart);
    sim.deploy(1);
    let mut delays = Vec::new();
    let mut throttled_passes = 0;
    for _ in 0..200 {
        let plan = checked_step(&mut sim);
        if let Some(until) = plan.launches_throttled_until {
            throttled_passes += 1;
            assert!(plan.launches.is_empty());
            assert_eq!(plan.wake_at.map(|at| at <= until), Some(true));
        }
        let throttle = &sim.progress.throttle;
        if let Some(next) = throttle.next_launch_at {
            let failures = throttle.consecutive_start_failures as usize;
            if failures > delays.len() {
                delays.push(next.0 - sim.now.0);
            }
        }
        if delays.len() == 4 {
            break;
        }
        // Jump straight to the next allowed launch when throttled, to keep the test short.
        if let Some(until) = plan.launches_throttled_until {
            sim.now = Timestamp(until.0 - TICK.as_millis() as i64);
        }
        sim.advance(TICK);
    }
    assert_eq!(delays, [10_000, 20_000, 40_000, 80_000]);
    assert!(throttled_passes >= 3);
    assert_eq!(count_events(&sim, "is unable to consistently start tasks successfully."), 1);

    sim.behaviours.insert(2, TaskBehaviour::Healthy);
    sim.deploy(2);
    let plan = checked_step(&mut sim);
    assert_eq!(plan.launches.len(), 1, "a new deployment resets the throttle");
    assert_eq!(sim.progress.throttle.consecutive_start_failures, 0);
}

#[test]
fn tasks_stopping_after_running_do_not_throttle() {
    let mut sim = replica(1, 1);
    sim.behaviours.insert(1, TaskBehaviour::ExitsAfterRunning);
    sim.deploy(1);
    for _ in 0..10 {
        let plan = checked_step(&mut sim);
        assert!(plan.launches_throttled_until.is_none());
        sim.advance(TICK);
    }
    assert_eq!(sim.progress.throttle.consecutive_start_failures, 0);
    assert!(sim.tasks.len() >= 4, "crashed tasks keep being replaced");
}

#[test]
fn throttle_repeats_its_event_after_a_recovery() {
    let mut sim = replica(1, 1);
    sim.behaviours.insert(1, TaskBehaviour::FailsToStart);
    sim.deploy(1);
    for _ in 0..3 {
        checked_step(&mut sim);
        sim.advance(Duration::from_secs(30));
    }
    sim.behaviours.insert(1, TaskBehaviour::Healthy);
    crate::run_checked_until_steady(&mut sim, 20);
    assert_eq!(sim.progress.throttle, Default::default());
    assert_eq!(count_events(&sim, "unable to consistently start"), 1);
}
