//! Container instance actions: registration (by agents), describe with remaining resources,
//! list, drain/activate, deregister.

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::records::{ContainerInstanceRecord, VersionInfo};
use berth_types::{
    Attribute, ClusterName, ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, Resources, Tag, TaskStatus,
    Timestamp,
};
use std::time::Instant;

/// What an agent registers.
#[derive(Debug, Clone)]
pub struct RegisterInstance {
    pub cluster: ClusterName,
    /// The host identity from the instance identity document (stable per agent data dir).
    pub ec2_instance_id: String,
    /// The ARN the agent registered under before, if it remembers one.
    pub previous_id: Option<ContainerInstanceId>,
    pub registered: Resources,
    pub attributes: Vec<Attribute>,
    pub version_info: VersionInfo,
    pub tags: Vec<Tag>,
    /// The capacity provider the agent is configured to join.
    pub capacity_provider: Option<String>,
}

/// An instance with what DescribeContainerInstances derives.
#[derive(Debug, Clone)]
pub struct InstanceSummary {
    pub record: ContainerInstanceRecord,
    pub remaining: Resources,
    pub agent_connected: bool,
    pub running_tasks: usize,
    pub pending_tasks: usize,
}

impl ControlPlane {
    /// Registers a host. The same host (same identity, or the ARN it registered under before)
    /// gets its existing container instance back, with resources and attributes refreshed.
    pub async fn register_container_instance(&self, request: RegisterInstance) -> ControlResult<InstanceSummary> {
        let record = self
            .mutate(|state| {
                active_cluster(state, &request.cluster)?;
                let existing = state.instances.values().find(|instance| {
                    instance.cluster == request.cluster
                        && instance.status != ContainerInstanceStatus::Inactive
                        && (instance.ec2_instance_id == request.ec2_instance_id
                            || Some(&instance.id) == request.previous_id.as_ref())
                });
                let record = match existing {
                    Some(existing) => {
                        let mut record = existing.clone();
                        record.registered = request.registered;
                        record.attributes = request.attributes;
                        record.version_info = request.version_info;
                        record.ec2_instance_id = request.ec2_instance_id;
                        record.capacity_provider = request.capacity_provider;
                        if !request.tags.is_empty() {
                            record.tags = request.tags;
                        }
                        record.version += 1;
                        record
                    }
                    None => ContainerInstanceRecord {
                        id: ContainerInstanceId::generate(),
                        cluster: request.cluster.clone(),
                        ec2_instance_id: request.ec2_instance_id,
                        status: ContainerInstanceStatus::Active,
                        status_reason: None,
                        registered: request.registered,
                        attributes: request.attributes,
                        custom_attributes: vec![],
                        capacity_provider: request.capacity_provider.clone(),
                        version_info: request.version_info,
                        registered_at: Timestamp::now(),
                        tags: request.tags,
                        version: 1,
                        desired_generation: 1,
                    },
                };
                Ok((vec![Change::PutContainerInstance(record.clone())], record))
            })
            .await?;
        self.record_agent_contact(&record.id);
        Ok(self.summarise_instance(&self.read(), record))
    }

