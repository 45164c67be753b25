//! The planner's memory between passes: the service's deployments, the launch throttle, and
//! what it has already concluded about each task. A pass reads it from the snapshot and
//! returns its successor in the plan; the control plane stores that value whole.
//!
//! Invariant: at most one deployment is PRIMARY, and a pass never counts the same task's
//! failure or recovery twice (the per-task notes remember what was counted).
//! Not here: the user's configuration (`model::ServiceSpec`), which the planner only reads.

use crate::model::TaskDefinitionKey;
use berth_types::{TaskId, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A deployment's ID, `ecs-svc/` and 19 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeploymentId(String);

impl DeploymentId {
    const PREFIX: &'static str = "ecs-svc/";

    pub fn parse(value: &str) -> Option<Self> {
        let digits = value.strip_prefix(Self::PREFIX)?;
        let well_formed = digits.len() == 19 && digits.bytes().all(|byte| byte.is_ascii_digit());
        well_formed.then(|| DeploymentId(value.to_string()))
    }

    /// A fresh ID drawn from the caller's (seeded) generator.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let number: u64 = rng.random_range(1_000_000_000_000_000_000..10_000_000_000_000_000_000);
        DeploymentId(format!("{}{number}", Self::PREFIX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentStatus {
    Primary,
    Active,
    Inactive,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Primary => "PRIMARY",
            DeploymentStatus::Active => "ACTIVE",
            DeploymentStatus::Inactive => "INACTIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::InProgress => "IN_PROGRESS",
            RolloutState::Completed => "COMPLETED",
            RolloutState::Failed => "FAILED",
        }
    }
}

/// One entry of the service's `deployments[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: DeploymentId,
    pub status: DeploymentStatus,
    pub task_definition: TaskDefinitionKey,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    /// `failedTasks`: failures counted while the rollout was in progress.
    pub failed_tasks: u32,
    pub rollout_state: RolloutState,
    pub rollout_state_reason: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the circuit breaker created this deployment to roll back the named one.
    pub rollback_of: Option<DeploymentId>,
    /// The "cannot make progress" event was already emitted for this deployment.
    pub stuck_reported: bool,
}

impl Deployment {
    /// A new PRIMARY deployment with nothing run yet.
    fn starting(
        id: DeploymentId,
        task_definition: TaskDefinitionKey,
        desired_count: u32,
        reason: String,
        rollback_of: Option<DeploymentId>,
        now: Timestamp,
    ) -> Self {
        Deployment {
            id,
            status: DeploymentStatus::Primary,
            task_definition,
            desired_count,
            running_count: 0,
            pending_count: 0,
            failed_tasks: 0,
            rollout_state: RolloutState::InProgress,
            rollout_state_reason: reason,
            created_at: now,
            updated_at: now,
            rollback_of,
            stuck_reported: false,
        }
    }
}

/// Crash-loop protection: launches wait longer after each task that fails to start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub consecutive_start_failures: u32,
    /// No launches before this instant.
    pub next_launch_at: Option<Timestamp>,
    /// The "unable to consistently start tasks" event was emitted for this episode.
    pub reported: bool,
}

/// What earlier passes concluded about one task, so that nothing is counted twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskNote {
    /// Its becoming healthy was counted (circuit breaker and throttle reset).
    pub seen_healthy: bool,
    /// Its end was counted (failure or not), or the planner itself stopped it as unhealthy.
    pub outcome_counted: bool,
    /// It was on a lost instance and has been replaced; if it comes back it goes first.
    pub superseded: bool,
}

/// The planner-owned half of a service, returned whole by every pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProgress {
    /// PRIMARY first, then the others newest first. INACTIVE ones are kept only while one
    /// of them is the newest COMPLETED deployment, the circuit breaker's rollback target.
    pub deployments: Vec<Deployment>,
    pub throttle: Throttle,
    /// Notes of tasks still in the snapshot; notes of vanished tasks are dropped.
    pub task_notes: BTreeMap<TaskId, TaskNote>,
    /// The previous pass found the service steady.
    pub steady: bool,
    pub last_steady_state_event_at: Option<Timestamp>,
    /// The last placement failure reported as an event, and when.
    pub last_placement_failure_event: Option<(String, Timestamp)>,
    /// The last "unable to scale in" event for protected tasks: how many were held back, and
    /// when it was said.
    #[serde(default)]
    pub last_protection_event: Option<(u32, Timestamp)>,
    /// Grows on every pass and every `begin_deployment`; the control plane may compare it to
    /// detect that the progress it is about to store was computed from a stale copy.
    pub revision: u64,
}

impl ServiceProgress {
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|deployment| deployment.status == DeploymentStatus::Primary)
    }

    pub fn deployment(&self, id: &DeploymentId) -> Option<&Deployment> {
        self.deployments.iter().find(|deployment| &deployment.id == id)
    }

    /// The deployments DescribeServices shows (PRIMARY and ACTIVE).
    pub fn visible_deployments(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.iter().filter(|deployment| deployment.status != DeploymentStatus::Inactive)
    }
}

/// Starts a deployment (CreateService, or UpdateService with a new task definition or
/// `forceNewDeployment`): the current PRIMARY becomes ACTIVE and drains, and the throttle is
/// reset, as ECS does for a new task definition. The next pass does the rest.
pub fn begin_deployment(
    progress: &mut ServiceProgress,
    id: DeploymentId,
    task_definition: TaskDefinitionKey,
    desired_count: u32,
    now: Timestamp,
) {
    for deployment in &mut progress.deployments {
        if deployment.status == DeploymentStatus::Primary {
            deployment.status = DeploymentStatus::Active;
            deployment.updated_at = now;
        }
    }
    let reason = format!("ECS deployment {id} in progress.");
    progress.deployments.insert(0, Deployment::starting(id, task_definition, desired_count, reason, None, now));
    progress.throttle = Throttle::default();
    progress.steady = false;
    progress.revision += 1;
}

/// Starts a deployment that rolls `failed` back to `task_definition`: the circuit breaker's
/// rollback and a user's StopServiceDeployment both come through here, so the two cannot
/// drift apart. The failed deployment, if it was PRIMARY, becomes ACTIVE and drains; the
/// rollback becomes PRIMARY, remembers what it rolls back (a rollback never rolls back
/// again), and resets the throttle as every new deployment does. The caller marks the failed
/// deployment's rollout state and bumps `revision` as its own write requires.
pub fn begin_rollback(
    progress: &mut ServiceProgress,
    failed: &DeploymentId,
    rollback_id: DeploymentId,
    task_definition: TaskDefinitionKey,
    desired_count: u32,
    reason: String,
    now: Timestamp,
) {
    for deployment in &mut progress.deployments {
        if &deployment.id == failed && deployment.status == DeploymentStatus::Primary {
            deployment.status = DeploymentStatus::Active;
        }
    }
    let rollback = Deployment::starting(rollback_id, task_definition, desired_count, reason, Some(failed.clone()), now);
    progress.deployments.insert(0, rollback);
    progress.throttle = Throttle::default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn deployment_ids_look_like_ecs() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let id = DeploymentId::generate(&mut rng);
        assert_eq!(DeploymentId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), "ecs-svc/".len() + 19);
        assert!(DeploymentId::parse("ecs-svc/12").is_none());
        assert!(DeploymentId::parse("svc/1234567890123456789").is_none());
    }
}
