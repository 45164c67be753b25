//! What a scaling policy asks for when one of its alarms is in ALARM, pure: the new capacity
//! (before the target's bounds) and the policy's cooldowns afterwards.
//!
//! Cooldowns, as Application Auto Scaling documents them (300 s each for ECS by default):
//! - During a scale-out cooldown, a further scale-out is computed from the capacity the
//!   cooldown's scale-out started from, so the capacity that one added counts towards the next
//!   and only a larger need scales out again.
//! - A scale-in waits for its own cooldown; target tracking also waits out a scale-out's
//!   cooldown, so freshly added tasks are not removed before they carry load. A scale-out is
//!   never held back by a scale-in cooldown.

use super::records::{Cooldowns, PolicyConfig, ScalingPolicyRecord};
use super::{step, tracking};

/// ECS's default cooldown, for step and target tracking policies alike.
pub const DEFAULT_COOLDOWN_SECONDS: u32 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

/// What the alarm says, as the alarm evaluator hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmTrigger {
    pub alarm_name: String,
    /// The datapoints of the alarm's evaluation range, oldest first.
    pub values: Vec<f64>,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Before the target's minimum and maximum.
    pub capacity: i64,
    pub direction: Direction,
    /// The capacity the decision was computed from (the cooldown's base during a scale-out
    /// cooldown).
    pub base: u32,
}

fn within(since: Option<i64>, cooldown_seconds: u32, now_ms: i64) -> bool {
    since.is_some_and(|at| now_ms - at < i64::from(cooldown_seconds) * 1000)
}

/// The policy's decision for `trigger` at `current` capacity; `None` when it asks for no
/// change now (the metric is where it should be, or a cooldown holds it back), with why.
pub fn decide(
    policy: &ScalingPolicyRecord,
    trigger: &AlarmTrigger,
    current: u32,
    now_ms: i64,
) -> Result<Decision, &'static str> {
    let cooldowns = policy.cooldowns;
    let (out_cooldown, in_cooldown) = match &policy.config {
        PolicyConfig::Step(config) => {
            let cooldown = config.cooldown_seconds.unwrap_or(DEFAULT_COOLDOWN_SECONDS);
            (cooldown, cooldown)
        }
        PolicyConfig::TargetTracking(config) => (
            config.scale_out_cooldown.unwrap_or(DEFAULT_COOLDOWN_SECONDS),
            config.scale_in_cooldown.unwrap_or(DEFAULT_COOLDOWN_SECONDS),
        ),
    };
    let out_cooling = cooldowns.last_scale_out.filter(|(at, _)| within(Some(*at), out_cooldown, now_ms));
    let capacity_from = |base: u32| -> Result<i64, &'static str> {
        match &policy.config {
            PolicyConfig::Step(config) => {
                let value =
                    step::aggregate(&trigger.values, config.aggregation).ok_or("the alarm has no datapoints")?;
                let chosen = step::select(&config.steps, value, trigger.threshold)
                    .ok_or("no step adjustment covers the metric value")?;
                Ok(step::new_capacity(config, chosen.adjustment, base))
            }
            PolicyConfig::TargetTracking(config) => {
                let value = *trigger.values.last().ok_or("the alarm has no datapoints")?;
                Ok(tracking::capacity_for_target(base, value, config.target_value))
            }
        }
    };
    if let Some((_, base)) = out_cooling {
        let capacity = capacity_from(base)?;
        if capacity > i64::from(current) {
            return Ok(Decision { capacity, direction: Direction::Out, base });
        }
    }
    let capacity = capacity_from(current)?;
    if capacity > i64::from(current) {
        if out_cooling.is_some() {
            return Err("a scale-out cooldown is in effect and the capacity it added suffices");
        }
        return Ok(Decision { capacity, direction: Direction::Out, base: current });
    }
    if capacity == i64::from(current) {
        return Err("the metric asks for the current capacity");
    }
    if let PolicyConfig::TargetTracking(config) = &policy.config {
        if config.disable_scale_in {
            return Err("scale-in is disabled");
        }
        if out_cooling.is_some() {
            return Err("a scale-out cooldown is in effect");
        }
    }
    if within(cooldowns.last_scale_in_ms, in_cooldown, now_ms) {
        return Err("a scale-in cooldown is in effect");
    }
    Ok(Decision { capacity, direction: Direction::In, base: current })
}

