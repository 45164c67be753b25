//! The task definition document as DescribeTaskDefinition echoes it: what the user registered,
//! with the defaults ECS fills in and the `requiresAttributes` ECS derives, and without the
//! registration facts (ARN, revision, status, timestamps) that are added when it is rendered.
//!
//! Invariant: the stored document is a `berth_ecs_wire::TaskDefinition` serialized as JSON;
//! `document_to_value` writes it and `render_task_definition` reads it back.

use super::health_check::{DEFAULT_INTERVAL_SECONDS, DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECONDS};
use berth_ecs_wire as wire;
use berth_types::records::TaskDefinitionRecord;
use berth_types::spec::NetworkMode;
use berth_types::TaskDefinitionFamily;

/// The validated facts the document needs besides the request itself.
pub(super) struct Normalized<'a> {
    pub family: &'a TaskDefinitionFamily,
    pub network_mode: NetworkMode,
    pub task_cpu: Option<u32>,
    pub task_memory: Option<u32>,
}

pub(super) fn build_document(
    request: &wire::RegisterTaskDefinitionRequest,
    normalized: &Normalized<'_>,
) -> wire::TaskDefinition {
    let containers: Vec<wire::ContainerDefinition> = request
        .container_definitions
        .iter()
        .flatten()
        .map(|definition| container_with_defaults(definition, normalized.network_mode))
        .collect();
    let requires_attributes = required_attributes(request, &containers);
    wire::TaskDefinition {
        family: Some(normalized.family.as_str().to_string()),
        task_role_arn: request.task_role_arn.clone(),
        execution_role_arn: request.execution_role_arn.clone(),
        network_mode: Some(wire_network_mode(normalized.network_mode)),
        container_definitions: Some(containers),
        volumes: Some(request.volumes.clone().unwrap_or_default()),
        requires_attributes: Some(requires_attributes),
        placement_constraints: Some(request.placement_constraints.clone().unwrap_or_default()),
        // Every network mode Berth runs works on EC2 instances and on external hosts alike.
        compatibilities: Some(vec![wire::Compatibility::External, wire::Compatibility::Ec2]),
        requires_compatibilities: request.requires_compatibilities.clone(),
        runtime_platform: request.runtime_platform.clone(),
        // ECS stores the integer form of "1 vCPU" / "1 GB".
        cpu: normalized.task_cpu.map(|units| units.to_string()),
        memory: normalized.task_memory.map(|mebibytes| mebibytes.to_string()),
        inference_accelerators: request.inference_accelerators.clone(),
        pid_mode: request.pid_mode,
        ipc_mode: request.ipc_mode,
        proxy_configuration: request.proxy_configuration.clone(),
        ephemeral_storage: request.ephemeral_storage.clone(),
        enable_fault_injection: request.enable_fault_injection,
        ..Default::default()
    }
}

fn wire_network_mode(network_mode: NetworkMode) -> wire::NetworkMode {
    match network_mode {
        NetworkMode::Bridge => wire::NetworkMode::Bridge,
        NetworkMode::Host => wire::NetworkMode::Host,
        NetworkMode::None => wire::NetworkMode::None,
    }
}

/// A container definition as ECS echoes it: `cpu` 0 and `essential` true when absent, list
/// members present as `[]`, port mappings with their protocol (and in host mode their host
/// port), and health checks with their timing defaults.
fn container_with_defaults(
    definition: &wire::ContainerDefinition,
    network_mode: NetworkMode,
) -> wire::ContainerDefinition {
    let mut echoed = definition.clone();
    echoed.cpu.get_or_insert(0);
    echoed.essential.get_or_insert(true);
    let port_mappings = echoed.port_mappings.get_or_insert_with(Vec::new);
    for mapping in port_mappings.iter_mut() {
        mapping.protocol.get_or_insert(wire::TransportProtocol::Tcp);
        if network_mode == NetworkMode::Host && mapping.host_port.is_none() {
            mapping.host_port = mapping.container_port;
        }
    }
    echoed.environment.get_or_insert_with(Vec::new);
    echoed.mount_points.get_or_insert_with(Vec::new);
    echoed.volumes_from.get_or_insert_with(Vec::new);
    echoed.system_controls.get_or_insert_with(Vec::new);
    if let Some(health_check) = echoed.health_check.as_mut() {
        health_check.interval.get_or_insert(DEFAULT_INTERVAL_SECONDS);
        health_check.timeout.get_or_insert(DEFAULT_TIMEOUT_SECONDS);
        health_check.retries.get_or_insert(DEFAULT_RETRIES);
    }
    echoed
}

