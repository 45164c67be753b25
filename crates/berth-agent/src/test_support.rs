//! Builders for the unit tests.

use berth_types::spec::{ContainerSpec, NetworkMode, TaskSpec};
use std::collections::BTreeMap;

pub fn container(name: &str) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        image: "berth-test/busybox:latest".into(),
        cpu: 0,
        memory: None,
        memory_reservation: None,
        port_mappings: vec![],
        essential: true,
        entry_point: None,
        command: None,
        environment: vec![],
        working_directory: None,
        user: None,
        docker_labels: BTreeMap::new(),
        stop_timeout_seconds: None,
        health_check: None,
        depends_on: vec![],
        mount_points: vec![],
        ulimits: vec![],
        readonly_root_filesystem: false,
        init_process_enabled: false,
        log_configuration: None,
    }
}

pub fn task_spec(containers: Vec<ContainerSpec>) -> TaskSpec {
    TaskSpec {
        family: "web".into(),
        revision: 1,
        network_mode: NetworkMode::Bridge,
        cpu: None,
        memory: None,
        containers,
        volumes: vec![],
        placement_constraints: vec![],
    }
}
