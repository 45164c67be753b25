//! Builders for the unit tests.

use berth_agent_protocol::TaskReport;
use berth_types::spec::{ContainerSpec, TaskSpec};
use berth_types::TaskStatus;

pub fn container(name: &str) -> ContainerSpec {
    ContainerSpec::new(name, "berth-test/busybox:latest")
}

pub fn task_spec(containers: Vec<ContainerSpec>) -> TaskSpec {
    TaskSpec::new("web", 1, containers)
}

/// A report of `status` for `arn`, with nothing else observed.
pub fn report(arn: &str, status: TaskStatus) -> TaskReport {
    TaskReport {
        task_arn: arn.to_string(),
        last_status: status,
        containers: vec![],
        pull_started_at: None,
        pull_stopped_at: None,
        started_at: None,
        execution_stopped_at: None,
        stop_code: None,
        stopped_reason: None,
    }
}
