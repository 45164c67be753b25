//! The CPU and memory rules a container and its task must satisfy. RegisterTaskDefinition and
//! RunTask overrides share them, so a definition that registers and the same definition with
//! overrides applied are judged by the same rules.
//!
//! Field names in errors are built from a caller-supplied prefix ("containerDefinitions[1]" or
//! "overrides.containerOverrides[0]"), so each caller's messages point at its own request.

use crate::error::ValidationError;
use crate::units::MIN_MEMORY_MIB;
use berth_types::spec::ContainerSpec;

/// Container CPU units: absent is 0 ("no reservation"); negative is invalid.
pub(crate) fn container_cpu(prefix: &str, container_name: &str, cpu: Option<i32>) -> Result<u32, ValidationError> {
    let cpu = cpu.unwrap_or(0);
    u32::try_from(cpu).map_err(|_| {
        ValidationError::client(
            format!("{prefix}.cpu"),
            format!("Invalid 'cpu' setting for container '{container_name}'. CPU units must be 0 or more, got {cpu}."),
        )
    })
}

/// A container's `memory` or `memoryReservation` in MiB (`member` says which): positive, and at
/// least the 6 MiB Docker needs to start a container.
pub(crate) fn container_memory_amount(
    prefix: &str,
    member: &str,
    container_name: &str,
    mebibytes: i32,
) -> Result<u32, ValidationError> {
    let field = format!("{prefix}.{member}");
    let Ok(amount) = u32::try_from(mebibytes) else {
        return Err(ValidationError::client(
            field,
            format!("Invalid '{member}' setting for container '{container_name}'."),
        ));
    };
    if amount == 0 {
        return Err(ValidationError::client(
            field,
            format!("Invalid '{member}' setting for container '{container_name}'."),
        ));
    }
    if amount < MIN_MEMORY_MIB {
        return Err(ValidationError::client(
            field,
            format!("The '{member}' setting for container '{container_name}' must be at least {MIN_MEMORY_MIB} MiB."),
        ));
    }
    Ok(amount)
}

/// One container's memory settings against each other and against the task's memory.
pub(crate) fn check_container_memory(
    prefix: &str,
    container_name: &str,
    memory: Option<u32>,
    memory_reservation: Option<u32>,
    task_memory: Option<u32>,
) -> Result<(), ValidationError> {
    if memory.is_none() && memory_reservation.is_none() && task_memory.is_none() {
        return Err(ValidationError::client(
            format!("{prefix}.memory"),
            format!(
                "Invalid setting for container '{container_name}'. At least one of 'memory' or 'memoryReservation' \
                 must be specified."
            ),
        ));
    }
    if let (Some(memory), Some(reservation)) = (memory, memory_reservation) {
        if reservation > memory {
            return Err(ValidationError::client(
                format!("{prefix}.memoryReservation"),
                format!(
                    "The 'memoryReservation' setting for container '{container_name}' ({reservation} MiB) must be \
                     less than or equal to its 'memory' setting ({memory} MiB)."
                ),
            ));
        }
    }
    if let (Some(memory), Some(task_memory)) = (memory, task_memory) {
        if memory > task_memory {
            return Err(ValidationError::client(
                format!("{prefix}.memory"),
                format!("The 'memory' setting for container '{container_name}' is greater than for the task."),
            ));
        }
    }
    if let (Some(reservation), Some(task_memory)) = (memory_reservation, task_memory) {
        if reservation > task_memory {
            return Err(ValidationError::client(
                format!("{prefix}.memoryReservation"),
                format!(
                    "The 'memoryReservation' setting for container '{container_name}' is greater than for the task."
                ),
            ));
        }
    }
    Ok(())
}

/// The containers together against the task-level amounts: CPU units must fit the task's CPU,
/// and the memory each container reserves (its soft limit, else its hard limit) must fit the
/// task's memory. Hard limits may oversubscribe the task, as in ECS.
pub(crate) fn check_task_totals(
    task_prefix: &str,
    containers: &[ContainerSpec],
    task_cpu: Option<u32>,
    task_memory: Option<u32>,
) -> Result<(), ValidationError> {
    if let Some(task_cpu) = task_cpu {
        let container_cpu: u64 = containers.iter().map(|container| u64::from(container.cpu)).sum();
        if container_cpu > u64::from(task_cpu) {
            return Err(ValidationError::client(
                format!("{task_prefix}cpu"),
                format!(
                    "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu' \
                     ({container_cpu} > {task_cpu})."
                ),
            ));
        }
    }
    if let Some(task_memory) = task_memory {
        let reserved: u64 = containers
            .iter()
            .map(|container| u64::from(container.memory_reservation.or(container.memory).unwrap_or(0)))
            .sum();
        if reserved > u64::from(task_memory) {
            return Err(ValidationError::client(
                format!("{task_prefix}memory"),
                format!(
                    "The sum of all container 'memoryReservation' values cannot be greater than the value of the task \
                     'memory' ({reserved} > {task_memory})."
                ),
            ));
        }
    }
    Ok(())
}
