//! Cluster actions: create, describe (with statistics), list, update settings, delete.

use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::account_settings::{AccountSettingName, Principal};
use berth_types::records::ClusterRecord;
use berth_types::{ClusterName, ClusterStatus, ContainerInstanceStatus, Tag, TaskStatus, Timestamp};
use std::collections::BTreeMap;

/// The cluster setting the `containerInsights` account setting is the default of.
const CONTAINER_INSIGHTS: &str = "containerInsights";

/// A cluster with the counts DescribeClusters reports.
#[derive(Debug, Clone)]
pub struct ClusterSummary {
    pub record: ClusterRecord,
    pub registered_container_instances: usize,
    pub running_tasks: usize,
    pub pending_tasks: usize,
    pub active_services: usize,
}

impl ControlPlane {
    /// Creates the cluster, or returns it unchanged if it is already ACTIVE (CreateCluster is
    /// idempotent in ECS). An INACTIVE cluster of that name comes back to life.
    pub async fn create_cluster(
        &self,
        name: ClusterName,
        tags: Vec<Tag>,
        settings: BTreeMap<String, String>,
    ) -> ControlResult<ClusterSummary> {
        let record = self
            .mutate(|state| {
                if let Some(existing) = state.cluster(&name).filter(|record| record.status == ClusterStatus::Active) {
                    return Ok((vec![], existing.clone()));
                }
                let mut settings = settings;
                // A cluster created without containerInsights takes the account's setting.
                settings.entry(CONTAINER_INSIGHTS.to_string()).or_insert_with(|| {
                    crate::account_settings::resolve(
                        &state.account_settings,
                        &Principal::Root,
                        AccountSettingName::ContainerInsights,
                    )
                    .value
                });
                let record = ClusterRecord {
                    name: name.clone(),
                    status: ClusterStatus::Active,
                    tags,
                    settings,
                    created_at: Timestamp::now(),
                    capacity_providers: vec![],
                    default_capacity_provider_strategy: vec![],
                };
                Ok((vec![Change::PutCluster(record.clone())], record))
            })
            .await?;
        Ok(self.summarise(&self.read(), record))
    }

    /// Describes the named clusters; names that match nothing come back as `MISSING`.
    pub fn describe_clusters(&self, names: &[ClusterName]) -> (Vec<ClusterSummary>, Vec<ClusterName>) {
        let state = self.read();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match state.cluster(name) {
                Some(record) => found.push(self.summarise(&state, record.clone())),
                None => missing.push(name.clone()),
            }
        }
        (found, missing)
    }

    /// Names of the ACTIVE clusters, in name order.
    pub fn list_clusters(&self) -> Vec<ClusterName> {
        let state = self.read();
        state
            .clusters
            .values()
            .filter(|record| record.status == ClusterStatus::Active)
            .map(|record| record.name.clone())
            .collect()
    }

    /// Replaces the given settings (others keep their values).
    pub async fn update_cluster_settings(
        &self,
        name: &ClusterName,
        settings: BTreeMap<String, String>,
    ) -> ControlResult<ClusterSummary> {
        let record = self
            .mutate(|state| {
                let mut record = active_cluster(state, name)?.clone();
                record.settings.extend(settings);
                Ok((vec![Change::PutCluster(record.clone())], record))
            })
            .await?;
        Ok(self.summarise(&self.read(), record))
    }

    /// Marks the cluster INACTIVE. Refused while it still has registered container instances or
    /// tasks that are not stopped.
    pub async fn delete_cluster(&self, name: &ClusterName) -> ControlResult<ClusterSummary> {
        let record = self
            .mutate(|state| {
                let mut record = active_cluster(state, name)?.clone();
                let has_instances = state.instances.values().any(|instance| {
                    &instance.cluster == name
                        && matches!(
                            instance.status,
                            ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining
                        )
                });
                if has_instances {
                    return Err(ControlError::ClusterContainsContainerInstances);
                }
                let has_services = state.services.values().any(|service| {
                    &service.cluster == name && service.status != crate::services::ServiceStatus::Inactive
                });
                if has_services {
                    return Err(ControlError::ClusterContainsServices);
                }
                if state.tasks.values().any(|task| &task.cluster == name && task.last_status != TaskStatus::Stopped) {
                    return Err(ControlError::ClusterContainsTasks);
                }
                record.status = ClusterStatus::Inactive;
                Ok((vec![Change::PutCluster(record.clone())], record))
            })
            .await?;
        Ok(self.summarise(&self.read(), record))
    }

    fn summarise(&self, state: &State, record: ClusterRecord) -> ClusterSummary {
        let registered_container_instances = state
            .instances
            .values()
            .filter(|instance| {
                instance.cluster == record.name
                    && matches!(instance.status, ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining)
            })
            .count();
        let (mut running_tasks, mut pending_tasks) = (0, 0);
        for task in state.tasks.values().filter(|task| task.cluster == record.name) {
            if task.last_status == TaskStatus::Running {
                running_tasks += 1;
            } else if task.last_status.is_pending() {
                pending_tasks += 1;
            }
        }
        let active_services = state
            .services
            .values()
            .filter(|service| {
                service.cluster == record.name && service.status == crate::services::ServiceStatus::Active
            })
            .count();
        ClusterSummary { record, registered_container_instances, running_tasks, pending_tasks, active_services }
    }
}

/// The cluster if it exists and is ACTIVE; `ClusterNotFoundException` otherwise, as ECS answers
/// for deleted clusters too.
pub(crate) fn active_cluster<'a>(state: &'a State, name: &ClusterName) -> ControlResult<&'a ClusterRecord> {
    state.cluster(name).filter(|record| record.status == ClusterStatus::Active).ok_or(ControlError::ClusterNotFound)
}

#[cfg(test)]
mod tests {
    use crate::testing::{control_plane, name};
    use crate::ControlError;
    use berth_types::ClusterStatus;

    #[tokio::test]
    async fn create_is_idempotent_and_delete_marks_inactive() {
        let control = control_plane();
        let first = control.create_cluster(name("prod"), vec![], Default::default()).await.unwrap();
        let again = control.create_cluster(name("prod"), vec![], Default::default()).await.unwrap();
        assert_eq!(first.record.created_at, again.record.created_at);
        assert_eq!(control.list_clusters(), vec![name("prod")]);
        let deleted = control.delete_cluster(&name("prod")).await.unwrap();
        assert_eq!(deleted.record.status, ClusterStatus::Inactive);
        assert!(control.list_clusters().is_empty());
        assert!(matches!(control.delete_cluster(&name("prod")).await, Err(ControlError::ClusterNotFound)));
        let (found, missing) = control.describe_clusters(&[name("prod"), name("nope")]);
        assert_eq!(found[0].record.status, ClusterStatus::Inactive);
        assert_eq!(missing, vec![name("nope")]);
    }
}
