//! RegisterDaemonTaskDefinition: the request checked by the ordinary task definition rules
//! and turned into the same `TaskSpec` an agent runs, plus the document Describe echoes.
//!
//! A daemon container definition is a subset of an ordinary one, so the request is restated
//! as a RegisterTaskDefinition (default network mode, EC2) and validated by
//! [`parse_register_task_definition`]: one set of rules, with the same field paths in its
//! messages. The daemon-only members Berth cannot honour yet are refused, naming the field,
//! rather than ignored.
//!
//! Invariant: a `ParsedDaemonTaskDefinition` exists only for a request Berth can run.

use crate::error::ValidationError;
use crate::task_definition::{parse_register_task_definition, ParsedTaskDefinition};
use berth_ecs_wire as wire;
use berth_types::spec::TaskSpec;
use berth_types::{Tag, TaskDefinitionFamily};

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDaemonTaskDefinition {
    pub family: TaskDefinitionFamily,
    /// Revision 0: the control plane numbers daemon task definitions itself.
    pub spec: TaskSpec,
    /// What DescribeDaemonTaskDefinition echoes, without ARN, revision, status and times.
    pub document: wire::DaemonTaskDefinition,
    pub tags: Vec<Tag>,
}

pub fn parse_register_daemon_task_definition(
    request: &wire::RegisterDaemonTaskDefinitionRequest,
) -> Result<ParsedDaemonTaskDefinition, ValidationError> {
    if request.pid_mode == Some(wire::DaemonPidMode::Shared) {
        return Err(ValidationError::invalid_parameter(
            "pidMode",
            "'shared' is not supported by Berth yet; use 'none'.",
        ));
    }
    if request.ipc_mode == Some(wire::DaemonIpcMode::Shared) {
        return Err(ValidationError::invalid_parameter(
            "ipcMode",
            "'shared' is not supported by Berth yet; use 'none'.",
        ));
    }
    let volumes = request
        .volumes
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, volume)| {
            if volume.log_driver_volume_configuration.is_some() {
                return Err(ValidationError::invalid_parameter(
                    format!("volumes[{index}].logDriverVolumeConfiguration"),
                    "log driver volumes are not supported by Berth yet; use a host volume.",
                ));
            }
            Ok(wire::Volume { name: volume.name.clone(), host: volume.host.clone(), ..Default::default() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let container_definitions = request
        .container_definitions
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, definition)| restate(definition, &format!("containerDefinitions[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let ordinary = wire::RegisterTaskDefinitionRequest {
        family: request.family.clone(),
        task_role_arn: request.task_role_arn.clone(),
        execution_role_arn: request.execution_role_arn.clone(),
        container_definitions: request.container_definitions.as_ref().map(|_| container_definitions),
        cpu: request.cpu.clone(),
        memory: request.memory.clone(),
        volumes: request.volumes.as_ref().map(|_| volumes),
        tags: request.tags.clone(),
        ..Default::default()
    };
    let ParsedTaskDefinition { family, spec, tags, .. } = parse_register_task_definition(&ordinary)?;
    let document = wire::DaemonTaskDefinition {
        family: request.family.clone(),
        task_role_arn: request.task_role_arn.clone(),
        execution_role_arn: request.execution_role_arn.clone(),
        container_definitions: request.container_definitions.clone(),
        volumes: request.volumes.clone(),
        cpu: request.cpu.clone(),
        memory: request.memory.clone(),
        pid_mode: request.pid_mode,
        ipc_mode: request.ipc_mode,
        ..Default::default()
    };
    Ok(ParsedDaemonTaskDefinition { family, spec, document, tags })
}

/// A daemon container definition as the ordinary one it is a subset of (same member names).
fn restate(
    definition: &wire::DaemonContainerDefinition,
    field: &str,
) -> Result<wire::ContainerDefinition, ValidationError> {
    serde_json::to_value(definition).and_then(serde_json::from_value).map_err(|error| {
        ValidationError::invalid_parameter(field, format!("cannot be read as a container definition: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValidationErrorKind;

    fn request(body: serde_json::Value) -> wire::RegisterDaemonTaskDefinitionRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_daemon_definition_becomes_the_spec_an_agent_runs() {
        let parsed = parse_register_daemon_task_definition(&request(serde_json::json!({
            "family": "log-shipper",
            "memory": "128",
            "containerDefinitions": [{"name": "ship", "image": "busybox", "command": ["sleep", "3600"],
                                      "mountPoints": [{"sourceVolume": "logs", "containerPath": "/logs"}]}],
            "volumes": [{"name": "logs", "host": {"sourcePath": "/var/log"}}],
            "tags": [{"key": "team", "value": "ops"}],
        })))
        .unwrap();
        assert_eq!(parsed.family.as_str(), "log-shipper");
        assert_eq!(parsed.spec.containers[0].image, "busybox");
        assert_eq!(parsed.spec.memory, Some(128));
        assert_eq!(parsed.spec.volumes.len(), 1);
        assert_eq!(parsed.tags, vec![Tag { key: "team".into(), value: "ops".into() }]);
        assert_eq!(parsed.document.container_definitions.as_ref().unwrap()[0].name.as_deref(), Some("ship"));
    }

    #[test]
    fn the_ordinary_rules_apply_with_their_field_paths() {
        let error = parse_register_daemon_task_definition(&request(serde_json::json!({
            "family": "bad family",
            "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 64}],
        })))
        .unwrap_err();
        assert!(error.message.starts_with("family:"), "{}", error.message);
        let error = parse_register_daemon_task_definition(&request(serde_json::json!({
            "family": "f",
            "containerDefinitions": [{"name": "a", "image": "busybox"}],
        })))
        .unwrap_err();
        assert!(error.message.starts_with("containerDefinitions[0]"), "{}", error.message);
    }

    #[test]
    fn members_berth_cannot_honour_are_refused_by_name() {
        let shared = parse_register_daemon_task_definition(&request(serde_json::json!({
            "family": "f", "pidMode": "shared",
            "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 64}],
        })))
        .unwrap_err();
        assert_eq!(shared.kind, ValidationErrorKind::InvalidParameter);
        assert!(shared.message.starts_with("pidMode:"));
        let log_volume = parse_register_daemon_task_definition(&request(serde_json::json!({
            "family": "f",
            "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 64}],
            "volumes": [{"name": "l", "logDriverVolumeConfiguration": {"driver": "json-file"}}],
        })))
        .unwrap_err();
        assert!(log_volume.message.starts_with("volumes[0].logDriverVolumeConfiguration:"), "{}", log_volume.message);
    }
}
