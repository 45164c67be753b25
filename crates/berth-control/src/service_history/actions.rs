//! The service-history actions: list and describe service deployments and revisions, stop a
//! deployment by rolling it back, and forget history past its retention.
//!
//! Invariant: reads never change anything; StopServiceDeployment changes the planner's
//! progress and the deployment record in one write, so a rollback is never started without
//! the history saying so (or the other way round).

use super::records::{
    history_key, service_prefix, HistoryStatus, RollbackRecord, ServiceDeploymentRecord, ServiceRevisionRecord,
};
use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::services::{new_deployment_id, ServiceRecord, ServiceStatus};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_planner::{begin_rollback, DeploymentId, DeploymentStatus, RolloutState};
use berth_types::{ClusterName, ServiceName, Timestamp};
use std::collections::BTreeSet;
use std::time::Duration;

/// ECS shows the last 90 days of service deployments.
pub const HISTORY_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

pub const STOPPED_BY_USER_REASON: &str =
    "Service deployment stopped by user: rolling back to the source service revision.";

/// A service deployment or revision named by its ARN's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryReference {
    pub cluster: ClusterName,
    pub service: ServiceName,
    pub id: String,
}

impl HistoryReference {
    fn key(&self) -> String {
        history_key(&self.cluster, &self.service, &self.id)
    }
}

/// ListServiceDeployments' filters.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Empty: every status.
    pub statuses: Vec<HistoryStatus>,
    pub created_before: Option<Timestamp>,
    pub created_after: Option<Timestamp>,
}

impl ControlPlane {
    /// The service's deployments that pass the filter, newest first.
    pub fn list_service_deployments(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        filter: &HistoryFilter,
    ) -> ControlResult<Vec<ServiceDeploymentRecord>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        if !state.services.contains_key(&ServiceRecord::key(cluster, service)) {
            return Err(ControlError::ServiceNotFound);
        }
        let prefix = service_prefix(cluster, service);
        let mut found: Vec<ServiceDeploymentRecord> = state
            .service_deployments
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(_, record)| record)
            .filter(|record| filter.statuses.is_empty() || filter.statuses.contains(&record.status))
            .filter(|record| filter.created_before.is_none_or(|before| record.created_at < before))
            .filter(|record| filter.created_after.is_none_or(|after| record.created_at > after))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(found)
    }

    /// Each reference's deployment record, `None` where there is none.
    pub fn describe_service_deployments(
        &self,
        references: &[HistoryReference],
    ) -> Vec<Option<ServiceDeploymentRecord>> {
        let state = self.read();
        references.iter().map(|reference| state.service_deployments.get(&reference.key()).cloned()).collect()
    }

    /// Each reference's revision record, `None` where there is none.
    pub fn describe_service_revisions(&self, references: &[HistoryReference]) -> Vec<Option<ServiceRevisionRecord>> {
        let state = self.read();
        references.iter().map(|reference| state.service_revisions.get(&reference.key()).cloned()).collect()
    }

    /// StopServiceDeployment with `stopType: ROLLBACK`: a PENDING or IN_PROGRESS deployment
    /// becomes ROLLBACK_REQUESTED and a new deployment of its source revision's task
    /// definition starts (the same rollback the circuit breaker starts); one already rolling
    /// back simply continues. Anything finished is a conflict.
    pub async fn stop_service_deployment(&self, reference: &HistoryReference) -> ControlResult<()> {
        self.mutate(|state| {
            let record =
                state.service_deployments.get(&reference.key()).ok_or(ControlError::ServiceDeploymentNotFound)?;
            match record.status {
                HistoryStatus::Pending | HistoryStatus::InProgress => {}
                HistoryStatus::RollbackRequested | HistoryStatus::RollbackInProgress => return Ok((vec![], ())),
                finished => return Err(not_stoppable(record, &format!("it is {}", finished.as_str()))),
            }
            let service = state
                .services
                .get(&ServiceRecord::key(&record.cluster, &record.service))
                .filter(|service| service.status == ServiceStatus::Active)
                .ok_or_else(|| not_stoppable(record, "its service is not ACTIVE"))?;
            let in_progress = service.progress.deployment(&record.deployment_id).is_some_and(|deployment| {
                deployment.status == DeploymentStatus::Primary && deployment.rollout_state == RolloutState::InProgress
            });
            if !in_progress {
                return Err(not_stoppable(record, "its rollout is no longer in progress"));
            }
            let source = record
                .source_revisions
                .first()
                .ok_or_else(|| not_stoppable(record, "it has no source service revision to roll back to"))?;
            let revision = state
                .service_revisions
                .get(&history_key(&record.cluster, &record.service, &source.revision_id))
                .ok_or_else(|| not_stoppable(record, "its source service revision is gone"))?;
            Ok((rollback_changes(service, record, revision, Timestamp::now()), ()))
        })
        .await?;
        self.wake_service_reconciler();
        Ok(())
    }

    /// ContinueServiceDeployment: resolves the PAUSE hook the deployment waits at. The next
    /// service pass moves on (CONTINUE) or rolls the deployment back (ROLLBACK).
    pub async fn continue_service_deployment(
        &self,
        reference: &HistoryReference,
        hook_id: &str,
        action: crate::elb::traffic_shift::HookAction,
    ) -> ControlResult<()> {
        use crate::elb::traffic_shift::{HookAction, HookStatus};
        self.mutate(|state| {
            let record =
                state.service_deployments.get(&reference.key()).ok_or(ControlError::ServiceDeploymentNotFound)?;
            let not_paused = || {
                ControlError::InvalidParameter(format!(
                    "hookId: the service deployment {} is not paused at lifecycle hook {hook_id:?}",
                    record.id
                ))
            };
            let mut service = state
                .services
                .get(&ServiceRecord::key(&record.cluster, &record.service))
                .ok_or_else(not_paused)?
                .clone();
            let run = service
                .traffic
                .shift
                .as_mut()
                .filter(|shift| shift.deployment == record.deployment_id)
                .and_then(|shift| {
                    shift
                        .hook_runs
                        .iter_mut()
                        .find(|run| run.hook_id == hook_id && run.status == HookStatus::AwaitingAction)
                })
                .ok_or_else(not_paused)?;
            run.status = match action {
                HookAction::Continue => HookStatus::Succeeded,
                HookAction::Rollback => HookStatus::Failed,
            };
            Ok((vec![Change::PutService(Box::new(service))], ()))
        })
        .await?;
        self.wake_service_reconciler();
        Ok(())
    }

    /// Rolls back the service deployment that rolls out planner deployment `deployment` (a
    /// lifecycle hook's ROLLBACK), as StopServiceDeployment would.
    pub(crate) async fn roll_back_deployment(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        deployment: &DeploymentId,
    ) -> ControlResult<()> {
        let id = {
            let state = self.read();
            state
                .service_deployments
                .values()
                .find(|record| {
                    &record.cluster == cluster && &record.service == service && &record.deployment_id == deployment
                })
                .map(|record| record.id.clone())
        };
        match id {
            Some(id) => {
                let reference = HistoryReference { cluster: cluster.clone(), service: service.clone(), id };
                self.stop_service_deployment(&reference).await
            }
            None => Ok(()),
        }
    }

    /// Forgets finished service deployments older than [`HISTORY_RETENTION`], and revisions
    /// that are that old and no remaining deployment names.
    pub(crate) fn expired_history(state: &State, now: Timestamp) -> Vec<Change> {
        let expired = |created_at: Timestamp| now.since(created_at) >= HISTORY_RETENTION;
        let mut changes = Vec::new();
        let mut named = BTreeSet::new();
        for (key, record) in &state.service_deployments {
            if record.status.is_terminal() && expired(record.created_at) {
                changes.push(Change::DeleteServiceDeployment(key.clone()));
                continue;
            }
            let revisions = record.source_revisions.iter().map(|source| source.revision_id.clone());
            let rollback = record.rollback.as_ref().and_then(|rollback| rollback.revision_id.clone());
            for id in revisions.chain([record.target_revision.revision_id.clone()]).chain(rollback) {
                named.insert(history_key(&record.cluster, &record.service, &id));
            }
        }
        for (key, revision) in &state.service_revisions {
            if expired(revision.created_at) && !named.contains(key) {
                changes.push(Change::DeleteServiceRevision(key.clone()));
            }
        }
        changes
    }
}

