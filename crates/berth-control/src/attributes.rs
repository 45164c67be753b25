//! PutAttributes, DeleteAttributes and ListAttributes: custom attributes on container
//! instances (the only target type ECS has).

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::Change;
use crate::ControlPlane;
use berth_types::records::ContainerInstanceRecord;
use berth_types::{Attribute, ClusterName, ContainerInstanceId, ContainerInstanceStatus};
use std::collections::BTreeMap;

/// ECS allows this many custom attributes per resource.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 10;

/// An attribute on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetedAttribute {
    pub instance: ContainerInstanceId,
    pub attribute: Attribute,
}

impl ControlPlane {
    /// Sets the attributes, all or none: an unknown instance or a full one refuses the batch.
    pub async fn put_attributes(&self, cluster: &ClusterName, attributes: Vec<TargetedAttribute>) -> ControlResult<()> {
        self.edit_custom_attributes(cluster, attributes, |record, attribute| {
            record.custom_attributes.retain(|existing| existing.name != attribute.name);
            record.custom_attributes.push(attribute);
            if record.custom_attributes.len() > MAX_CUSTOM_ATTRIBUTES {
                return Err(ControlError::AttributeLimitExceeded(format!(
                    "You can apply up to {MAX_CUSTOM_ATTRIBUTES} custom attributes for each resource."
                )));
            }
            Ok(())
        })
        .await
    }

    /// Removes attributes set through PutAttributes (built-in ones are the agent's to report).
    pub async fn delete_attributes(
        &self,
        cluster: &ClusterName,
        attributes: Vec<TargetedAttribute>,
    ) -> ControlResult<()> {
        self.edit_custom_attributes(cluster, attributes, |record, attribute| {
            record.custom_attributes.retain(|existing| existing.name != attribute.name);
            Ok(())
        })
        .await
    }

    /// Applies `edit` for every targeted attribute to its instance's record, then writes each
    /// touched instance once; any refusal refuses the whole batch.
    async fn edit_custom_attributes(
        &self,
        cluster: &ClusterName,
        attributes: Vec<TargetedAttribute>,
        edit: impl Fn(&mut ContainerInstanceRecord, Attribute) -> ControlResult<()>,
    ) -> ControlResult<()> {
        self.mutate(|state| {
            active_cluster(state, cluster)?;
            let mut updated: BTreeMap<ContainerInstanceId, ContainerInstanceRecord> = BTreeMap::new();
            for TargetedAttribute { instance, attribute } in attributes {
                let record = match updated.remove(&instance) {
                    Some(record) => record,
                    None => state
                        .instances
                        .get(&instance)
                        .filter(|record| {
                            &record.cluster == cluster && record.status != ContainerInstanceStatus::Inactive
                        })
                        .cloned()
                        .ok_or_else(|| ControlError::TargetNotFound(format!("Could not find {instance}.")))?,
                };
                let mut record = record;
                edit(&mut record, attribute)?;
                updated.insert(instance, record);
            }
            let changes = updated
                .into_values()
                .map(|mut record| {
                    record.version += 1;
                    Change::PutContainerInstance(record)
                })
                .collect();
            Ok((changes, ()))
        })
        .await
    }

    /// Every attribute of the cluster's instances matching the name and value filters.
    pub fn list_attributes(
        &self,
        cluster: &ClusterName,
        name: Option<&str>,
        value: Option<&str>,
    ) -> ControlResult<Vec<TargetedAttribute>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let mut found = Vec::new();
        for record in state
            .instances
            .values()
            .filter(|record| &record.cluster == cluster && record.status != ContainerInstanceStatus::Inactive)
        {
            for attribute in record.effective_attributes() {
                let name_matches = name.is_none_or(|wanted| wanted == attribute.name);
                let value_matches = value.is_none_or(|wanted| attribute.value.as_deref() == Some(wanted));
                if name_matches && value_matches {
                    found.push(TargetedAttribute { instance: record.id.clone(), attribute });
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster_with_instance, control_plane, name};

    fn attribute(name: &str, value: &str) -> Attribute {
        Attribute { name: name.into(), value: Some(value.into()) }
    }

    #[tokio::test]
    async fn put_list_delete_and_the_limit() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 1024, 1024).await.record.id;
        let put = |name: &str, value: &str| TargetedAttribute {
            instance: instance.clone(),
            attribute: attribute(name, value),
        };
        control.put_attributes(&name("prod"), vec![put("stack", "blue"), put("stack", "green")]).await.unwrap();
        let listed = control.list_attributes(&name("prod"), Some("stack"), None).unwrap();
        assert_eq!(listed, vec![put("stack", "green")], "the last value of a name wins");
        let too_many: Vec<_> = (0..11).map(|index| put(&format!("a{index}"), "x")).collect();
        assert!(matches!(
            control.put_attributes(&name("prod"), too_many).await,
            Err(ControlError::AttributeLimitExceeded(_))
        ));
        assert_eq!(
            control.list_attributes(&name("prod"), None, Some("x")).unwrap(),
            vec![],
            "a refused batch sets nothing"
        );
        control.delete_attributes(&name("prod"), vec![put("stack", "")]).await.unwrap();
        assert!(control.list_attributes(&name("prod"), Some("stack"), None).unwrap().is_empty());
        let stranger = TargetedAttribute { instance: ContainerInstanceId::generate(), attribute: attribute("a", "b") };
        assert!(matches!(
            control.put_attributes(&name("prod"), vec![stranger]).await,
            Err(ControlError::TargetNotFound(_))
        ));
    }
}
