//! Fixtures for the control plane's unit tests: an in-memory store and small builders.

use crate::{ControlConfig, ControlPlane};
use berth_store::MemoryStore;
use berth_types::ClusterName;
use std::sync::Arc;

pub fn control_plane() -> Arc<ControlPlane> {
    ControlPlane::open(ControlConfig::default(), Arc::new(MemoryStore::default())).unwrap()
}

pub fn name(value: &str) -> ClusterName {
    ClusterName::parse(value).unwrap()
}

pub fn task_spec() -> berth_types::spec::TaskSpec {
    use berth_types::spec::{ContainerSpec, TaskSpec};
    let web = ContainerSpec { cpu: 128, memory: Some(64), ..ContainerSpec::new("web", "berth-test/busybox:latest") };
    TaskSpec::new("web", 0, vec![web])
}

pub fn resources(cpu: i64, memory: i64) -> berth_types::Resources {
    berth_types::Resources { cpu, memory, ports_tcp: [22].into(), ports_udp: Default::default() }
}

/// Creates `cluster` with one connected instance of the given size and registers the `web`
/// task definition (128 CPU units, 64 MiB); returns the instance.
pub async fn cluster_with_instance(
    control: &ControlPlane,
    cluster: &str,
    cpu: i64,
    memory: i64,
) -> crate::container_instances::InstanceSummary {
    control.create_cluster(name(cluster), vec![], Default::default()).await.unwrap();
    let family = berth_types::TaskDefinitionFamily::parse("web").unwrap();
    control.register_task_definition(family, task_spec(), serde_json::json!({}), vec![]).await.unwrap();
    control
        .register_container_instance(crate::container_instances::RegisterInstance {
            cluster: name(cluster),
            ec2_instance_id: format!("i-{cluster}"),
            previous_id: None,
            registered: resources(cpu, memory),
            attributes: vec![],
            version_info: Default::default(),
            tags: vec![],
            capacity_provider: None,
        })
        .await
        .unwrap()
}

pub fn run_web(cluster: &str, count: usize, token: Option<(&str, &str)>) -> crate::tasks::LaunchRequest {
    let mut spec = task_spec();
    spec.revision = 1;
    crate::tasks::LaunchRequest {
        cluster: name(cluster),
        family: "web".into(),
        revision: 1,
        spec,
        overrides_document: serde_json::json!({}),
        target: crate::tasks::Target::Placement { count },
        started_by: None,
        group: None,
        tags: vec![],
        idempotency: token.map(|(token, fingerprint)| (token.to_string(), fingerprint.to_string())),
        placement: Default::default(),
        enable_execute_command: false,
    }
}

/// Registers another connected instance in an existing cluster.
pub async fn add_instance(
    control: &ControlPlane,
    cluster: &str,
    identity: &str,
    attributes: &[(&str, &str)],
    capacity_provider: Option<&str>,
) -> berth_types::ContainerInstanceId {
    control
        .register_container_instance(crate::container_instances::RegisterInstance {
            cluster: name(cluster),
            ec2_instance_id: identity.to_string(),
            previous_id: None,
            registered: resources(4096, 4096),
            attributes: attributes
                .iter()
                .map(|(name, value)| berth_types::Attribute { name: name.to_string(), value: Some(value.to_string()) })
                .collect(),
            version_info: Default::default(),
            tags: vec![],
            capacity_provider: capacity_provider.map(str::to_string),
        })
        .await
        .unwrap()
        .record
        .id
}
