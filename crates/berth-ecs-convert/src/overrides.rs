//! RunTask/StartTask `overrides`: applied to a definition's `TaskSpec` to give the spec the
//! task runs, and echoed the way DescribeTasks shows them.
//!
//! Per container (matched by name) an override replaces `command`, `cpu`, `memory` and
//! `memoryReservation`, and merges `environment` over the definition's (a variable of the same
//! name is replaced in place, new ones are appended). Task-level `cpu` and `memory` replace the
//! task's. The result is checked by the same resource rules as a registration.

use crate::error::ValidationError;
use crate::resource_rules;
use crate::task_definition::parse_environment_variable;
use crate::units::{parse_task_cpu, parse_task_memory};
use berth_ecs_wire as wire;
use berth_types::spec::{ContainerSpec, TaskSpec};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// ECS's limit on the serialized `containerOverrides` of one request.
pub const MAX_CONTAINER_OVERRIDES_CHARACTERS: usize = 8192;

/// The overrides as a task echoes them in `Task.overrides`: one `containerOverrides` entry per
/// container of the definition (just `{"name": ...}` when it was not overridden) and an
/// `inferenceAcceleratorOverrides` list, plus any task-level members that were given.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedOverrides {
    pub document: Value,
}

/// Applies `overrides` to `spec`; returns the spec to run and the overrides document to echo
/// (the `document` of [`ParsedOverrides`]).
pub fn apply_overrides(
    spec: &TaskSpec,
    overrides: Option<&wire::TaskOverride>,
) -> Result<(TaskSpec, Value), ValidationError> {
    let mut applied = spec.clone();
    let Some(overrides) = overrides else {
        return Ok((applied, echo_document(spec, None)));
    };
    check_container_overrides_length(overrides.container_overrides.as_deref())?;
    if overrides.inference_accelerator_overrides.as_ref().is_some_and(|accelerators| !accelerators.is_empty()) {
        return Err(ValidationError::invalid_parameter(
            "overrides.inferenceAcceleratorOverrides",
            "'inferenceAcceleratorOverrides' is not supported by Berth yet.",
        ));
    }
    if let Some(cpu) = overrides.cpu.as_deref() {
        applied.cpu = Some(parse_task_cpu("overrides.cpu", cpu)?);
    }
    if let Some(memory) = overrides.memory.as_deref() {
        applied.memory = Some(parse_task_memory("overrides.memory", memory)?);
    }

    let mut overridden = BTreeSet::new();
    for (index, container_override) in overrides.container_overrides.iter().flatten().enumerate() {
        let prefix = format!("overrides.containerOverrides[{index}]");
        let name = container_override.name.as_deref().unwrap_or_default();
        let Some(container) = applied.containers.iter_mut().find(|container| container.name == name) else {
            return Err(ValidationError::invalid_parameter(
                format!("{prefix}.name"),
                format!("Override for container named {name} is not a container in the TaskDefinition."),
            ));
        };
        if !overridden.insert(name.to_string()) {
            return Err(ValidationError::invalid_parameter(
                format!("{prefix}.name"),
                format!("Container '{name}' is overridden more than once."),
            ));
        }
        apply_container_override(&prefix, container, container_override)?;
        resource_rules::check_container_memory(
            &prefix,
            &container.name,
            container.memory,
            container.memory_reservation,
            applied.memory,
        )?;
    }
    // A new task-level memory can invalidate containers that were not overridden themselves.
    for container in applied.containers.iter().filter(|container| !overridden.contains(&container.name)) {
        resource_rules::check_container_memory(
            "overrides",
            &container.name,
            container.memory,
            container.memory_reservation,
            applied.memory,
        )?;
    }
    resource_rules::check_task_totals("overrides.", &applied.containers, applied.cpu, applied.memory)?;
    Ok((applied, echo_document(spec, Some(overrides))))
}

fn check_container_overrides_length(
    container_overrides: Option<&[wire::ContainerOverride]>,
) -> Result<(), ValidationError> {
    let Some(container_overrides) = container_overrides else {
        return Ok(());
    };
    let length = serde_json::to_string(container_overrides).map_or(0, |text| text.chars().count());
    if length > MAX_CONTAINER_OVERRIDES_CHARACTERS {
        return Err(ValidationError::invalid_parameter(
            "overrides.containerOverrides",
            format!("Container Overrides length must be at most {MAX_CONTAINER_OVERRIDES_CHARACTERS}; got {length}."),
        ));
    }
    Ok(())
}

fn apply_container_override(
    prefix: &str,
    container: &mut ContainerSpec,
    container_override: &wire::ContainerOverride,
) -> Result<(), ValidationError> {
    let unsupported = [
        ("environmentFiles", container_override.environment_files.as_ref().is_some_and(|files| !files.is_empty())),
        (
            "resourceRequirements",
            container_override.resource_requirements.as_ref().is_some_and(|requirements| !requirements.is_empty()),
        ),
    ];
    if let Some((member, _)) = unsupported.into_iter().find(|(_, present)| *present) {
        return Err(ValidationError::invalid_parameter(
            format!("{prefix}.{member}"),
            format!("'{member}' overrides are not supported by Berth yet."),
        ));
    }
    if let Some(command) = &container_override.command {
        container.command = Some(command.clone());
    }
    for (position, variable) in container_override.environment.iter().flatten().enumerate() {
        let (name, value) = parse_environment_variable(&format!("{prefix}.environment[{position}].name"), variable)?;
        match container.environment.iter_mut().find(|(existing, _)| *existing == name) {
            Some(existing) => existing.1 = value,
            None => container.environment.push((name, value)),
        }
    }
    if container_override.cpu.is_some() {
        container.cpu = resource_rules::container_cpu(prefix, &container.name, container_override.cpu)?;
    }
    if let Some(memory) = container_override.memory {
        container.memory = Some(resource_rules::container_memory_amount(prefix, "memory", &container.name, memory)?);
    }
    if let Some(reservation) = container_override.memory_reservation {
        container.memory_reservation =
            Some(resource_rules::container_memory_amount(prefix, "memoryReservation", &container.name, reservation)?);
    }
    Ok(())
}

/// `Task.overrides` as ECS shows it, in the definition's container order.
fn echo_document(spec: &TaskSpec, overrides: Option<&wire::TaskOverride>) -> Value {
    let given = overrides.and_then(|overrides| overrides.container_overrides.as_deref()).unwrap_or_default();
    let container_overrides: Vec<Value> = spec
        .containers
        .iter()
        .map(|container| {
            given
                .iter()
                .find(|container_override| container_override.name.as_deref() == Some(container.name.as_str()))
                .and_then(|container_override| serde_json::to_value(container_override).ok())
                .unwrap_or_else(|| json!({ "name": container.name }))
        })
        .collect();
    let mut document = overrides
        .and_then(|overrides| serde_json::to_value(overrides).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    document["containerOverrides"] = Value::Array(container_overrides);
    if document.get("inferenceAcceleratorOverrides").is_none() {
        document["inferenceAcceleratorOverrides"] = json!([]);
    }
    document
}

#[cfg(test)]
#[path = "overrides_tests.rs"]
mod tests;
