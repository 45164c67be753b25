//! RegisterTaskDefinition: the request checked against ECS's rules and turned into the
//! family, the `TaskSpec` agents run, the document Describe echoes, and the tags.
//!
//! Task-wide rules (family, size, network mode, compatibilities, task CPU and memory, container
//! count and names, essential containers, shared host ports, placement constraints) live here;
//! the per-container, port, volume, health-check and dependency rules have their own files.
//!
//! Invariant: a `ParsedTaskDefinition` only exists for a request ECS would have accepted (as
//! far as Berth can run it), and its spec and document describe the same definition.

mod container;
mod dependencies;
mod document;
mod health_check;
mod ports;
mod volumes;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_containers;

pub(crate) use container::parse_environment_variable;
pub use document::{document_to_value, render_task_definition};

use crate::error::ValidationError;
use crate::names::MAX_NAME_LENGTH;
use crate::resource_rules;
use crate::tags::parse_tags;
use crate::units::{parse_task_cpu, parse_task_memory};
use berth_ecs_wire as wire;
use berth_types::spec::{ContainerSpec, NetworkMode, TaskSpec};
use berth_types::{Tag, TaskDefinitionFamily};
use std::collections::BTreeSet;

/// ECS's limit on containers per task definition.
pub const MAX_CONTAINERS_PER_TASK_DEFINITION: usize = 10;
/// ECS's limit on the size of a task definition, applied to the serialized request.
pub const MAX_TASK_DEFINITION_BYTES: usize = 64 * 1024;
/// ECS's limit on placement constraints and on one constraint's expression.
const MAX_PLACEMENT_CONSTRAINTS: usize = 10;
const MAX_PLACEMENT_EXPRESSION_CHARACTERS: usize = 2000;

/// A validated RegisterTaskDefinition request.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedTaskDefinition {
    pub family: TaskDefinitionFamily,
    /// Revision 0: the control plane assigns the revision when it stores the definition.
    pub spec: TaskSpec,
    /// What DescribeTaskDefinition echoes, without ARN, revision, status and timestamps.
    pub document: wire::TaskDefinition,
    pub tags: Vec<Tag>,
}

pub fn parse_register_task_definition(
    request: &wire::RegisterTaskDefinitionRequest,
) -> Result<ParsedTaskDefinition, ValidationError> {
    check_request_size(request)?;
    let family = parse_family(request.family.as_deref())?;
    let tags = parse_tags(request.tags.as_ref())?;
    check_requires_compatibilities(request.requires_compatibilities.as_deref())?;
    let network_mode = parse_network_mode(request.network_mode)?;
    let task_cpu = request.cpu.as_deref().map(|cpu| parse_task_cpu("cpu", cpu)).transpose()?;
    let task_memory = request.memory.as_deref().map(|memory| parse_task_memory("memory", memory)).transpose()?;
    reject_unsupported_task_members(request)?;
    check_placement_constraints(request.placement_constraints.as_deref())?;

    let definitions = request.container_definitions.as_deref().unwrap_or_default();
    if definitions.is_empty() {
        return Err(ValidationError::client("containerDefinitions", "No Container Definitions provided."));
    }
    if definitions.len() > MAX_CONTAINERS_PER_TASK_DEFINITION {
        return Err(ValidationError::client(
            "containerDefinitions",
            format!(
                "Too many containers. A task definition can have at most {MAX_CONTAINERS_PER_TASK_DEFINITION}; got {}.",
                definitions.len()
            ),
        ));
    }
    let volumes = volumes::parse_volumes(request.volumes.as_deref())?;
    let volume_names: BTreeSet<String> = volumes.iter().map(|volume| volume.name.clone()).collect();
    let context = container::TaskContext { network_mode, task_memory, volume_names: &volume_names };
    let containers = definitions
        .iter()
        .enumerate()
        .map(|(index, definition)| container::parse_container(index, definition, &context))
        .collect::<Result<Vec<_>, _>>()?;

    check_container_names_unique(&containers)?;
    check_has_essential_container(&containers)?;
    ports::check_host_ports_unique_in_task(&containers)?;
    dependencies::check_container_references(definitions, &containers, network_mode)?;
    resource_rules::check_task_totals("", &containers, task_cpu, task_memory)?;

    let normalized = document::Normalized { family: &family, network_mode, task_cpu, task_memory };
    let document = document::build_document(request, &normalized);
    let spec = TaskSpec {
        family: family.as_str().to_string(),
        revision: 0,
        network_mode,
        cpu: task_cpu,
        memory: task_memory,
        containers,
        volumes,
        placement_constraints: request
            .placement_constraints
            .iter()
            .flatten()
            .filter_map(|constraint| constraint.expression.clone())
            .collect(),
        platform_attributes: platform_attributes(request.runtime_platform.as_ref()),
        capability_attributes: document
            .requires_attributes
            .iter()
            .flatten()
            .filter_map(|attribute| attribute.name.clone())
            .collect(),
    };
    Ok(ParsedTaskDefinition { family, spec, document, tags })
}

fn check_request_size(request: &wire::RegisterTaskDefinitionRequest) -> Result<(), ValidationError> {
    let size = serde_json::to_vec(request).map_or(0, |bytes| bytes.len());
    if size > MAX_TASK_DEFINITION_BYTES {
        return Err(ValidationError::client(
            "taskDefinition",
            format!(
                "The task definition is {size} bytes; the maximum size is {MAX_TASK_DEFINITION_BYTES} bytes (64 KiB)."
            ),
        ));
    }
    Ok(())
}

