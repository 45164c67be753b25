//! Capacity providers: named pools of container instances (an agent joins one by
//! configuration), their association with clusters, and the clusters' default strategy.
//!
//! Not here: scaling. ECS's providers front EC2 Auto Scaling groups; Berth's pools grow when an
//! operator starts agents, so an `autoScalingGroupProvider` is kept only to be echoed back.

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::records::{CapacityProviderRecord, CapacityProviderStrategyItem};
use berth_types::{ClusterName, Tag, TaskStatus, Timestamp};

/// Names of the managed pool that later versions provide; nobody may create them now.
pub const RESERVED_NAMES: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];

impl ControlPlane {
    pub async fn create_capacity_provider(
        &self,
        name: String,
        auto_scaling_group_provider: Option<serde_json::Value>,
        tags: Vec<Tag>,
    ) -> ControlResult<CapacityProviderRecord> {
        self.mutate(|state| {
            if state.capacity_providers.get(&name).is_some_and(|record| record.active) {
                return Err(ControlError::InvalidParameter(format!(
                    "name: a capacity provider named {name} already exists."
                )));
            }
            let record = CapacityProviderRecord {
                name,
                active: true,
                update_status: "CREATE_COMPLETE".to_string(),
                update_status_reason: None,
                auto_scaling_group_provider,
                tags,
                created_at: Timestamp::now(),
            };
            Ok((vec![Change::PutCapacityProvider(record.clone())], record))
        })
        .await
    }

    /// Overlays the members of `auto_scaling_group_update` on the stored provider document.
    pub async fn update_capacity_provider(
        &self,
        name: &str,
        auto_scaling_group_update: Option<serde_json::Value>,
    ) -> ControlResult<CapacityProviderRecord> {
        self.mutate(|state| {
            let mut record = active_provider(state, name)?.clone();
            if let Some(serde_json::Value::Object(update)) = auto_scaling_group_update {
                let mut document = match record.auto_scaling_group_provider.take() {
                    Some(serde_json::Value::Object(existing)) => existing,
                    _ => serde_json::Map::new(),
                };
                document.extend(update);
                record.auto_scaling_group_provider = Some(serde_json::Value::Object(document));
            }
            record.update_status = "UPDATE_COMPLETE".to_string();
            Ok((vec![Change::PutCapacityProvider(record.clone())], record))
        })
        .await
    }

    /// Deletes a provider no cluster uses any more. While a cluster still uses it, the provider
    /// stays ACTIVE with `updateStatus` DELETE_FAILED and the reason, as ECS answers (a success,
    /// not an error).
    pub async fn delete_capacity_provider(&self, name: &str) -> ControlResult<CapacityProviderRecord> {
        self.mutate(|state| {
            let mut record = active_provider(state, name)?.clone();
            let user = state
                .clusters
                .values()
                .find(|cluster| cluster.capacity_providers.iter().any(|provider| provider == name));
            match user {
                Some(cluster) => {
                    record.update_status = "DELETE_FAILED".to_string();
                    record.update_status_reason = Some(format!(
                        "The capacity provider cannot be deleted because it is associated with cluster: {}. Remove the capacity provider from the cluster and try again.",
                        cluster.name
                    ));
                }
                None => {
                    record.active = false;
                    record.update_status = "DELETE_COMPLETE".to_string();
                    record.update_status_reason = None;
                }
            }
            Ok((vec![Change::PutCapacityProvider(record.clone())], record))
        })
        .await
    }

    /// The named providers (all of them when `names` is empty) and the names that match none.
    pub fn describe_capacity_providers(&self, names: &[String]) -> (Vec<CapacityProviderRecord>, Vec<String>) {
        let state = self.read();
        if names.is_empty() {
            return (state.capacity_providers.values().filter(|record| record.active).cloned().collect(), vec![]);
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match state.capacity_providers.get(name) {
                Some(record) => found.push(record.clone()),
                None => missing.push(name.clone()),
            }
        }
        (found, missing)
    }

