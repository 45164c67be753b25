use crate::{checked_step, replica, run_checked_until_steady, TICK};
use berth_planner::simulation::TaskBehaviour;
use berth_planner::RolloutState;
use berth_types::HealthStatus;
use std::time::Duration;

#[test]
fn grace_period_defers_health_check_stops() {
    let mut sim = replica(1, 1);
    sim.health_checks = true;
    sim.spec.health_check_grace_period = Duration::from_secs(60);
    sim.behaviours.insert(1, TaskBehaviour::Unhealthy);
    sim.deploy(1);
    checked_step(&mut sim);
    sim.advance(TICK); // RUNNING
    checked_step(&mut sim);
    sim.advance(TICK); // UNHEALTHY, 5 s into the grace period
    assert_eq!(sim.tasks[0].health, HealthStatus::Unhealthy);
    let within = checked_step(&mut sim);
    assert!(within.stops.is_empty());
    let grace_ends = sim.tasks[0].started_at.unwrap().plus(Duration::from_secs(60));
    assert_eq!(within.wake_at, Some(grace_ends));
    sim.advance(Duration::from_secs(60));
    let after = checked_step(&mut sim);
    assert_eq!(after.stops.len(), 1);
    assert_eq!(after.stops[0].reason.text(), "Task failed container health checks");
}

#[test]
fn tasks_without_checks_count_healthy_after_the_settle_time() {
    let mut sim = replica(1, 1);
    sim.deploy(1);
    checked_step(&mut sim);
    sim.advance(Duration::from_secs(1)); // RUNNING
    let settling = checked_step(&mut sim);
    assert!(!settling.steady);
    assert_eq!(settling.wake_at, Some(sim.tasks[0].started_at.unwrap().plus(sim.settings.healthy_after_running)));
    sim.advance(sim.settings.healthy_after_running);
    assert!(checked_step(&mut sim).steady);
}

#[test]
fn healthy_task_resets_consecutive_failures_unless_configured_cumulative() {
    for reset in [true, false] {
        let mut sim = replica(1, 1);
        sim.spec.deployment_configuration.circuit_breaker.reset_on_healthy_task = reset;
        sim.behaviours.insert(1, TaskBehaviour::FailsToStart);
        sim.deploy(1);
        checked_step(&mut sim);
        sim.advance(TICK);
        checked_step(&mut sim); // counts one failure
        assert_eq!(sim.progress.primary().unwrap().failed_tasks, 1);
        sim.behaviours.insert(1, TaskBehaviour::Healthy);
        run_checked_until_steady(&mut sim, 20);
        let primary = sim.progress.primary().unwrap();
        assert_eq!(primary.rollout_state, RolloutState::Completed);
        assert_eq!(primary.failed_tasks, if reset { 0 } else { 1 });
    }
}

#[test]
fn tasks_that_exit_are_replaced() {
    let mut sim = replica(2, 2);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.tasks[0].last_status = berth_types::TaskStatus::Stopped;
    sim.tasks[0].stop_code = Some(berth_types::TaskStopCode::EssentialContainerExited);
    let plan = checked_step(&mut sim);
    assert_eq!(plan.launches.len(), 1);
    assert!(!plan.steady);
    sim.advance(TICK);
    run_checked_until_steady(&mut sim, 10);
    // Stopped by hand: replaced too, and not a failure.
    sim.tasks[1].last_status = berth_types::TaskStatus::Stopped;
    sim.tasks[1].stop_code = Some(berth_types::TaskStopCode::UserInitiated);
    assert_eq!(checked_step(&mut sim).launches.len(), 1);
    assert_eq!(sim.progress.primary().unwrap().failed_tasks, 0);
}
