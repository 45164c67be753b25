//! Daemon actions: CreateDaemon, UpdateDaemon, DeleteDaemon, and the reads of daemons, their
//! deployments and revisions.
//!
//! Invariant: every write that starts a deployment writes, in the same batch, the daemon with
//! its planner progress, the new deployment record (and, except for a deletion, its revision),
//! and marks the deployment it supersedes STOPPED — so history and tasks agree after a crash.

use super::records::{
    deployment_history_id, history_key, DaemonConfiguration, DaemonDeploymentRecord, DaemonDeploymentSettings,
    DaemonDeploymentStatus, DaemonRecord, DaemonRevisionRecord, DaemonStatus,
};
use super::task_definitions::find_daemon_task_definition;
use super::DaemonChange;
use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::services::new_deployment_id;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_planner::{begin_deployment, DeploymentId, ServiceProgress, TaskDefinitionKey};
use berth_types::daemons::DaemonTaskDefinitionStatus;
use berth_types::{ClusterName, DaemonName, Tag, TaskId, Timestamp};
use std::collections::BTreeSet;

/// CreateDaemon, parsed.
#[derive(Debug, Clone)]
pub struct CreateDaemon {
    pub cluster: ClusterName,
    pub name: DaemonName,
    pub configuration: DaemonConfiguration,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
}

/// UpdateDaemon, parsed: the definition and providers are required; a member left out keeps
/// the daemon's current value.
#[derive(Debug, Clone)]
pub struct DaemonUpdate {
    pub task_definition: TaskDefinitionKey,
    pub capacity_providers: Vec<String>,
    pub deployment: Option<DaemonDeploymentSettings>,
    pub propagate_tags: Option<bool>,
    pub enable_ecs_managed_tags: Option<bool>,
    pub enable_execute_command: Option<bool>,
    pub critical: Option<bool>,
}

impl DaemonUpdate {
    fn applied_to(self, current: &DaemonConfiguration) -> DaemonConfiguration {
        DaemonConfiguration {
            task_definition: self.task_definition,
            capacity_providers: self.capacity_providers,
            deployment: self.deployment.unwrap_or_else(|| current.deployment.clone()),
            propagate_tags: self.propagate_tags.unwrap_or(current.propagate_tags),
            enable_ecs_managed_tags: self.enable_ecs_managed_tags.unwrap_or(current.enable_ecs_managed_tags),
            enable_execute_command: self.enable_execute_command.unwrap_or(current.enable_execute_command),
            critical: self.critical.unwrap_or(current.critical),
        }
    }
}

/// ListDaemonDeployments' filters.
#[derive(Debug, Clone, Default)]
pub struct DaemonDeploymentFilter {
    pub statuses: Vec<DaemonDeploymentStatus>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
}

impl ControlPlane {
    pub async fn create_daemon(&self, request: CreateDaemon) -> ControlResult<DaemonRecord> {
        let created = self
            .mutate(|state| {
                active_cluster(state, &request.cluster)?;
                let key = DaemonRecord::key(&request.cluster, &request.name);
                if let Some(existing) = state.daemons.daemons.get(&key) {
                    if existing.status == DaemonStatus::Active
                        && request.client_token.is_some()
                        && existing.client_token == request.client_token
                    {
                        return Ok((vec![], existing.clone()));
                    }
                    return Err(ControlError::InvalidParameter(format!(
                        "daemonName: a daemon named {} already exists in cluster {} ({}).",
                        request.name,
                        request.cluster,
                        existing.status.as_str()
                    )));
                }
                check_configuration(state, &request.cluster, &request.configuration)?;
                let now = Timestamp::now();
                let mut record = DaemonRecord {
                    cluster: request.cluster.clone(),
                    name: request.name.clone(),
                    status: DaemonStatus::Active,
                    configuration: request.configuration.clone(),
                    progress: ServiceProgress::default(),
                    deployment_id: String::new(),
                    revision_id: String::new(),
                    tags: request.tags.clone(),
                    created_at: now,
                    updated_at: now,
                    client_token: request.client_token.clone(),
                };
                let changes = start_deployment(state, &mut record, now);
                Ok((changes, record))
            })
            .await?;
        Ok(created)
    }

    /// Replaces the daemon's configuration and rolls it out as a new deployment.
    pub async fn update_daemon(
        &self,
        cluster: &ClusterName,
        name: &DaemonName,
        update: DaemonUpdate,
    ) -> ControlResult<DaemonRecord> {
        self.mutate(|state| {
            let mut record = active_daemon(state, cluster, name)?.clone();
            let configuration = update.applied_to(&record.configuration);
            check_configuration(state, cluster, &configuration)?;
            let now = after_last_change(&record);
            record.configuration = configuration;
            record.updated_at = now;
            let changes = start_deployment(state, &mut record, now);
            Ok((changes, record))
        })
        .await
    }

