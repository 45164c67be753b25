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
    use berth_types::spec::{ContainerSpec, NetworkMode, TaskSpec};
    TaskSpec {
        family: "web".into(),
        revision: 0,
        network_mode: NetworkMode::Bridge,
        cpu: None,
        memory: None,
        containers: vec![ContainerSpec {
            name: "web".into(),
            image: "berth-test/busybox:latest".into(),
            cpu: 128,
            memory: Some(64),
            memory_reservation: None,
            port_mappings: vec![],
            essential: true,
            entry_point: None,
            command: None,
            environment: vec![],
            working_directory: None,
            user: None,
            docker_labels: Default::default(),
            stop_timeout_seconds: None,
            health_check: None,
            depends_on: vec![],
            mount_points: vec![],
            ulimits: vec![],
            readonly_root_filesystem: false,
            init_process_enabled: false,
            log_configuration: None,
        }],
        volumes: vec![],
    }
}