/// The instance attributes ECS derives from the features a definition uses, in first-use
/// order without repeats. Placement only offers the task to instances that have them all.
fn required_attributes(
    request: &wire::RegisterTaskDefinitionRequest,
    containers: &[wire::ContainerDefinition],
) -> Vec<wire::Attribute> {
    let mut names: Vec<String> = Vec::new();
    let mut require = |name: String| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    const DOCKER_REMOTE_API: &str = "com.amazonaws.ecs.capability.docker-remote-api";
    if request.task_role_arn.is_some() {
        require("com.amazonaws.ecs.capability.task-iam-role".to_string());
    }
    for container in containers {
        if let Some(log_configuration) = &container.log_configuration {
            require(format!("{DOCKER_REMOTE_API}.1.18"));
            if let Some(driver) = log_configuration.log_driver {
                require(format!("com.amazonaws.ecs.capability.logging-driver.{}", driver.as_str()));
                if driver == wire::LogDriver::Awslogs {
                    require(format!("{DOCKER_REMOTE_API}.1.19"));
                    if request.execution_role_arn.is_some() {
                        require("ecs.capability.execution-role-awslogs".to_string());
                    }
                }
            }
        }
        if container.ulimits.as_ref().is_some_and(|ulimits| !ulimits.is_empty())
            || container.docker_labels.as_ref().is_some_and(|labels| !labels.is_empty())
        {
            require(format!("{DOCKER_REMOTE_API}.1.18"));
        }
        if container.health_check.is_some() {
            require("ecs.capability.container-health-check".to_string());
        }
        if container.depends_on.as_ref().is_some_and(|depends_on| !depends_on.is_empty()) {
            require("ecs.capability.container-ordering".to_string());
        }
        if container.linux_parameters.as_ref().and_then(|linux| linux.init_process_enabled) == Some(true) {
            require(format!("{DOCKER_REMOTE_API}.1.25"));
        }
    }
    names.into_iter().map(|name| wire::Attribute { name: Some(name), ..Default::default() }).collect()
}

/// The stored document with the registration facts filled in, ready for a Describe or
/// Register response. A document that no longer decodes (it was written by this crate, so
/// only a schema change could cause that) renders as just its identity rather than failing.
pub fn render_task_definition(record: &TaskDefinitionRecord, task_definition_arn: String) -> wire::TaskDefinition {
    let mut rendered: wire::TaskDefinition = serde_json::from_value(record.document.clone()).unwrap_or_else(|_| {
        wire::TaskDefinition { family: Some(record.family.as_str().to_string()), ..Default::default() }
    });
    rendered.task_definition_arn = Some(task_definition_arn);
    rendered.revision = Some(i32::try_from(record.revision).unwrap_or(i32::MAX));
    rendered.status = wire::TaskDefinitionStatus::parse(record.status.as_str());
    rendered.registered_at = Some(record.registered_at.as_epoch_seconds());
    rendered.deregistered_at = record.deregistered_at.map(|instant| instant.as_epoch_seconds());
    rendered
}

/// The document as the JSON value `TaskDefinitionRecord::document` stores.
pub fn document_to_value(document: &wire::TaskDefinition) -> serde_json::Value {
    // Serializing plain structs with string-keyed maps cannot fail.
    serde_json::to_value(document).unwrap_or(serde_json::Value::Null)
}
