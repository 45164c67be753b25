//! Tags on every taggable resource, addressed by ARN.

use crate::error::{ControlError, ControlResult};
use crate::state::State;
use crate::ControlPlane;
use berth_types::{Arn, Tag};

/// ECS's limit on tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

impl ControlPlane {
    pub fn list_tags(&self, arn: &Arn) -> ControlResult<Vec<Tag>> {
        current_tags(&self.read(), arn)
    }

    /// Adds or replaces the given tags.
    pub async fn tag_resource(&self, arn: &Arn, tags: Vec<Tag>) -> ControlResult<()> {
        let mut merged = self.list_tags(arn)?;
        for tag in tags {
            match merged.iter_mut().find(|existing| existing.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => merged.push(tag),
            }
        }
        if merged.len() > MAX_TAGS_PER_RESOURCE {
            return Err(ControlError::InvalidParameter(format!(
                "tags: a resource can have at most {MAX_TAGS_PER_RESOURCE} tags"
            )));
        }
        self.replace_tags(arn, merged).await
    }

    pub async fn untag_resource(&self, arn: &Arn, keys: &[String]) -> ControlResult<()> {
        let mut tags = self.list_tags(arn)?;
        tags.retain(|tag| !keys.contains(&tag.key));
        self.replace_tags(arn, tags).await
    }

    async fn replace_tags(&self, arn: &Arn, tags: Vec<Tag>) -> ControlResult<()> {
        match arn {
            Arn::Cluster(name) => self.set_cluster_tags(name, tags).await,
            Arn::TaskDefinition(family, revision) => {
                self.set_task_definition_tags(family.as_str(), *revision, tags).await
            }
            Arn::Task(_, id) => self.set_task_tags(id, tags).await,
            Arn::ContainerInstance(_, id) => self.set_container_instance_tags(id, tags).await,
            Arn::CapacityProvider(name) => self.set_capacity_provider_tags(name, tags).await,
            Arn::Service(cluster, name) => self.set_service_tags(cluster, name, tags).await,
        }
    }

    async fn set_cluster_tags(&self, name: &berth_types::ClusterName, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = state.cluster(name).ok_or(ControlError::ResourceNotFound)?.clone();
            record.tags = tags;
            Ok((vec![crate::state::Change::PutCluster(record)], ()))
        })
        .await
    }
}

fn current_tags(state: &State, arn: &Arn) -> ControlResult<Vec<Tag>> {
    let tags = match arn {
        Arn::Cluster(name) => state.cluster(name).map(|record| record.tags.clone()),
        Arn::TaskDefinition(family, revision) => state
            .task_definitions
            .get(family.as_str())
            .and_then(|revisions| revisions.get(revision))
            .map(|record| record.tags.clone()),
        Arn::Task(cluster, id) => {
            state.tasks.get(id).filter(|task| &task.cluster == cluster).map(|task| task.tags.clone())
        }
        Arn::ContainerInstance(cluster, id) => state
            .instances
            .get(id)
            .filter(|instance| &instance.cluster == cluster)
            .map(|instance| instance.tags.clone()),
        Arn::CapacityProvider(name) => state.capacity_providers.get(name).map(|record| record.tags.clone()),
        Arn::Service(cluster, name) => {
            state.services.get(&crate::services::ServiceRecord::key(cluster, name)).map(|record| record.tags.clone())
        }
    };
    tags.ok_or_else(|| missing(arn))
}

/// ECS's tagging operations answer ClusterNotFoundException for a cluster and
/// InvalidParameterException for anything else they cannot find.
fn missing(arn: &Arn) -> ControlError {
    match arn {
        Arn::Cluster(_) => ControlError::ClusterNotFound,
        _ => ControlError::InvalidParameter("resourceArn: the specified resource was not found.".to_string()),
    }
}
