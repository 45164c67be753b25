//! Task metadata v4 JSON, in the shapes AWS documents: one container (`${URI}`) and the task
//! with all its containers (`${URI}/task`), from the agent's own view of the task.
//!
//! Invariant: pure functions of the task state; times are RFC 3339 in UTC as the ECS agent
//! writes them. Members Berth has no value for (IP addresses of awsvpc, ECR digests) are left
//! out rather than invented.

use crate::task::state::{ContainerPhase, TaskState};
use berth_agent_protocol::labels;
use berth_types::spec::ContainerSpec;
use berth_types::{DesiredStatus, TaskStatus, Timestamp};
use serde_json::{json, Map, Value};

/// The cluster, availability zone and launch type a rendering needs besides the task.
pub struct Host<'a> {
    pub cluster: &'a str,
    pub availability_zone: Option<&'a str>,
}

pub fn rfc3339(at: Timestamp) -> String {
    let millis = at.0.rem_euclid(1000);
    let seconds = at.0.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

fn desired_text(desired: DesiredStatus) -> &'static str {
    match desired {
        DesiredStatus::Running => "RUNNING",
        DesiredStatus::Stopped => "STOPPED",
    }
}

fn known_text(phase: ContainerPhase) -> &'static str {
    match phase {
        ContainerPhase::NotCreated => "PENDING",
        ContainerPhase::Created => "CREATED",
        ContainerPhase::Running => "RUNNING",
        ContainerPhase::Stopped => "STOPPED",
    }
}

fn task_status_text(status: TaskStatus) -> &'static str {
    status.as_str()
}

/// One container's metadata (`${ECS_CONTAINER_METADATA_URI_V4}`), or `None` if the task has
/// no such container.
pub fn container(state: &TaskState, host: &Host, name: &str) -> Option<Value> {
    let index = state.spec.containers.iter().position(|container| container.name == name)?;
    Some(container_at(state, host, index))
}

fn container_at(state: &TaskState, host: &Host, index: usize) -> Value {
    let spec: &ContainerSpec = &state.spec.containers[index];
    let track = &state.containers[index];
    let mut labels_map: Map<String, Value> =
        spec.docker_labels.iter().map(|(key, value)| (key.clone(), Value::from(value.clone()))).collect();
    for (key, value) in [
        (labels::CLUSTER, host.cluster.to_string()),
        (labels::CONTAINER_NAME, spec.name.clone()),
        (labels::TASK_ARN, state.task_arn.clone()),
        (labels::TASK_FAMILY, state.spec.family.clone()),
        (labels::TASK_REVISION, state.spec.revision.to_string()),
    ] {
        labels_map.insert(key.to_string(), Value::from(value));
    }
    let mut limits = Map::new();
    limits.insert("CPU".into(), Value::from(spec.cpu));
    if let Some(memory) = spec.memory {
        limits.insert("Memory".into(), Value::from(memory));
    }
    let mut document = json!({
        "Name": spec.name,
        "DockerName": crate::container_config::container_name(&state.task_arn, &spec.name),
        "Image": spec.image,
        "Labels": labels_map,
        "DesiredStatus": desired_text(state.desired),
        "KnownStatus": known_text(track.phase),
        "Limits": limits,
        "Type": "NORMAL",
        "Networks": [{ "NetworkMode": state.spec.network_mode.as_str() }],
    });
    let object = document.as_object_mut().expect("a JSON object");
    if let Some(id) = &track.runtime_id {
        object.insert("DockerId".into(), Value::from(id.clone()));
    }
    if let Some(digest) = &track.image_digest {
        object.insert("ImageID".into(), Value::from(digest.clone()));
    }
    if let Some(code) = track.exit_code {
        object.insert("ExitCode".into(), Value::from(code));
    }
    if track.started {
        if let Some(started) = state.started_at {
            object.insert("StartedAt".into(), Value::from(rfc3339(started)));
        }
    }
    if !track.network_bindings.is_empty() {
        let ports: Vec<Value> = track
            .network_bindings
            .iter()
            .map(|binding| {
                json!({
                    "ContainerPort": binding.container_port,
                    "Protocol": binding.protocol.as_str(),
                    "HostPort": binding.host_port,
                    "HostIp": binding.bind_ip,
                })
            })
            .collect();
        object.insert("Ports".into(), Value::from(ports));
    }
    document
}

/// The task's metadata with every container (`${ECS_CONTAINER_METADATA_URI_V4}/task`).
pub fn task(state: &TaskState, host: &Host) -> Value {
    let containers: Vec<Value> =
        (0..state.spec.containers.len()).map(|index| container_at(state, host, index)).collect();
    let mut document = json!({
        "Cluster": host.cluster,
        "TaskARN": state.task_arn,
        "Family": state.spec.family,
        "Revision": state.spec.revision.to_string(),
        "DesiredStatus": desired_text(state.desired),
        "KnownStatus": task_status_text(state.status),
        "Containers": containers,
        "LaunchType": "EC2",
    });
    let object = document.as_object_mut().expect("a JSON object");
    let mut limits = Map::new();
    if let Some(cpu) = state.spec.cpu {
        limits.insert("CPU".into(), Value::from(f64::from(cpu) / 1024.0));
    }
    if let Some(memory) = state.spec.memory {
        limits.insert("Memory".into(), Value::from(memory));
    }
    if !limits.is_empty() {
        object.insert("Limits".into(), Value::from(limits));
    }
    if let Some(at) = state.pull_started_at {
        object.insert("PullStartedAt".into(), Value::from(rfc3339(at)));
    }
    if let Some(at) = state.pull_stopped_at {
        object.insert("PullStoppedAt".into(), Value::from(rfc3339(at)));
    }
    if let Some(at) = state.execution_stopped_at {
        object.insert("ExecutionStoppedAt".into(), Value::from(rfc3339(at)));
    }
    if let Some(zone) = host.availability_zone {
        object.insert("AvailabilityZone".into(), Value::from(zone));
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(Timestamp(1_700_000_000_123)), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(Timestamp(951_782_400_000)), "2000-02-29T00:00:00.000Z");
    }
}
