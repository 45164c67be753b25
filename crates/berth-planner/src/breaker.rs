//! The deployment circuit breaker: fail the PRIMARY deployment once its counted failures
//! reach the threshold, and with rollback start a new PRIMARY deployment of the newest
//! COMPLETED deployment's task definition.
//!
//! Invariant: a FAILED deployment launches nothing more. A rollback deployment never rolls
//! back again, so a service cannot oscillate; without a COMPLETED deployment to return to the
//! failed deployment simply stalls.

use crate::bounds::circuit_breaker_threshold;
use crate::events::ServiceEvent;
use crate::pass::Pass;
use crate::progress::{begin_rollback, Deployment, DeploymentId, RolloutState};

pub(crate) fn trip_if_over_threshold(pass: &mut Pass) {
    let breaker = pass.snapshot.service.deployment_configuration.circuit_breaker;
    if !breaker.enable {
        return;
    }
    let threshold = circuit_breaker_threshold(breaker.threshold, pass.desired_count);
    let now = pass.now();
    let Some(primary) = pass.primary_mut() else { return };
    if primary.rollout_state != RolloutState::InProgress || primary.failed_tasks < threshold {
        return;
    }
    primary.rollout_state = RolloutState::Failed;
    primary.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start.".to_string();
    primary.updated_at = now;
    let failed_id = primary.id.clone();
    let is_rollback = primary.rollback_of.is_some();
    pass.events.push(ServiceEvent::DeploymentFailed(failed_id.clone()));
    if !breaker.rollback || is_rollback {
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
        format!("ECS deployment circuit breaker: rolling back to deploymentId {target_id}."),
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
