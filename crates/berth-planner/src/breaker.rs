//! What fails a deployment on its own: the circuit breaker, once the PRIMARY deployment's
//! counted failures reach the threshold, and the deployment alarms, once one of them is in
//! ALARM while the deployment is in progress. With rollback, either starts a new PRIMARY
//! deployment of the newest COMPLETED deployment's task definition.
//!
//! Invariant: a FAILED deployment launches nothing more. A rollback deployment never rolls
//! back again, so a service cannot oscillate; without a COMPLETED deployment to return to the
//! failed deployment simply stalls.

use crate::bounds::circuit_breaker_threshold;
use crate::events::ServiceEvent;
use crate::pass::Pass;
use crate::progress::{begin_rollback, Deployment, DeploymentId, RolloutState};

/// How every failure and rollback the deployment alarms cause begins its reason.
pub const DEPLOYMENT_ALARMS: &str = "ECS deployment alarms";

pub(crate) fn trip_if_over_threshold(pass: &mut Pass) {
    let breaker = pass.snapshot.service.deployment_configuration.circuit_breaker;
    if !breaker.enable {
        return;
    }
    let threshold = circuit_breaker_threshold(breaker.threshold, pass.desired_count);
    let Some(primary) = pass.primary_mut() else { return };
    if primary.rollout_state != RolloutState::InProgress || primary.failed_tasks < threshold {
        return;
    }
    let failure = Failure {
        reason: "ECS deployment circuit breaker: tasks failed to start.".to_string(),
        rollback: breaker.rollback.then_some("ECS deployment circuit breaker"),
    };
    fail_primary(pass, failure);
}

/// ECS deployment alarms: a watched alarm that went into ALARM after the deployment began
/// fails it while it is in progress. A rollback deployment is not failed again by them: it is
/// the way back from what they saw.
pub(crate) fn trip_on_alarm(pass: &mut Pass) {
    let alarms = pass.snapshot.service.deployment_configuration.alarms;
    if !alarms.enable {
        return;
    }
    let Some(primary) = pass.primary() else { return };
    if primary.rollout_state != RolloutState::InProgress || primary.rollback_of.is_some() {
        return;
    }
    let began = primary.created_at;
    let fired: Vec<&str> = pass
        .snapshot
        .alarms_in_alarm
        .iter()
        .filter(|(_, since)| *since >= began)
        .map(|(name, _)| name.as_str())
        .collect();
    if fired.is_empty() {
        return;
    }
    let names = fired.join(", ");
    let failure = Failure {
        reason: format!(
            "{DEPLOYMENT_ALARMS}: the CloudWatch alarm(s) {names} went into ALARM state during the deployment."
        ),
        rollback: alarms.rollback.then_some(DEPLOYMENT_ALARMS),
    };
    fail_primary(pass, failure);
}

struct Failure {
    reason: String,
    /// With rollback, who rolls back (the start of the rollback deployment's reason).
    rollback: Option<&'static str>,
}

fn fail_primary(pass: &mut Pass, failure: Failure) {
    let now = pass.now();
    let Some(primary) = pass.primary_mut() else { return };
    primary.rollout_state = RolloutState::Failed;
    primary.rollout_state_reason = failure.reason;
    primary.updated_at = now;
    let failed_id = primary.id.clone();
    let is_rollback = primary.rollback_of.is_some();
    pass.events.push(ServiceEvent::DeploymentFailed(failed_id.clone()));
    let Some(by) = failure.rollback else { return };
    if is_rollback {
        return;
    }
    let Some(target) = rollback_target(&pass.progress.deployments, &failed_id) else {
        return;
    };
    let (target_id, task_definition) = (target.id.clone(), target.task_definition.clone());
    let rollback_id = DeploymentId::generate(&mut pass.rng);
    begin_rollback(
        &mut pass.progress,
        &failed_id,
        rollback_id.clone(),
        task_definition,
        pass.desired_count,
        format!("{by}: rolling back to deploymentId {target_id}."),
        now,
    );
    pass.events.push(ServiceEvent::RollingBack { failed: failed_id, target: target_id, rollback: rollback_id });
}

/// The newest COMPLETED deployment other than the failed one.
fn rollback_target<'d>(deployments: &'d [Deployment], failed: &DeploymentId) -> Option<&'d Deployment> {
    deployments
        .iter()
        .filter(|deployment| &deployment.id != failed && deployment.rollout_state == RolloutState::Completed)
        .max_by_key(|deployment| deployment.created_at)
}