    /// Marks the daemon DELETE_IN_PROGRESS; its deployment stops every task, and the daemon is
    /// gone once they have stopped (its history stays describable).
    pub async fn delete_daemon(&self, cluster: &ClusterName, name: &DaemonName) -> ControlResult<DaemonRecord> {
        self.mutate(|state| {
            let mut record = active_daemon(state, cluster, name)?.clone();
            let now = after_last_change(&record);
            let id = new_deployment_id();
            let mut changes = supersede_open_deployments(state, &record, &id, now);
            changes.push(deployment_change(&record, &id, None, source_revisions(state, &record), now));
            record.status = DaemonStatus::DeleteInProgress;
            record.deployment_id = deployment_history_id(&id);
            record.updated_at = now;
            changes.push(Change::Daemon(DaemonChange::PutDaemon(Box::new(record.clone()))));
            Ok((changes, record))
        })
        .await
    }

    pub fn describe_daemon(&self, cluster: &ClusterName, name: &DaemonName) -> ControlResult<DaemonRecord> {
        let state = self.read();
        state.daemons.daemons.get(&DaemonRecord::key(cluster, name)).cloned().ok_or(ControlError::DaemonNotFound)
    }

    /// The cluster's daemons, by name; with `capacity_providers`, those using any of them.
    pub fn list_daemons(
        &self,
        cluster: &ClusterName,
        capacity_providers: &[String],
    ) -> ControlResult<Vec<DaemonRecord>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        Ok(state
            .daemons
            .daemons
            .values()
            .filter(|daemon| &daemon.cluster == cluster)
            .filter(|daemon| {
                capacity_providers.is_empty()
                    || daemon
                        .configuration
                        .capacity_providers
                        .iter()
                        .any(|provider| capacity_providers.contains(provider))
            })
            .cloned()
            .collect())
    }

    /// The daemon's deployments, newest first. A deleted daemon's history is still listed.
    pub fn list_daemon_deployments(
        &self,
        cluster: &ClusterName,
        name: &DaemonName,
        filter: &DaemonDeploymentFilter,
    ) -> ControlResult<Vec<DaemonDeploymentRecord>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let prefix = format!("{}/", DaemonRecord::key(cluster, name));
        let since = state.daemons.daemons.get(&DaemonRecord::key(cluster, name)).map(|daemon| daemon.created_at);
        let mut found: Vec<DaemonDeploymentRecord> = state
            .daemons
            .deployments
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(_, record)| record)
            .filter(|record| since.is_none_or(|since| record.created_at >= since))
            .filter(|record| filter.statuses.is_empty() || filter.statuses.contains(&record.status))
            .filter(|record| filter.created_after.is_none_or(|after| record.created_at >= after))
            .filter(|record| filter.created_before.is_none_or(|before| record.created_at <= before))
            .cloned()
            .collect();
        found.sort_by(|left, right| right.created_at.cmp(&left.created_at).then_with(|| right.id.cmp(&left.id)));
        Ok(found)
    }

    pub fn find_daemon_deployment(
        &self,
        cluster: &ClusterName,
        name: &DaemonName,
        id: &str,
    ) -> Option<DaemonDeploymentRecord> {
        self.read().daemons.deployments.get(&history_key(cluster, name, id)).cloned()
    }

    pub fn find_daemon_revision(
        &self,
        cluster: &ClusterName,
        name: &DaemonName,
        id: &str,
    ) -> Option<DaemonRevisionRecord> {
        self.read().daemons.revisions.get(&history_key(cluster, name, id)).cloned()
    }
}

fn active_daemon<'a>(state: &'a State, cluster: &ClusterName, name: &DaemonName) -> ControlResult<&'a DaemonRecord> {
    active_cluster(state, cluster)?;
    let record = state.daemons.daemons.get(&DaemonRecord::key(cluster, name)).ok_or(ControlError::DaemonNotFound)?;
    if record.status != DaemonStatus::Active {
        return Err(ControlError::DaemonNotActive(format!(
            "The daemon {name} is {}; only an ACTIVE daemon can be changed.",
            record.status.as_str()
        )));
    }
    Ok(record)
}

/// The definition must be ACTIVE; each capacity provider must exist and belong to the cluster.
fn check_configuration(state: &State, cluster: &ClusterName, configuration: &DaemonConfiguration) -> ControlResult<()> {
    let key = &configuration.task_definition;
    let definition = find_daemon_task_definition(state, key.family.as_str(), Some(key.revision)).map_err(|_| {
        ControlError::Client(format!("daemonTaskDefinitionArn: the daemon task definition {key} does not exist."))
    })?;
    if definition.status != DaemonTaskDefinitionStatus::Active {
        return Err(ControlError::Client(format!(
            "daemonTaskDefinitionArn: the daemon task definition {key} is {}; only an ACTIVE one can be deployed.",
            definition.status.as_str()
        )));
    }
    let cluster_record = active_cluster(state, cluster)?;
    for (index, provider) in configuration.capacity_providers.iter().enumerate() {
        if !state.capacity_providers.get(provider).is_some_and(|record| record.active) {
            return Err(ControlError::InvalidParameter(format!(
                "capacityProviderArns[{index}]: the capacity provider {provider} does not exist."
            )));
        }
        if !cluster_record.capacity_providers.contains(provider) {
            return Err(ControlError::InvalidParameter(format!(
                "capacityProviderArns[{index}]: the capacity provider {provider} is not associated with cluster {cluster}. Add it with PutClusterCapacityProviders first."
            )));
        }
    }
    Ok(())
}

