//! Container health checks: the command form Docker understands and ECS's bounds on timing,
//! with ECS's defaults filled in (interval 30 s, timeout 5 s, retries 3, start period 0 s).

use super::container::container_field;
use crate::error::ValidationError;
use berth_ecs_wire as wire;
use berth_types::spec::HealthCheckSpec;

pub(crate) const DEFAULT_INTERVAL_SECONDS: i32 = 30;
pub(crate) const DEFAULT_TIMEOUT_SECONDS: i32 = 5;
pub(crate) const DEFAULT_RETRIES: i32 = 3;
const DEFAULT_START_PERIOD_SECONDS: i32 = 0;

/// A timing member of the health check: its wire name, what to call it in a message, its
/// allowed range and its default.
struct Bound {
    member: &'static str,
    noun: &'static str,
    minimum: i32,
    maximum: i32,
    default: i32,
}

const INTERVAL: Bound =
    Bound { member: "interval", noun: "interval", minimum: 5, maximum: 300, default: DEFAULT_INTERVAL_SECONDS };
const TIMEOUT: Bound =
    Bound { member: "timeout", noun: "timeout", minimum: 2, maximum: 60, default: DEFAULT_TIMEOUT_SECONDS };
const RETRIES: Bound = Bound { member: "retries", noun: "retries", minimum: 1, maximum: 10, default: DEFAULT_RETRIES };
const START_PERIOD: Bound = Bound {
    member: "startPeriod",
    noun: "start period",
    minimum: 0,
    maximum: 300,
    default: DEFAULT_START_PERIOD_SECONDS,
};

pub(super) fn parse_health_check(
    index: usize,
    container_name: &str,
    health_check: Option<&wire::HealthCheck>,
) -> Result<Option<HealthCheckSpec>, ValidationError> {
    let Some(health_check) = health_check else {
        return Ok(None);
    };
    let command = health_check.command.clone().unwrap_or_default();
    let command_is_valid = match command.first().map(String::as_str) {
        Some("NONE") => command.len() == 1,
        Some("CMD") | Some("CMD-SHELL") => command.len() >= 2,
        _ => false,
    };
    if !command_is_valid {
        return Err(ValidationError::client(
            container_field(index, "healthCheck.command"),
            format!(
                "Invalid health check command for container '{container_name}'. It must be [\"CMD\", executable, \
                 args...], [\"CMD-SHELL\", command] or [\"NONE\"]."
            ),
        ));
    }
    let bounded = |bound: &Bound, value: Option<i32>| -> Result<u32, ValidationError> {
        let value = value.unwrap_or(bound.default);
        let field = container_field(index, &format!("healthCheck.{}", bound.member));
        if value < bound.minimum {
            return Err(ValidationError::client(
                field,
                format!(
                    "Health check {} must be greater than or equal to the minimum allowed value {} for container \
                     '{container_name}'",
                    bound.noun, bound.minimum
                ),
            ));
        }
        if value > bound.maximum {
            return Err(ValidationError::client(
                field,
                format!(
                    "Health check {} must be less than or equal to the maximum allowed value {} for container \
                     '{container_name}'",
                    bound.noun, bound.maximum
                ),
            ));
        }
        // The minimum is never negative, so the value fits.
        Ok(value.unsigned_abs())
    };
    Ok(Some(HealthCheckSpec {
        interval_seconds: bounded(&INTERVAL, health_check.interval)?,
        timeout_seconds: bounded(&TIMEOUT, health_check.timeout)?,
        retries: bounded(&RETRIES, health_check.retries)?,
        start_period_seconds: bounded(&START_PERIOD, health_check.start_period)?,
        command,
    }))
}
