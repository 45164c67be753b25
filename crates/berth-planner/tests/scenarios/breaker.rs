use crate::{checked_step, count_events, replica, run_checked_until_steady, TICK};
use berth_planner::simulation::{Simulation, TaskBehaviour};
use berth_planner::{DeploymentStatus, FailureThreshold, RolloutState};
use std::time::Duration;

fn with_breaker(desired: u32, rollback: bool) -> Simulation {
    let mut sim = replica(desired, 3);
    let breaker = &mut sim.spec.deployment_configuration.circuit_breaker;
    breaker.enable = true;
    breaker.rollback = rollback;
    sim
}

/// Passes with a tick between them until `done` holds; panics after `max_passes`.
fn run_until(sim: &mut Simulation, max_passes: usize, tick: Duration, done: impl Fn(&Simulation) -> bool) {
    for _ in 0..max_passes {
        checked_step(sim);
        if done(sim) {
            return;
        }
        sim.advance(tick);
    }
    panic!("condition not reached; events: {:#?}", sim.events);
}

#[test]
fn failing_to_start_rolls_back_to_the_last_completed_deployment() {
    let mut sim = with_breaker(3, true);
    let good = sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    sim.behaviours.insert(2, TaskBehaviour::FailsToStart);
    let bad = sim.deploy(2);
    run_until(&mut sim, 60, Duration::from_secs(30), |sim| sim.progress.primary().unwrap().rollback_of.is_some());
    // Having no task left, the failed deployment went INACTIVE at once and was dropped.
    assert!(sim.progress.deployment(&bad).is_none());
    let failures =
        sim.tasks_of(&bad).filter(|task| task.stop_code == Some(berth_types::TaskStopCode::TaskFailedToStart)).count();
    assert_eq!(failures, 3, "threshold for 3 desired is clamp(2, 3, 200)");
    let rollback = sim.progress.primary().unwrap().clone();
    assert_eq!(rollback.rollback_of, Some(bad.clone()));
    assert_eq!(rollback.task_definition.revision, 1);
    assert_eq!(
        rollback.rollout_state_reason,
        format!("ECS deployment circuit breaker: rolling back to deploymentId {good}.")
    );
    assert_eq!(count_events(&sim, &format!("(deployment {bad}) deployment failed: tasks failed to start.")), 1);
    assert_eq!(count_events(&sim, &format!("rolling back to (deployment {good})")), 1);

    run_checked_until_steady(&mut sim, 40);
    assert_eq!(sim.progress.primary().unwrap().id, rollback.id);
    assert_eq!(sim.progress.visible_deployments().count(), 1);
}

#[test]
fn without_a_completed_deployment_a_failed_one_stalls() {
    let mut sim = with_breaker(1, true);
    sim.behaviours.insert(1, TaskBehaviour::FailsToStart);
    let only = sim.deploy(1);
    run_until(&mut sim, 60, Duration::from_secs(60), |sim| {
        sim.progress.primary().unwrap().rollout_state == RolloutState::Failed
    });
    assert_eq!(sim.progress.primary().unwrap().id, only);
    for _ in 0..5 {
        sim.advance(Duration::from_secs(3600));
        let plan = checked_step(&mut sim);
        assert!(plan.launches.is_empty(), "a FAILED deployment launches nothing");
        assert!(!plan.steady);
    }
}

#[test]
fn without_rollback_the_failed_deployment_keeps_the_old_tasks() {
    let mut sim = with_breaker(3, false);
    let good = sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    sim.behaviours.insert(2, TaskBehaviour::FailsToStart);
    let bad = sim.deploy(2);
    run_until(&mut sim, 60, Duration::from_secs(30), |sim| {
        sim.progress.primary().unwrap().rollout_state == RolloutState::Failed
    });
    let failed = sim.progress.primary().unwrap();
    assert_eq!((failed.status, failed.failed_tasks), (DeploymentStatus::Primary, 3));
    assert_eq!(failed.rollout_state_reason, "ECS deployment circuit breaker: tasks failed to start.");
    for _ in 0..3 {
        sim.advance(Duration::from_secs(600));
        let plan = checked_step(&mut sim);
        assert!(plan.launches.is_empty() && plan.stops.is_empty());
    }
    assert_eq!(sim.progress.primary().unwrap().id, bad);
    assert_eq!(
        sim.tasks_of(&good).filter(|task| task.desired_status == berth_types::DesiredStatus::Running).count(),
        3
    );
}

#[test]
fn exits_after_running_count_in_stage_two_with_a_count_threshold() {
    let mut sim = with_breaker(2, false);
    sim.spec.deployment_configuration.circuit_breaker.threshold = FailureThreshold::Count(2);
    sim.behaviours.insert(1, TaskBehaviour::ExitsAfterRunning);
    let deployment = sim.deploy(1);
    run_until(&mut sim, 20, TICK, |sim| sim.progress.primary().unwrap().rollout_state == RolloutState::Failed);
    let primary = sim.progress.deployment(&deployment).unwrap();
    assert_eq!(primary.failed_tasks, 2);
    // Failures after RUNNING never throttle launches.
    assert_eq!(sim.progress.throttle.consecutive_start_failures, 0);
}

