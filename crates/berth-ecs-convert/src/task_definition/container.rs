//! One container definition on its own: its name, image, resources, environment, limits and
//! logging, checked against ECS's per-container rules and turned into a `ContainerSpec`.
//!
//! Rules that relate containers to each other (unique names, shared host ports, dependencies)
//! live in `mod.rs`, `ports.rs` and `dependencies.rs`; this file sees one container at a time.

use super::{health_check, ports, volumes};
use crate::error::ValidationError;
use crate::names::{is_ecs_name, MAX_NAME_LENGTH};
use crate::resource_rules;
use berth_ecs_wire as wire;
use berth_types::spec::{
    ContainerSpec, DependencyCondition, DependencySpec, LogConfigurationSpec, NetworkMode, UlimitSpec,
};
use std::collections::BTreeSet;

/// Longest image reference ECS accepts.
const MAX_IMAGE_LENGTH: usize = 255;

/// What a container is checked against besides itself.
pub(super) struct TaskContext<'a> {
    pub network_mode: NetworkMode,
    pub task_memory: Option<u32>,
    pub volume_names: &'a BTreeSet<String>,
}

/// `containerDefinitions[index]`, the prefix of every field this file names.
pub(super) fn container_prefix(index: usize) -> String {
    format!("containerDefinitions[{index}]")
}

/// `containerDefinitions[index].member`.
pub(super) fn container_field(index: usize, member: &str) -> String {
    format!("containerDefinitions[{index}].{member}")
}

pub(super) fn parse_container(
    index: usize,
    definition: &wire::ContainerDefinition,
    context: &TaskContext<'_>,
) -> Result<ContainerSpec, ValidationError> {
    let name = parse_name(index, definition.name.as_deref())?;
    let image = parse_image(index, definition.image.as_deref())?;
    reject_unsupported_members(index, &name, definition)?;

    let prefix = container_prefix(index);
    let cpu = resource_rules::container_cpu(&prefix, &name, definition.cpu)?;
    let memory = definition
        .memory
        .map(|memory| resource_rules::container_memory_amount(&prefix, "memory", &name, memory))
        .transpose()?;
    let memory_reservation = definition
        .memory_reservation
        .map(|reservation| resource_rules::container_memory_amount(&prefix, "memoryReservation", &name, reservation))
        .transpose()?;
    resource_rules::check_container_memory(&prefix, &name, memory, memory_reservation, context.task_memory)?;

    Ok(ContainerSpec {
        port_mappings: ports::parse_port_mappings(
            index,
            &name,
            definition.port_mappings.as_deref(),
            context.network_mode,
        )?,
        essential: definition.essential.unwrap_or(true),
        entry_point: definition.entry_point.clone(),
        command: definition.command.clone(),
        environment: parse_environment(index, definition.environment.as_deref())?,
        working_directory: definition.working_directory.clone(),
        user: definition.user.clone(),
        docker_labels: definition.docker_labels.clone().unwrap_or_default(),
        stop_timeout_seconds: parse_stop_timeout(index, &name, definition.stop_timeout)?,
        health_check: health_check::parse_health_check(index, &name, definition.health_check.as_ref())?,
        depends_on: parse_depends_on(index, definition.depends_on.as_deref())?,
        mount_points: volumes::parse_mount_points(index, definition.mount_points.as_deref(), context.volume_names)?,
        ulimits: parse_ulimits(index, &name, definition.ulimits.as_deref())?,
        readonly_root_filesystem: definition.readonly_root_filesystem.unwrap_or(false),
        init_process_enabled: definition
            .linux_parameters
            .as_ref()
            .and_then(|linux_parameters| linux_parameters.init_process_enabled)
            .unwrap_or(false),
        log_configuration: parse_log_configuration(index, definition.log_configuration.as_ref())?,
        name,
        image,
        cpu,
        memory,
        memory_reservation,
    })
}

fn parse_name(index: usize, name: Option<&str>) -> Result<String, ValidationError> {
    let field = container_field(index, "name");
    match name {
        None | Some("") => Err(ValidationError::client(field, "Container.name should not be null or empty.")),
        Some(name) if name.len() > MAX_NAME_LENGTH => Err(ValidationError::client(
            field,
            format!("Container.name must be at most {MAX_NAME_LENGTH} characters long."),
        )),
        Some(name) if !is_ecs_name(name) => Err(ValidationError::client(
            field,
            format!(
                "Container.name contains invalid characters: '{name}'. Use letters, numbers, hyphens and underscores."
            ),
        )),
        Some(name) => Ok(name.to_string()),
    }
}

fn parse_image(index: usize, image: Option<&str>) -> Result<String, ValidationError> {
    let field = container_field(index, "image");
    let image = image.unwrap_or_default();
    if image.trim().is_empty() {
        return Err(ValidationError::client(field, "Container.image should not be null or empty."));
    }
    if image.len() > MAX_IMAGE_LENGTH {
        return Err(ValidationError::client(
            field,
            format!("Container.image must be at most {MAX_IMAGE_LENGTH} characters long."),
        ));
    }
    if image.chars().any(|character| character.is_whitespace() || character.is_control()) {
        return Err(ValidationError::client(field, format!("Container.image contains invalid characters: {image:?}.")));
    }
    Ok(image.to_string())
}