    pub fn describe_container_instances(
        &self,
        cluster: &ClusterName,
        ids: &[ContainerInstanceId],
    ) -> ControlResult<(Vec<InstanceSummary>, Vec<ContainerInstanceId>)> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match state.instances.get(id).filter(|instance| &instance.cluster == cluster) {
                Some(record) => found.push(self.summarise_instance(&state, record.clone())),
                None => missing.push(id.clone()),
            }
        }
        Ok((found, missing))
    }

    /// IDs of the cluster's instances; without a status filter, every instance that is not
    /// INACTIVE. `filter` is a cluster query language expression the instance must match.
    pub fn list_container_instances(
        &self,
        cluster: &ClusterName,
        status: Option<ContainerInstanceStatus>,
        filter: Option<&berth_scheduler::Expression>,
    ) -> ControlResult<Vec<ContainerInstanceId>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        Ok(state
            .instances
            .values()
            .filter(|instance| &instance.cluster == cluster)
            .filter(|instance| match status {
                Some(wanted) => instance.status == wanted,
                None => instance.status != ContainerInstanceStatus::Inactive,
            })
            .filter(|instance| {
                filter.is_none_or(|expression| state.view_of(instance).is_some_and(|view| expression.matches(view)))
            })
            .map(|instance| instance.id.clone())
            .collect())
    }

    /// Sets ACTIVE or DRAINING. Nothing new is placed on a DRAINING instance.
    pub async fn update_container_instances_state(
        &self,
        cluster: &ClusterName,
        ids: &[ContainerInstanceId],
        status: ContainerInstanceStatus,
    ) -> ControlResult<(Vec<InstanceSummary>, Vec<(ContainerInstanceId, String)>)> {
        if !matches!(status, ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining) {
            return Err(ControlError::InvalidParameter(
                "status: Container instance status can only be set to ACTIVE or DRAINING.".to_string(),
            ));
        }
        let (records, failures) = self
            .mutate(|state| {
                active_cluster(state, cluster)?;
                let mut changes = Vec::new();
                let mut records = Vec::new();
                let mut failures = Vec::new();
                for id in ids {
                    match state.instances.get(id).filter(|instance| &instance.cluster == cluster) {
                        None => failures.push((id.clone(), "MISSING".to_string())),
                        Some(instance)
                            if !matches!(
                                instance.status,
                                ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining
                            ) =>
                        {
                            failures.push((id.clone(), "INACTIVE".to_string()))
                        }
                        Some(instance) => {
                            let mut record = instance.clone();
                            if record.status != status {
                                record.status = status;
                                record.version += 1;
                                changes.push(Change::PutContainerInstance(record.clone()));
                            }
                            records.push(record);
                        }
                    }
                }
                Ok((changes, (records, failures)))
            })
            .await?;
        let state = self.read();
        Ok((records.into_iter().map(|record| self.summarise_instance(&state, record)).collect(), failures))
    }

    /// Removes the instance from the cluster. With tasks still running, only `force` does it,
    /// and those tasks are recorded as stopped (their agent stops their containers).
    pub async fn deregister_container_instance(
        &self,
        cluster: &ClusterName,
        id: &ContainerInstanceId,
        force: bool,
    ) -> ControlResult<InstanceSummary> {
        let record = self
            .mutate(|state| {
                active_cluster(state, cluster)?;
                let instance = state
                    .instances
                    .get(id)
                    .filter(|instance| &instance.cluster == cluster && instance.status != ContainerInstanceStatus::Inactive)
                    .ok_or_else(|| ControlError::InvalidParameter("Container instance not found.".to_string()))?;
                let live: Vec<_> =
                    state.tasks_on_instance(id).filter(|task| task.last_status != TaskStatus::Stopped).cloned().collect();
                if !live.is_empty() && !force {
                    return Err(ControlError::InvalidParameter(format!(
                        "The container instance has {} task(s) that are not stopped. Stop them or deregister with force.",
                        live.len()
                    )));
                }
                let now = Timestamp::now();
                let mut changes: Vec<Change> = live
                    .into_iter()
                    .map(|mut task| {
                        task.desired_status = DesiredStatus::Stopped;
                        task.last_status = TaskStatus::Stopped;
                        task.stopping_at.get_or_insert(now);
                        task.stopped_at = Some(now);
                        task.stopped_reason.get_or_insert_with(|| "Container instance deregistered".to_string());
                        task.version += 1;
                        Change::PutTask(task)
                    })
                    .collect();
                let mut record = instance.clone();
                record.status = ContainerInstanceStatus::Inactive;
                record.version += 1;
                record.desired_generation += 1;
                changes.push(Change::PutContainerInstance(record.clone()));
                Ok((changes, record))
            })
            .await?;
        Ok(self.summarise_instance(&self.read(), record))
    }

    pub async fn set_container_instance_tags(&self, id: &ContainerInstanceId, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = state.instances.get(id).ok_or(ControlError::ResourceNotFound)?.clone();
            record.tags = tags;
            Ok((vec![Change::PutContainerInstance(record)], ()))
        })
        .await
    }

    pub(crate) fn record_agent_contact(&self, id: &ContainerInstanceId) {
        self.presence.lock().entry(id.clone()).or_default().last_contact = Some(Instant::now());
        let seen_disconnected = {
            let state = self.read();
            let record = state.instances.get(id);
            record.and_then(|record| state.view_of(record)).is_some_and(|view| !view.agent_connected)
        };
        if seen_disconnected {
            self.refresh_agent_connectivity();
        }
    }

    /// Brings the placement views' `agent_connected` flags in step with agent presence: at
    /// once when an agent comes back, and from the liveness loop when one falls silent.
    pub fn refresh_agent_connectivity(&self) {
        let _timer = self.metrics().reconciler_pass("liveness");
        let changed: Vec<(ClusterName, ContainerInstanceId, bool)> = {
            let state = self.read();
            state
                .cluster_views
                .iter()
                .flat_map(|(cluster, views)| {
                    let connected = self.agents_connected(views.ids.iter());
                    views
                        .ids
                        .iter()
                        .zip(&views.views)
                        .zip(connected)
                        .filter(|((_, view), connected)| *connected != view.agent_connected)
                        .map(move |((id, _), connected)| (cluster.clone(), id.clone(), connected))
                })
                .collect()
        };
        if changed.is_empty() {
            return;
        }
        let mut state = self.state.write();
        for (cluster, id, connected) in changed {
            if let Some(views) = state.cluster_views.get_mut(&cluster) {
                views.set_agent_connected(&id, connected);
            }
        }
    }

    pub(crate) fn summarise_instance(&self, state: &State, record: ContainerInstanceRecord) -> InstanceSummary {
        let (mut running_tasks, mut pending_tasks) = (0, 0);
        for task in state.tasks_on_instance(&record.id) {
            if task.last_status == TaskStatus::Running {
                running_tasks += 1;
            } else if task.last_status.is_pending() {
                pending_tasks += 1;
            }
        }
        InstanceSummary {
            remaining: state.remaining_on_instance(&record),
            // What placement believes, so that describe and RunTask never disagree.
            agent_connected: state.view_of(&record).is_some_and(|view| view.agent_connected),
            running_tasks,
            pending_tasks,
            record,
        }
    }
}