fn not_stoppable(record: &ServiceDeploymentRecord, why: &str) -> ControlError {
    ControlError::Conflict {
        message: format!("The service deployment {} cannot be stopped: {why}.", record.id),
        resource_ids: vec![record.id.clone()],
    }
}

/// The service with its PRIMARY failed and a rollback to `revision` begun, and the record
/// saying a rollback was requested.
fn rollback_changes(
    service: &ServiceRecord,
    record: &ServiceDeploymentRecord,
    revision: &ServiceRevisionRecord,
    now: Timestamp,
) -> Vec<Change> {
    let mut service = service.clone();
    let rollback_id = new_deployment_id();
    let progress = &mut service.progress;
    if let Some(stopped) = progress.deployments.iter_mut().find(|deployment| deployment.id == record.deployment_id) {
        stopped.rollout_state = RolloutState::Failed;
        stopped.rollout_state_reason = format!("ECS deployment {} stopped by user: rolling back.", stopped.id);
        stopped.updated_at = now;
    }
    let desired = service.configuration.desired_count;
    begin_rollback(
        progress,
        &record.deployment_id,
        rollback_id.clone(),
        revision.task_definition.clone(),
        desired,
        format!("Rolling back ECS deployment {} to service revision {}.", record.deployment_id, revision.id),
        now,
    );
    progress.steady = false;
    progress.revision += 1;
    let mut stopped = record.clone();
    stopped.status = HistoryStatus::RollbackRequested;
    stopped.status_reason = Some(STOPPED_BY_USER_REASON.to_string());
    stopped.started_at.get_or_insert(now);
    stopped.stopped_at = Some(now);
    stopped.updated_at = now;
    stopped.rollback = Some(RollbackRecord {
        reason: STOPPED_BY_USER_REASON.to_string(),
        started_at: now,
        revision_id: Some(revision.id.clone()),
        deployment_id: Some(rollback_id),
    });
    vec![Change::PutService(Box::new(service)), Change::PutServiceDeployment(Box::new(stopped))]
}