/// Begins a deployment of the record's configuration: a new revision and deployment record,
/// the superseded deployments STOPPED, and the daemon itself, all in one batch.
fn start_deployment(state: &State, record: &mut DaemonRecord, now: Timestamp) -> Vec<Change> {
    let id = new_deployment_id();
    let mut changes = supersede_open_deployments(state, record, &id, now);
    let sources = source_revisions(state, record);
    let revision = new_revision(state, record, now);
    begin_deployment(&mut record.progress, id.clone(), record.configuration.task_definition.clone(), 0, now);
    changes.push(deployment_change(record, &id, Some(revision.id.clone()), sources, now));
    record.deployment_id = deployment_history_id(&id);
    record.revision_id = revision.id.clone();
    changes.push(Change::Daemon(DaemonChange::PutRevision(Box::new(revision))));
    changes.push(Change::Daemon(DaemonChange::PutDaemon(Box::new(record.clone()))));
    changes
}

fn new_revision(state: &State, record: &DaemonRecord, now: Timestamp) -> DaemonRevisionRecord {
    let configuration = &record.configuration;
    let key = &configuration.task_definition;
    let container_images = find_daemon_task_definition(state, key.family.as_str(), Some(key.revision))
        .map(|definition| definition.spec.container_images())
        .unwrap_or_default();
    DaemonRevisionRecord {
        cluster: record.cluster.clone(),
        daemon: record.name.clone(),
        // 32 hex digits that sort by creation time.
        id: TaskId::generate().to_string(),
        task_definition: key.clone(),
        container_images,
        capacity_providers: configuration.capacity_providers.clone(),
        propagate_tags: configuration.propagate_tags,
        enable_ecs_managed_tags: configuration.enable_ecs_managed_tags,
        enable_execute_command: configuration.enable_execute_command,
        critical: configuration.critical,
        created_at: now,
    }
}

/// Now, but later than the daemon's last change: its deployments list newest first by
/// creation time, which must not tie within a millisecond.
fn after_last_change(record: &DaemonRecord) -> Timestamp {
    Timestamp::now().max(record.updated_at.plus(std::time::Duration::from_millis(1)))
}

fn deployment_change(
    record: &DaemonRecord,
    id: &DeploymentId,
    target_revision: Option<String>,
    source_revisions: Vec<String>,
    now: Timestamp,
) -> Change {
    let reason = match &target_revision {
        Some(_) => format!("ECS deployment {id} in progress."),
        None => "The daemon is being deleted: its tasks are stopping.".to_string(),
    };
    Change::Daemon(DaemonChange::PutDeployment(Box::new(DaemonDeploymentRecord {
        cluster: record.cluster.clone(),
        daemon: record.name.clone(),
        id: deployment_history_id(id),
        status: DaemonDeploymentStatus::InProgress,
        status_reason: reason,
        target_revision,
        source_revisions,
        settings: record.configuration.deployment.clone(),
        created_at: now,
        started_at: Some(now),
        stopped_at: None,
        finished_at: None,
    })))
}

/// The daemon's open deployments, STOPPED because `successor` replaces them.
fn supersede_open_deployments(
    state: &State,
    record: &DaemonRecord,
    successor: &DeploymentId,
    now: Timestamp,
) -> Vec<Change> {
    state
        .daemons
        .deployments_of(record)
        .filter(|deployment| deployment.status.is_open())
        .map(|deployment| {
            let mut stopped = deployment.clone();
            stopped.status = DaemonDeploymentStatus::Stopped;
            stopped.status_reason = format!("Superseded by daemon deployment {}.", deployment_history_id(successor));
            stopped.stopped_at = Some(now);
            Change::Daemon(DaemonChange::PutDeployment(Box::new(stopped)))
        })
        .collect()
}

/// The revisions whose tasks still run (or are starting): what a new deployment replaces.
pub(crate) fn source_revisions(state: &State, record: &DaemonRecord) -> Vec<String> {
    let group = DaemonRecord::group(&record.name);
    let planner_ids: BTreeSet<&str> = state
        .tasks_in_group(&record.cluster, &group)
        .filter(|task| task.holds_resources())
        .filter_map(|task| task.started_by.as_deref())
        .collect();
    let mut revisions: Vec<String> = state
        .daemons
        .deployments_of(record)
        .filter(|deployment| planner_ids.contains(format!("ecs-svc/{}", deployment.id).as_str()))
        .filter_map(|deployment| deployment.target_revision.clone())
        .collect();
    revisions.dedup();
    revisions
}