    /// Replaces the cluster's providers and default strategy. A provider still used by a
    /// running task of the cluster cannot be removed.
    pub async fn put_cluster_capacity_providers(
        &self,
        cluster: &ClusterName,
        providers: Vec<String>,
        default_strategy: Vec<CapacityProviderStrategyItem>,
    ) -> ControlResult<crate::clusters::ClusterSummary> {
        let record = self
            .mutate(|state| {
                let mut record = active_cluster(state, cluster)?.clone();
                for provider in &providers {
                    active_provider(state, provider)?;
                }
                for item in &default_strategy {
                    if !providers.contains(&item.capacity_provider) {
                        return Err(ControlError::InvalidParameter(format!(
                            "defaultCapacityProviderStrategy: {} is not one of the cluster's capacityProviders.",
                            item.capacity_provider
                        )));
                    }
                }
                for removed in record.capacity_providers.iter().filter(|provider| !providers.contains(provider)) {
                    let in_use = state.tasks.values().any(|task| {
                        &task.cluster == cluster
                            && task.last_status != TaskStatus::Stopped
                            && task.capacity_provider.as_deref() == Some(removed.as_str())
                    });
                    if in_use {
                        return Err(ControlError::ResourceInUse(format!(
                            "The capacity provider {removed} is in use by tasks in cluster {cluster} and cannot be removed."
                        )));
                    }
                }
                record.capacity_providers = providers;
                record.default_capacity_provider_strategy = default_strategy;
                Ok((vec![Change::PutCluster(record.clone())], record))
            })
            .await?;
        let (mut summaries, _) = self.describe_clusters(std::slice::from_ref(&record.name));
        Ok(summaries.remove(0))
    }

    pub async fn set_capacity_provider_tags(&self, name: &str, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = state.capacity_providers.get(name).ok_or(ControlError::ResourceNotFound)?.clone();
            record.tags = tags;
            Ok((vec![Change::PutCapacityProvider(record)], ()))
        })
        .await
    }
}

fn active_provider<'a>(state: &'a State, name: &str) -> ControlResult<&'a CapacityProviderRecord> {
    state.capacity_providers.get(name).filter(|record| record.active).ok_or_else(|| {
        ControlError::InvalidParameter(format!("The specified capacity provider {name} does not exist."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{control_plane, name};

    #[tokio::test]
    async fn lifecycle_and_cluster_association() {
        let control = control_plane();
        control.create_cluster(name("prod"), vec![], Default::default()).await.unwrap();
        control.create_capacity_provider("spot".into(), None, vec![]).await.unwrap();
        assert!(control.create_capacity_provider("spot".into(), None, vec![]).await.is_err());
        let strategy = vec![CapacityProviderStrategyItem { capacity_provider: "spot".into(), weight: 1, base: 0 }];
        let summary =
            control.put_cluster_capacity_providers(&name("prod"), vec!["spot".into()], strategy.clone()).await.unwrap();
        assert_eq!(summary.record.default_capacity_provider_strategy, strategy);
        let refused = control.delete_capacity_provider("spot").await.unwrap();
        assert!(refused.active, "a provider a cluster uses stays ACTIVE");
        assert_eq!(refused.update_status, "DELETE_FAILED");
        assert!(refused.update_status_reason.unwrap().contains("associated with cluster: prod"));
        control.put_cluster_capacity_providers(&name("prod"), vec![], vec![]).await.unwrap();
        let deleted = control.delete_capacity_provider("spot").await.unwrap();
        assert!(!deleted.active);
        assert!(control.describe_capacity_providers(&[]).0.is_empty());
        let bad = vec![CapacityProviderStrategyItem { capacity_provider: "other".into(), weight: 1, base: 0 }];
        assert!(control.put_cluster_capacity_providers(&name("prod"), vec![], bad).await.is_err());
    }
}