#[test]
fn unhealthy_tasks_are_replaced_and_counted() {
    let mut sim = with_breaker(1, false);
    sim.spec.deployment_configuration.circuit_breaker.threshold = FailureThreshold::UnboundedPercent(300);
    sim.health_checks = true;
    sim.behaviours.insert(1, TaskBehaviour::Unhealthy);
    sim.deploy(1);
    let mut health_stops = 0;
    for _ in 0..20 {
        let plan = checked_step(&mut sim);
        health_stops +=
            plan.stops.iter().filter(|stop| stop.reason.text() == "Task failed container health checks").count();
        if sim.progress.primary().unwrap().rollout_state == RolloutState::Failed {
            break;
        }
        sim.advance(TICK);
    }
    assert_eq!(health_stops, 3, "threshold ceil(300% of 1) = 3");
    assert_eq!(count_events(&sim, "failed container health checks."), 3);
}

/// Snapshot of the pass in which the circuit breaker trips and rolls back. IDs are seeded,
/// so the text is stable; update it deliberately when the rendering or the rules change.
#[test]
fn rollback_pass_renders_stably() {
    let mut sim = with_breaker(2, true);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    sim.behaviours.insert(2, TaskBehaviour::FailsToStart);
    sim.deploy(2);
    let mut rendered = String::new();
    for _ in 0..40 {
        let plan = checked_step(&mut sim);
        rendered = plan.render(&sim.spec.name);
        if sim.progress.primary().unwrap().rollback_of.is_some() {
            break;
        }
        sim.advance(Duration::from_secs(30));
    }
    let expected = r#"desired 2
deployment ecs-svc/4012318511745901438 PRIMARY web:1 IN_PROGRESS desired=2 running=0 pending=0 failed=0 rollback reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/5739016681024964895."
deployment ecs-svc/5739016681024964895 ACTIVE web:1 COMPLETED desired=2 running=2 pending=0 failed=0 reason="ECS deployment ecs-svc/5739016681024964895 completed."
start 2 for ecs-svc/4012318511745901438: ce0c5fe0e0892c0adf7f43a85286c987 419ea30584b24e8382cbbc771491625d
event (service web) (deployment ecs-svc/6728185892295054972) deployment failed: tasks failed to start.
event (service web) (deployment ecs-svc/4012318511745901438) rolling back to (deployment ecs-svc/5739016681024964895) after (deployment ecs-svc/6728185892295054972) failed.
event (service web) has started 2 tasks: (task ce0c5fe0e0892c0adf7f43a85286c987) (task 419ea30584b24e8382cbbc771491625d).
steady false wake_at None
"#;
    assert_eq!(rendered, expected);
}

fn with_alarms(desired: u32, rollback: bool) -> Simulation {
    let mut sim = replica(desired, 3);
    sim.spec.deployment_configuration.alarms = berth_planner::AlarmRollback { enable: true, rollback };
    sim
}

#[test]
fn an_alarm_firing_during_a_deployment_rolls_it_back() {
    let mut sim = with_alarms(2, true);
    let good = sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    // An alarm already in ALARM before the deployment began does not fail it.
    sim.alarms_in_alarm = vec![("latency-high".to_string(), sim.now)];
    sim.advance(Duration::from_secs(1));
    let bad = sim.deploy(2);
    checked_step(&mut sim);
    assert_eq!(sim.progress.deployment(&bad).unwrap().rollout_state, RolloutState::InProgress);
    // It goes into ALARM again after the deployment began: the deployment fails and rolls back.
    sim.advance(Duration::from_secs(5));
    sim.alarms_in_alarm = vec![("latency-high".to_string(), sim.now)];
    run_until(&mut sim, 10, Duration::from_secs(5), |sim| sim.progress.primary().unwrap().rollback_of.is_some());
    let rollback = sim.progress.primary().unwrap().clone();
    assert_eq!(rollback.rollback_of, Some(bad.clone()));
    assert_eq!(rollback.task_definition.revision, 1);
    assert_eq!(rollback.rollout_state_reason, format!("ECS deployment alarms: rolling back to deploymentId {good}."));
    // Still in ALARM: the rollback itself is not failed by it, and completes.
    run_checked_until_steady(&mut sim, 40);
    assert_eq!(sim.progress.primary().unwrap().id, rollback.id);
    assert_eq!(sim.progress.primary().unwrap().rollout_state, RolloutState::Completed);
}

#[test]
fn without_rollback_an_alarm_only_fails_the_deployment() {
    let mut sim = with_alarms(2, false);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 20);
    let bad = sim.deploy(2);
    sim.advance(Duration::from_secs(1));
    sim.alarms_in_alarm = vec![("errors".to_string(), sim.now)];
    checked_step(&mut sim);
    let primary = sim.progress.primary().unwrap();
    assert_eq!((primary.id.clone(), primary.rollout_state), (bad, RolloutState::Failed));
    assert!(primary.rollout_state_reason.contains("errors went into ALARM"), "{}", primary.rollout_state_reason);
}