/// Members whose absence from the running container would change what it does (missing
/// environment, missing devices) are refused rather than silently dropped.
fn reject_unsupported_members(
    index: usize,
    container_name: &str,
    definition: &wire::ContainerDefinition,
) -> Result<(), ValidationError> {
    let unsupported = [
        ("secrets", definition.secrets.as_ref().is_some_and(|secrets| !secrets.is_empty())),
        ("environmentFiles", definition.environment_files.as_ref().is_some_and(|files| !files.is_empty())),
        (
            "resourceRequirements",
            definition.resource_requirements.as_ref().is_some_and(|requirements| !requirements.is_empty()),
        ),
    ];
    match unsupported.into_iter().find(|(_, present)| *present) {
        Some((member, _)) => Err(ValidationError::client(
            container_field(index, member),
            format!("'{member}' (used by container '{container_name}') is not supported by Berth yet."),
        )),
        None => Ok(()),
    }
}

fn parse_environment(
    index: usize,
    environment: Option<&[wire::KeyValuePair]>,
) -> Result<Vec<(String, String)>, ValidationError> {
    environment
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(position, variable)| {
            parse_environment_variable(&container_field(index, &format!("environment[{position}].name")), variable)
        })
        .collect()
}

/// One `{name, value}` pair; a missing value is the empty string. Shared with overrides.
pub(crate) fn parse_environment_variable(
    name_field: &str,
    variable: &wire::KeyValuePair,
) -> Result<(String, String), ValidationError> {
    match variable.name.as_deref() {
        None | Some("") => {
            Err(ValidationError::client(name_field, "Environment variable name should not be null or empty."))
        }
        Some(name) => Ok((name.to_string(), variable.value.clone().unwrap_or_default())),
    }
}

/// ECS caps `stopTimeout` at 120 s only on Fargate; on EC2 any non-negative value is allowed.
fn parse_stop_timeout(
    index: usize,
    container_name: &str,
    stop_timeout: Option<i32>,
) -> Result<Option<u32>, ValidationError> {
    stop_timeout
        .map(|seconds| {
            u32::try_from(seconds).map_err(|_| {
                ValidationError::client(
                    container_field(index, "stopTimeout"),
                    format!(
                        "Invalid 'stopTimeout' setting for container '{container_name}'. It must be 0 or more seconds."
                    ),
                )
            })
        })
        .transpose()
}

/// Each entry on its own; whether the target exists is checked once all containers are known.
fn parse_depends_on(
    index: usize,
    depends_on: Option<&[wire::ContainerDependency]>,
) -> Result<Vec<DependencySpec>, ValidationError> {
    depends_on
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(position, dependency)| {
            let container_name = dependency.container_name.as_deref().unwrap_or_default();
            if container_name.is_empty() {
                return Err(ValidationError::client(
                    container_field(index, &format!("dependsOn[{position}].containerName")),
                    "Container dependency containerName should not be null or empty.",
                ));
            }
            let Some(condition) = dependency.condition else {
                return Err(ValidationError::client(
                    container_field(index, &format!("dependsOn[{position}].condition")),
                    "Container dependency condition should not be null.",
                ));
            };
            let condition = match condition {
                wire::ContainerCondition::Start => DependencyCondition::Start,
                wire::ContainerCondition::Complete => DependencyCondition::Complete,
                wire::ContainerCondition::Success => DependencyCondition::Success,
                wire::ContainerCondition::Healthy => DependencyCondition::Healthy,
            };
            Ok(DependencySpec { container_name: container_name.to_string(), condition })
        })
        .collect()
}

fn parse_ulimits(
    index: usize,
    container_name: &str,
    ulimits: Option<&[wire::Ulimit]>,
) -> Result<Vec<UlimitSpec>, ValidationError> {
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::new();
    for (position, ulimit) in ulimits.unwrap_or_default().iter().enumerate() {
        let field = container_field(index, &format!("ulimits[{position}]"));
        let (Some(name), Some(soft_limit), Some(hard_limit)) = (ulimit.name, ulimit.soft_limit, ulimit.hard_limit)
        else {
            return Err(ValidationError::client(field, "A ulimit needs 'name', 'softLimit' and 'hardLimit'."));
        };
        if soft_limit > hard_limit {
            return Err(ValidationError::client(
                field,
                format!(
                    "Invalid ulimit '{}' for container '{container_name}': softLimit {soft_limit} is greater than \
                     hardLimit {hard_limit}.",
                    name.as_str()
                ),
            ));
        }
        if !seen.insert(name) {
            return Err(ValidationError::client(
                field,
                format!("Ulimit '{}' is set more than once for container '{container_name}'.", name.as_str()),
            ));
        }
        parsed.push(UlimitSpec {
            name: name.as_str().to_string(),
            soft_limit: i64::from(soft_limit),
            hard_limit: i64::from(hard_limit),
        });
    }
    Ok(parsed)
}

fn parse_log_configuration(
    index: usize,
    log_configuration: Option<&wire::LogConfiguration>,
) -> Result<Option<LogConfigurationSpec>, ValidationError> {
    let Some(log_configuration) = log_configuration else {
        return Ok(None);
    };
    let Some(driver) = log_configuration.log_driver else {
        return Err(ValidationError::client(
            container_field(index, "logConfiguration.logDriver"),
            "logConfiguration.logDriver should not be null.",
        ));
    };
    if log_configuration.secret_options.as_ref().is_some_and(|secrets| !secrets.is_empty()) {
        return Err(ValidationError::client(
            container_field(index, "logConfiguration.secretOptions"),
            "'secretOptions' is not supported by Berth yet.",
        ));
    }
    Ok(Some(LogConfigurationSpec {
        driver: driver.as_str().to_string(),
        options: log_configuration.options.clone().unwrap_or_default(),
    }))
}