fn parse_family(family: Option<&str>) -> Result<TaskDefinitionFamily, ValidationError> {
    let family = family.unwrap_or_default();
    if family.is_empty() {
        return Err(ValidationError::client("family", "Family can not be blank."));
    }
    if family.len() > MAX_NAME_LENGTH {
        return Err(ValidationError::client(
            "family",
            format!("Family must be at most {MAX_NAME_LENGTH} characters long."),
        ));
    }
    TaskDefinitionFamily::parse(family).map_err(|_| {
        ValidationError::client(
            "family",
            format!("Family contains invalid characters: '{family}'. Use letters, numbers, hyphens and underscores."),
        )
    })
}

/// Berth places tasks on its own instances: EC2 and EXTERNAL compatibility only.
fn check_requires_compatibilities(compatibilities: Option<&[wire::Compatibility]>) -> Result<(), ValidationError> {
    for (index, compatibility) in compatibilities.unwrap_or_default().iter().enumerate() {
        if !matches!(compatibility, wire::Compatibility::Ec2 | wire::Compatibility::External) {
            return Err(ValidationError::client(
                format!("requiresCompatibilities[{index}]"),
                format!(
                    "Berth runs tasks on registered container instances (EC2 and EXTERNAL); {} is not supported.",
                    compatibility.as_str()
                ),
            ));
        }
    }
    Ok(())
}

fn parse_network_mode(network_mode: Option<wire::NetworkMode>) -> Result<NetworkMode, ValidationError> {
    match network_mode {
        None | Some(wire::NetworkMode::Bridge) => Ok(NetworkMode::Bridge),
        Some(wire::NetworkMode::Host) => Ok(NetworkMode::Host),
        Some(wire::NetworkMode::None) => Ok(NetworkMode::None),
        Some(wire::NetworkMode::Awsvpc) => Err(ValidationError::client(
            "networkMode",
            "Network mode 'awsvpc' is not supported by Berth yet; use 'bridge', 'host' or 'none'.",
        )),
    }
}

/// Task members that only make sense on AWS-managed capacity, which Berth cannot honour.
fn reject_unsupported_task_members(request: &wire::RegisterTaskDefinitionRequest) -> Result<(), ValidationError> {
    if request.inference_accelerators.as_ref().is_some_and(|accelerators| !accelerators.is_empty()) {
        return Err(ValidationError::client(
            "inferenceAccelerators",
            "'inferenceAccelerators' is not supported by Berth yet.",
        ));
    }
    Ok(())
}

fn check_placement_constraints(
    constraints: Option<&[wire::TaskDefinitionPlacementConstraint]>,
) -> Result<(), ValidationError> {
    let constraints = constraints.unwrap_or_default();
    if constraints.len() > MAX_PLACEMENT_CONSTRAINTS {
        return Err(ValidationError::client(
            "placementConstraints",
            format!("A task definition can have at most {MAX_PLACEMENT_CONSTRAINTS} placement constraints."),
        ));
    }
    for (index, constraint) in constraints.iter().enumerate() {
        let expression = constraint.expression.as_deref().unwrap_or_default();
        if constraint.r#type.is_none() {
            return Err(ValidationError::client(
                format!("placementConstraints[{index}].type"),
                "Placement constraint type should not be null; the only type allowed in a task definition is memberOf.",
            ));
        }
        if expression.trim().is_empty() || expression.chars().count() > MAX_PLACEMENT_EXPRESSION_CHARACTERS {
            return Err(ValidationError::client(
                format!("placementConstraints[{index}].expression"),
                format!(
                    "A memberOf constraint needs an expression of 1 to {MAX_PLACEMENT_EXPRESSION_CHARACTERS} characters."
                ),
            ));
        }
        if let Err(error) = berth_scheduler::Expression::parse(expression) {
            return Err(ValidationError::invalid_parameter(
                format!("placementConstraints[{index}].expression"),
                error.to_string(),
            ));
        }
    }
    Ok(())
}

fn check_container_names_unique(containers: &[ContainerSpec]) -> Result<(), ValidationError> {
    let mut seen = BTreeSet::new();
    for (index, container) in containers.iter().enumerate() {
        if !seen.insert(container.name.as_str()) {
            return Err(ValidationError::client(
                container::container_field(index, "name"),
                format!(
                    "Duplicate container name '{}'; container names must be unique within a task definition.",
                    container.name
                ),
            ));
        }
    }
    Ok(())
}

fn check_has_essential_container(containers: &[ContainerSpec]) -> Result<(), ValidationError> {
    if containers.iter().any(|container| container.essential) {
        Ok(())
    } else {
        Err(ValidationError::client(
            "containerDefinitions",
            "A task definition must have at least one essential container.",
        ))
    }
}

/// The instance attributes a `runtimePlatform` asks for, with the values agents register
/// (`ecs.cpu-architecture` is `x86_64` or `arm64`; `ecs.os-type` is `linux` or `windows`).
/// On EC2 capacity ECS places such a task only on instances of that platform.
fn platform_attributes(platform: Option<&wire::RuntimePlatform>) -> Vec<(String, String)> {
    let Some(platform) = platform else { return vec![] };
    let mut attributes = Vec::new();
    if let Some(architecture) = platform.cpu_architecture {
        let value = match architecture {
            wire::CPUArchitecture::X8664 => "x86_64",
            wire::CPUArchitecture::Arm64 => "arm64",
        };
        attributes.push(("ecs.cpu-architecture".to_string(), value.to_string()));
    }
    if let Some(family) = platform.operating_system_family {
        let value = if family == wire::OSFamily::Linux { "linux" } else { "windows" };
        attributes.push(("ecs.os-type".to_string(), value.to_string()));
    }
    attributes
}
