//! Task-level `cpu` and `memory`, which the wire carries as strings: CPU as units ("1024") or
//! vCPUs ("1 vCPU", "0.25 vcpu"), memory as MiB ("2048") or GB ("2 GB", "0.5GB"). ECS stores
//! and echoes the integer form, so parsing yields units and MiB.
//!
//! Invariant: arithmetic is exact (decimal digits, no floating point), and a value that does
//! not come out as a whole number of units or MiB is rejected rather than rounded.

use crate::error::ValidationError;

/// CPU units per vCPU (and per core on an instance).
const CPU_UNITS_PER_VCPU: u128 = 1024;
/// MiB per "GB" as ECS reads task memory strings.
const MIB_PER_GB: u128 = 1024;
/// The task CPU range ECS accepts for EC2 and EXTERNAL tasks (0.125 to 192 vCPU).
pub const MIN_TASK_CPU_UNITS: u32 = 128;
pub const MAX_TASK_CPU_UNITS: u32 = 196_608;
/// The smallest memory Docker will run a container with; a task cannot have less.
pub const MIN_MEMORY_MIB: u32 = 6;

/// Parses a task-level CPU string into CPU units. `field` names the member in errors.
pub fn parse_task_cpu(field: &str, value: &str) -> Result<u32, ValidationError> {
    let units = match strip_unit_suffix(value, "vcpu") {
        Some(vcpus) => scaled_whole_number(vcpus, CPU_UNITS_PER_VCPU),
        None => scaled_whole_number(value.trim(), 1),
    };
    match units {
        Some(units) if (MIN_TASK_CPU_UNITS..=MAX_TASK_CPU_UNITS).contains(&units) => Ok(units),
        _ => Err(ValidationError::client(
            field,
            format!(
                "Invalid 'cpu' setting for task. Expected CPU units (\"1024\") or vCPUs (\"1 vCPU\") between \
                 {MIN_TASK_CPU_UNITS} and {MAX_TASK_CPU_UNITS} units, got {value:?}."
            ),
        )),
    }
}

/// Parses a task-level memory string into MiB. `field` names the member in errors.
pub fn parse_task_memory(field: &str, value: &str) -> Result<u32, ValidationError> {
    let mebibytes = match strip_unit_suffix(value, "gb") {
        Some(gigabytes) => scaled_whole_number(gigabytes, MIB_PER_GB),
        None => scaled_whole_number(value.trim(), 1),
    };
    match mebibytes {
        Some(mebibytes) if mebibytes >= MIN_MEMORY_MIB => Ok(mebibytes),
        _ => Err(ValidationError::client(
            field,
            format!(
                "Invalid 'memory' setting for task. Expected MiB (\"2048\") or GB (\"2 GB\") of at least \
                 {MIN_MEMORY_MIB} MiB, got {value:?}."
            ),
        )),
    }
}

/// `"0.5 GB"` with unit `"gb"` gives `Some("0.5")`; the unit matches case-insensitively and
/// may or may not be separated by spaces.
fn strip_unit_suffix<'a>(value: &'a str, unit: &str) -> Option<&'a str> {
    let trimmed = value.trim();
    let split_at = trimmed.len().checked_sub(unit.len())?;
    // `get` returns None rather than panicking when the split is not on a char boundary.
    let suffix = trimmed.get(split_at..)?;
    if suffix.eq_ignore_ascii_case(unit) {
        Some(trimmed[..split_at].trim_end())
    } else {
        None
    }
}

/// Multiplies a non-negative decimal ("2", "0.25", ".5") by `scale`; `None` unless the product
/// is a whole number that fits in a `u32`.
fn scaled_whole_number(decimal: &str, scale: u128) -> Option<u32> {
    let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, ""));
    let all_digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
    // 30 digits keeps every intermediate value far inside u128.
    if (whole.is_empty() && fraction.is_empty())
        || !all_digits(whole)
        || !all_digits(fraction)
        || whole.len() + fraction.len() > 30
    {
        return None;
    }
    let numerator: u128 = format!("{whole}{fraction}").parse().ok()?;
    let denominator = 10u128.pow(u32::try_from(fraction.len()).ok()?);
    let scaled = numerator.checked_mul(scale)?;
    if scaled % denominator != 0 {
        return None;
    }
    u32::try_from(scaled / denominator).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_accepts_units_and_vcpus() {
        assert_eq!(parse_task_cpu("cpu", "256").unwrap(), 256);
        assert_eq!(parse_task_cpu("cpu", " 1024 ").unwrap(), 1024);
        assert_eq!(parse_task_cpu("cpu", "0.25 vCPU").unwrap(), 256);
        assert_eq!(parse_task_cpu("cpu", "1 vcpu").unwrap(), 1024);
        assert_eq!(parse_task_cpu("cpu", "2VCPU").unwrap(), 2048);
        assert_eq!(parse_task_cpu("cpu", ".5 vCPU").unwrap(), 512);
        assert_eq!(parse_task_cpu("cpu", "192 vCPU").unwrap(), MAX_TASK_CPU_UNITS);
        assert_eq!(parse_task_cpu("cpu", "128").unwrap(), MIN_TASK_CPU_UNITS);
    }

    #[test]
    fn cpu_rejects_garbage_fractions_and_out_of_range() {
        for bad in ["", "abc", "-256", "1.5", "0.3 vcpu", "127", "196609", "193 vCPU", "1 cpu", "vcpu", "1e3", "é"] {
            let error = parse_task_cpu("cpu", bad).unwrap_err();
            assert!(error.message.starts_with("cpu: Invalid 'cpu' setting for task."), "{bad}: {}", error.message);
        }
    }

    #[test]
    fn memory_accepts_mib_and_gb() {
        assert_eq!(parse_task_memory("memory", "512").unwrap(), 512);
        assert_eq!(parse_task_memory("memory", "1 GB").unwrap(), 1024);
        assert_eq!(parse_task_memory("memory", "0.5GB").unwrap(), 512);
        assert_eq!(parse_task_memory("memory", "2 gb").unwrap(), 2048);
        assert_eq!(parse_task_memory("memory", "6").unwrap(), 6);
    }

    #[test]
    fn memory_rejects_garbage_and_tiny_values() {
        for bad in ["", "lots", "5", "0", "0.001 GB", "1 MB", "-1", "99999999999"] {
            let error = parse_task_memory("overrides.memory", bad).unwrap_err();
            assert!(error.message.starts_with("overrides.memory: Invalid 'memory' setting for task."), "{bad}");
        }
    }
}