/// The policy's cooldowns after `decision` was carried out at `now_ms`.
pub fn after(cooldowns: Cooldowns, decision: &Decision, now_ms: i64) -> Cooldowns {
    match decision.direction {
        Direction::Out => {
            // A scale-out inside the cooldown keeps the cooldown's base; the cooldown restarts.
            Cooldowns { last_scale_out: Some((now_ms, decision.base)), ..cooldowns }
        }
        Direction::In => Cooldowns { last_scale_in_ms: Some(now_ms), ..cooldowns },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::records::*;
    use berth_types::{ClusterName, ServiceName};

    fn policy(config: PolicyConfig, cooldowns: Cooldowns) -> ScalingPolicyRecord {
        ScalingPolicyRecord {
            target: TargetKey { cluster: ClusterName::parse("c").unwrap(), service: ServiceName::parse("s").unwrap() },
            name: "p".into(),
            arn: "arn".into(),
            config,
            owned_alarms: vec![],
            created_ms: 0,
            cooldowns,
        }
    }

    fn tracking(disable_scale_in: bool) -> PolicyConfig {
        PolicyConfig::TargetTracking(TrackingConfig {
            target_value: 50.0,
            metric: TrackedMetric::Predefined {
                metric_type: "ECSServiceAverageCPUUtilization".into(),
                resource_label: None,
            },
            scale_out_cooldown: Some(60),
            scale_in_cooldown: Some(120),
            disable_scale_in,
        })
    }

    fn stepped(adjustment: i32) -> PolicyConfig {
        PolicyConfig::Step(StepConfig {
            adjustment_type: AdjustmentType::ChangeInCapacity,
            steps: vec![StepAdjustment { lower_bound: Some(0.0), upper_bound: None, adjustment }],
            min_adjustment_magnitude: None,
            cooldown_seconds: Some(30),
            aggregation: None,
        })
    }

    fn trigger(value: f64, threshold: f64) -> AlarmTrigger {
        AlarmTrigger { alarm_name: "a".into(), values: vec![value], threshold }
    }

    #[test]
    fn target_tracking_scales_out_in_proportion() {
        let decision = decide(&policy(tracking(false), Cooldowns::default()), &trigger(150.0, 50.0), 1, 0).unwrap();
        assert_eq!(decision, Decision { capacity: 3, direction: Direction::Out, base: 1 });
    }

    #[test]
    fn a_scale_out_cooldown_counts_the_capacity_already_added() {
        let cooling = Cooldowns { last_scale_out: Some((0, 1)), last_scale_in_ms: None };
        let policy = policy(tracking(false), cooling);
        // Still 150 % of target, measured on the one task the last scale-out started from: the
        // three tasks it asked for suffice.
        assert!(decide(&policy, &trigger(150.0, 50.0), 3, 10_000).is_err());
        // A higher reading asks for more than the cooldown's scale-out gave.
        assert_eq!(decide(&policy, &trigger(250.0, 50.0), 3, 10_000).unwrap().capacity, 5);
        // After the cooldown the current capacity is the base again.
        assert_eq!(decide(&policy, &trigger(100.0, 50.0), 3, 61_000).unwrap().capacity, 6);
    }

    #[test]
    fn scale_in_waits_for_cooldowns_and_can_be_disabled() {
        let after_out = Cooldowns { last_scale_out: Some((0, 1)), last_scale_in_ms: None };
        assert_eq!(
            decide(&policy(tracking(false), after_out), &trigger(10.0, 45.0), 3, 10_000),
            Err("a scale-out cooldown is in effect")
        );
        let decision = decide(&policy(tracking(false), after_out), &trigger(10.0, 45.0), 3, 61_000).unwrap();
        assert_eq!((decision.capacity, decision.direction), (1, Direction::In));
        let after_in = Cooldowns { last_scale_out: None, last_scale_in_ms: Some(0) };
        assert!(decide(&policy(tracking(false), after_in), &trigger(10.0, 45.0), 3, 100_000).is_err());
        assert!(decide(&policy(tracking(false), after_in), &trigger(10.0, 45.0), 3, 121_000).is_ok());
        assert_eq!(
            decide(&policy(tracking(true), Cooldowns::default()), &trigger(10.0, 45.0), 3, 0),
            Err("scale-in is disabled")
        );
    }

    #[test]
    fn a_scale_out_is_not_held_back_by_a_scale_in_cooldown() {
        let after_in = Cooldowns { last_scale_out: None, last_scale_in_ms: Some(0) };
        assert_eq!(decide(&policy(tracking(false), after_in), &trigger(100.0, 50.0), 2, 1_000).unwrap().capacity, 4);
    }

    #[test]
    fn step_policies_add_from_the_cooldown_base() {
        let fresh = decide(&policy(stepped(2), Cooldowns::default()), &trigger(80.0, 50.0), 1, 0).unwrap();
        assert_eq!((fresh.capacity, fresh.base), (3, 1));
        let cooling = Cooldowns { last_scale_out: Some((0, 1)), last_scale_in_ms: None };
        assert!(decide(&policy(stepped(2), cooling), &trigger(80.0, 50.0), 3, 10_000).is_err());
        assert_eq!(decide(&policy(stepped(2), cooling), &trigger(80.0, 50.0), 3, 31_000).unwrap().capacity, 5);
        let down = decide(&policy(stepped(-1), Cooldowns::default()), &trigger(80.0, 50.0), 3, 0).unwrap();
        assert_eq!((down.capacity, down.direction), (2, Direction::In));
    }
}
