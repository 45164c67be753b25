//! Services behind target groups: a task is healthy only once its targets are, the grace
//! period holds an unhealthy target's verdict back, and a target that stays unhealthy gets its
//! task replaced with ECS's reason.

use crate::{checked_step, replica, run_checked_until_steady, TICK};
use berth_planner::{LoadBalancerHealth, StopReason, UnhealthyTarget};
use std::time::Duration;

const GROUP: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef";

fn failing() -> LoadBalancerHealth {
    LoadBalancerHealth::Unhealthy(UnhealthyTarget {
        target_group_arn: GROUP.to_string(),
        target_id: "i-1".to_string(),
        port: 32768,
        reason: "Health checks failed with these codes: [500]".to_string(),
    })
}

#[test]
fn a_task_waits_for_its_targets_not_the_settle_time() {
    let mut sim = replica(1, 1);
    sim.deploy(1);
    checked_step(&mut sim);
    sim.advance(TICK);
    for task in &mut sim.tasks {
        task.load_balancer_health = Some(LoadBalancerHealth::Initial);
    }
    // Long past the settle time, still initial: the deployment does not complete.
    for _ in 0..20 {
        assert!(!checked_step(&mut sim).steady);
        sim.advance(TICK);
    }
    for task in &mut sim.tasks {
        task.load_balancer_health = Some(LoadBalancerHealth::Healthy);
    }
    run_checked_until_steady(&mut sim, 5);
}

#[test]
fn an_unhealthy_target_is_ignored_within_the_grace_period_then_replaced() {
    let mut sim = replica(1, 1);
    sim.spec.health_check_grace_period = Duration::from_secs(60);
    sim.deploy(1);
    checked_step(&mut sim);
    sim.advance(TICK);
    sim.tasks[0].load_balancer_health = Some(failing());
    let started = sim.tasks[0].started_at.unwrap();
    let within = checked_step(&mut sim);
    assert!(within.stops.is_empty(), "within the grace period");
    sim.now = started.plus(Duration::from_secs(60));
    let plan = checked_step(&mut sim);
    assert_eq!(plan.stops.len(), 1);
    assert_eq!(plan.stops[0].reason, StopReason::FailedElbHealthChecks { target_group_arn: GROUP.to_string() });
    assert_eq!(plan.stops[0].reason.text(), format!("Task failed ELB health checks in (target-group {GROUP})"));
    assert!(sim.events.iter().any(|event| event.contains(&format!(
        "(instance i-1) (port 32768) is unhealthy in (target-group {GROUP}) due to (reason Health checks failed with these codes: [500])."
    ))), "{:#?}", sim.events);
    // The deployment was still rolling out: the failure counts toward its circuit breaker.
    assert_eq!(plan.progress.primary().unwrap().failed_tasks, 1);
}
