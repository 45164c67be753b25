//! The arithmetic of a deployment's bounds and of the circuit breaker's threshold.
//!
//! Invariant: ECS's rounding. The RUNNING floor rounds up (it may never be undershot), the
//! ceiling on running plus pending rounds down (it may never be overshot).

use crate::model::{DeploymentConfiguration, FailureThreshold};

/// What `minimumHealthyPercent` and `maximumPercent` mean for one desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// RUNNING tasks (settling or healthy) the planner never stops below:
    /// `ceil(min% × desired)`. ECS: "a lower limit on the number of your service's tasks that
    /// must remain in the RUNNING state during a deployment".
    pub minimum_running: u32,
    /// Tasks RUNNING or PENDING (including those still stopping) it never exceeds:
    /// `floor(max% × desired)`.
    pub maximum_occupying: u32,
}

impl Bounds {
    pub fn new(desired_count: u32, configuration: &DeploymentConfiguration) -> Self {
        let desired = u64::from(desired_count);
        let minimum = u64::from(configuration.minimum_healthy_percent);
        let maximum = u64::from(configuration.maximum_percent);
        Bounds {
            minimum_running: saturate((desired * minimum).div_ceil(100)),
            maximum_occupying: saturate(desired * maximum / 100),
        }
    }
}

/// How many counted failures fail a deployment of `desired_count` tasks.
pub fn circuit_breaker_threshold(threshold: FailureThreshold, desired_count: u32) -> u32 {
    let percent_of_desired = |percent: u32| saturate((u64::from(percent) * u64::from(desired_count)).div_ceil(100));
    match threshold {
        FailureThreshold::Count(count) => count.max(1),
        FailureThreshold::BoundedPercent(percent) => percent_of_desired(percent).clamp(3, 200),
        FailureThreshold::UnboundedPercent(percent) => percent_of_desired(percent).max(1),
    }
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
