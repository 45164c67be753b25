//! Builders for the unit tests.

use berth_types::spec::{ContainerSpec, TaskSpec};

pub fn container(name: &str) -> ContainerSpec {
    ContainerSpec::new(name, "berth-test/busybox:latest")
}

pub fn task_spec(containers: Vec<ContainerSpec>) -> TaskSpec {
    TaskSpec::new("web", 1, containers)
}
