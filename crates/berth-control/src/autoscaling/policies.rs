//! Scaling policies: PutScalingPolicy (create or replace; a target tracking policy writes its
//! owned alarms in the same batch), DescribeScalingPolicies and DeleteScalingPolicy (with the
//! alarms it owns). Step policies are run by the alarms users attach them to.

use super::error::{required, AutoScalingError, AutoScalingErrorKind, AutoScalingResult};
use super::records::{
    AdjustmentType, Aggregation, Cooldowns, MetricRef, PolicyAlarm, PolicyConfig, ScalingPolicyRecord, StepAdjustment,
    StepConfig, TargetKey, TrackedMetric, TrackingConfig, TrackingQuery,
};
use super::targets::{no_target, owned_alarm_deletions};
use super::{step, tracking_alarms, AutoScalingChange, AutoScalingState};
use crate::cloudwatch::alarms::{alarm_arn, put_record, AlarmChange};
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;

/// Policies per scalable target (AWS's quota).
pub const MAX_POLICIES_PER_TARGET: usize = 50;
/// The longest cooldown AWS accepts: one day.
const MAX_COOLDOWN_SECONDS: i32 = 86_400;

#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub adjustment_type: Option<AdjustmentType>,
    pub steps: Vec<StepAdjustment>,
    pub min_adjustment_magnitude: Option<i32>,
    pub cooldown: Option<i32>,
    pub aggregation: Option<Aggregation>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomizedInput {
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub statistic: Option<String>,
    pub unit: Option<String>,
    pub metrics: Option<Vec<TrackingQuery>>,
}

#[derive(Debug, Clone, Default)]
pub struct TrackingInput {
    pub target_value: Option<f64>,
    pub predefined: Option<(String, Option<String>)>,
    pub customized: Option<CustomizedInput>,
    pub scale_out_cooldown: Option<i32>,
    pub scale_in_cooldown: Option<i32>,
    pub disable_scale_in: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub name: String,
    pub policy_type: Option<String>,
    pub step: Option<StepInput>,
    pub tracking: Option<TrackingInput>,
    pub predictive: bool,
}

fn cooldown(value: Option<i32>, field: &str) -> AutoScalingResult<Option<u32>> {
    match value {
        Some(value) if !(0..=MAX_COOLDOWN_SECONDS).contains(&value) => {
            Err(AutoScalingError::constraint(field, value, "Member must have value between 0 and 86400"))
        }
        other => Ok(other.map(|value| value as u32)),
    }
}

fn check_step(input: StepInput) -> AutoScalingResult<StepConfig> {
    let adjustment_type = required(input.adjustment_type, "StepScalingPolicyConfiguration.AdjustmentType")?;
    step::check_steps(&input.steps).map_err(AutoScalingError::validation)?;
    if let Some(magnitude) = input.min_adjustment_magnitude {
        if adjustment_type != AdjustmentType::PercentChangeInCapacity {
            return Err(AutoScalingError::validation(
                "MinAdjustmentMagnitude may only be given with AdjustmentType PercentChangeInCapacity.",
            ));
        }
        if magnitude < 1 {
            return Err(AutoScalingError::constraint(
                "stepScalingPolicyConfiguration.minAdjustmentMagnitude",
                magnitude,
                "Member must have value greater than or equal to 1",
            ));
        }
    }
    if adjustment_type == AdjustmentType::ExactCapacity {
        if let Some(negative) = input.steps.iter().find(|step| step.adjustment < 0) {
            return Err(AutoScalingError::validation(format!(
                "ScalingAdjustment {} is negative: with AdjustmentType ExactCapacity it is the new capacity.",
                negative.adjustment
            )));
        }
    }
    Ok(StepConfig {
        adjustment_type,
        steps: input.steps,
        min_adjustment_magnitude: input.min_adjustment_magnitude,
        cooldown_seconds: cooldown(input.cooldown, "stepScalingPolicyConfiguration.cooldown")?,
        aggregation: input.aggregation,
    })
}

fn check_customized(input: CustomizedInput) -> AutoScalingResult<TrackedMetric> {
    let field = "TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification";
    let single = input.metric_name.is_some() || input.namespace.is_some() || input.statistic.is_some();
    match (single, input.metrics) {
        (true, Some(_)) => Err(AutoScalingError::validation(format!(
            "{field}: Metrics cannot be given with MetricName, Namespace, Dimensions or Statistic."
        ))),
        (false, None) => Err(AutoScalingError::validation(format!(
            "{field} must give either MetricName, Namespace and Statistic, or Metrics."
        ))),
        (true, None) => Ok(TrackedMetric::Single {
            metric: MetricRef {
                namespace: required(input.namespace, &format!("{field}.Namespace"))?,
                metric_name: required(input.metric_name, &format!("{field}.MetricName"))?,
                dimensions: input.dimensions,
            },
            statistic: required(input.statistic, &format!("{field}.Statistic"))?,
            unit: input.unit,
        }),
        (false, Some(queries)) => {
            if queries.is_empty() {
                return Err(AutoScalingError::validation(format!("{field}.Metrics must have at least one member.")));
            }
            for (index, query) in queries.iter().enumerate() {
                if query.metric_stat.is_some() == query.expression.is_some() {
                    return Err(AutoScalingError::validation(format!(
                        "{field}.Metrics[{index}] must give exactly one of Expression and MetricStat."
                    )));
                }
            }
            let returning = queries.iter().filter(|query| query.return_data.unwrap_or(queries.len() == 1)).count();
            if returning != 1 {
                return Err(AutoScalingError::validation(format!(
                    "{field}.Metrics must have exactly one member with ReturnData true: the metric to track."
                )));
            }
            // The one query that returns data is the tracked one, whatever ReturnData said.
            let single_query = queries.len() == 1;
            let queries = queries
                .into_iter()
                .map(|query| TrackingQuery { return_data: Some(query.return_data.unwrap_or(single_query)), ..query })
                .collect();
            Ok(TrackedMetric::Math { queries })
        }
    }
}

fn check_tracking(input: TrackingInput) -> AutoScalingResult<TrackingConfig> {
    let field = "TargetTrackingScalingPolicyConfiguration";
    let target_value = required(input.target_value, &format!("{field}.TargetValue"))?;
    if !target_value.is_finite() || target_value <= 0.0 {
        return Err(AutoScalingError::validation(format!("{field}.TargetValue must be a number greater than 0.")));
    }
    let metric = match (input.predefined, input.customized) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AutoScalingError::validation(format!(
                "{field} must give exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification."
            )))
        }
        (Some((metric_type, resource_label)), None) => {
            if tracking_alarms::predefined_metric(&metric_type).is_none() {
                return Err(AutoScalingError::validation(format!(
                    "{field}.PredefinedMetricSpecification.PredefinedMetricType {metric_type} is not valid for ServiceNamespace ecs."
                )));
            }
            if metric_type == "ALBRequestCountPerTarget" {
                let label =
                    required(resource_label.clone(), &format!("{field}.PredefinedMetricSpecification.ResourceLabel"))?;
                tracking_alarms::target_group_dimension(&label)?;
            } else if resource_label.is_some() {
                return Err(AutoScalingError::validation(format!(
                    "{field}.PredefinedMetricSpecification.ResourceLabel is only valid with ALBRequestCountPerTarget."
                )));
            }
            TrackedMetric::Predefined { metric_type, resource_label }
        }
        (None, Some(customized)) => check_customized(customized)?,
    };
    Ok(TrackingConfig {
        target_value,
        metric,
        scale_out_cooldown: cooldown(
            input.scale_out_cooldown,
            "targetTrackingScalingPolicyConfiguration.scaleOutCooldown",
        )?,
        scale_in_cooldown: cooldown(
            input.scale_in_cooldown,
            "targetTrackingScalingPolicyConfiguration.scaleInCooldown",
        )?,
        disable_scale_in: input.disable_scale_in.unwrap_or(false),
    })
}

/// PutScalingPolicy's input as a policy configuration.
pub fn check_policy(input: PolicyInput) -> AutoScalingResult<PolicyConfig> {
    let policy_type = input.policy_type.as_deref().unwrap_or("StepScaling");
    match policy_type {
        "StepScaling" => {
            if input.tracking.is_some() || input.predictive {
                return Err(AutoScalingError::validation(
                    "A StepScaling policy takes StepScalingPolicyConfiguration only.",
                ));
            }
            let step = input.step.ok_or_else(|| {
                AutoScalingError::validation("StepScalingPolicyConfiguration is required for PolicyType StepScaling.")
            })?;
            Ok(PolicyConfig::Step(check_step(step)?))
        }
        "TargetTrackingScaling" => {
            if input.step.is_some() || input.predictive {
                return Err(AutoScalingError::validation(
                    "A TargetTrackingScaling policy takes TargetTrackingScalingPolicyConfiguration only.",
                ));
            }
            let tracking = input.tracking.ok_or_else(|| {
                AutoScalingError::validation(
                    "TargetTrackingScalingPolicyConfiguration is required for PolicyType TargetTrackingScaling.",
                )
            })?;
            Ok(PolicyConfig::TargetTracking(check_tracking(tracking)?))
        }
        "PredictiveScaling" => Err(AutoScalingError::validation(
            "PolicyType PredictiveScaling is not supported by Berth: it has no forecasts. Use TargetTrackingScaling or StepScaling.",
        )),
        other => Err(AutoScalingError::validation(format!("PolicyType {other} is not valid."))),
    }
}

pub fn check_policy_name(name: &str) -> AutoScalingResult<()> {
    let length = name.chars().count();
    if !(1..=256).contains(&length) || name.contains(':') || name.contains('/') {
        return Err(AutoScalingError::constraint(
            "policyName",
            name,
            "Member must have length between 1 and 256 and contain no ':' or '/'",
        ));
    }
    Ok(())
}

fn no_policy(key: &TargetKey, name: &str) -> AutoScalingError {
    AutoScalingError::not_found(format!("No scaling policy found for {}, policy name: {name}", key.describe()))
}

/// What PutScalingPolicy answers.
#[derive(Debug, Clone, PartialEq)]
pub struct PutPolicyAnswer {
    pub arn: String,
    pub alarms: Vec<PolicyAlarm>,
}

impl ControlPlane {
    pub async fn put_scaling_policy(&self, key: TargetKey, input: PolicyInput) -> ControlResult<PutPolicyAnswer> {
        check_policy_name(&input.name)?;
        let name = input.name.clone();
        let config = check_policy(input)?;
        let context = self.arn_context().clone();
        let period = self.config().autoscaling_alarm_period_seconds;
        self.mutate(|state| {
            if !state.autoscaling.targets.contains_key(&key.store_key()) {
                return Err(no_target(&key).into());
            }
            let existing = state.autoscaling.policies.get(&super::records::policy_key(&key, &name));
            if existing.is_none()
                && AutoScalingState::of_target(&state.autoscaling.policies, &key).count() >= MAX_POLICIES_PER_TARGET
            {
                return Err(AutoScalingError::new(
                    AutoScalingErrorKind::LimitExceeded,
                    format!("A scalable target may have at most {MAX_POLICIES_PER_TARGET} scaling policies."),
                )
                .into());
            }
            let now = Timestamp::now().0;
            let arn = existing.map(|policy| policy.arn.clone()).unwrap_or_else(|| {
                format!(
                    "arn:aws:autoscaling:{}:{}:scalingPolicy:{}:resource/ecs/{}:policyName/{name}",
                    context.region,
                    context.account,
                    uuid::Uuid::new_v4(),
                    key.resource_id()
                )
            });
            let previous_alarms = existing.map(|policy| policy.owned_alarms.clone()).unwrap_or_default();
            let mut changes = Vec::new();
            let mut owned = Vec::new();
            if let PolicyConfig::TargetTracking(tracking) = &config {
                let (high, low) = tracking_alarms::alarm_names(&key, &previous_alarms, tracking.disable_scale_in);
                let configs = tracking_alarms::alarm_configs(&key, &arn, tracking, period, &high, low.as_deref())?;
                for alarm_config in configs {
                    let alarm_name = alarm_config.name.clone();
                    let alarm_arn = alarm_arn(&context, &alarm_name);
                    let record = put_record(state.alarms.alarms.get(&alarm_name), alarm_config, alarm_arn.clone(), now);
                    changes.push(Change::Alarm(AlarmChange::Put(Box::new(record))));
                    owned.push(PolicyAlarm { name: alarm_name, arn: alarm_arn });
                }
            }
            // Alarms the policy owned and no longer does (a low alarm after DisableScaleIn, or
            // both when it became a step policy).
            let dropped: Vec<PolicyAlarm> =
                previous_alarms.into_iter().filter(|alarm| !owned.iter().any(|kept| kept.name == alarm.name)).collect();
            changes.extend(owned_alarm_deletions(state, &dropped));
            let record = ScalingPolicyRecord {
                target: key.clone(),
                name: name.clone(),
                arn: arn.clone(),
                config: config.clone(),
                owned_alarms: owned.clone(),
                created_ms: existing.map_or(now, |policy| policy.created_ms),
                cooldowns: existing.map_or(Cooldowns::default(), |policy| policy.cooldowns),
            };
            changes.push(Change::AutoScaling(AutoScalingChange::PutPolicy(Box::new(record))));
            Ok((changes, PutPolicyAnswer { arn, alarms: owned }))
        })
        .await
    }

    /// DescribeScalingPolicies, by store key; `names` and `target` filter when given.
    pub fn describe_scaling_policies(
        &self,
        target: Option<&TargetKey>,
        names: &[String],
    ) -> Vec<(String, ScalingPolicyRecord, Vec<PolicyAlarm>)> {
        let state = self.read();
        state
            .autoscaling
            .policies
            .iter()
            .filter(|(_, policy)| target.is_none_or(|target| policy.target == *target))
            .filter(|(_, policy)| names.is_empty() || names.contains(&policy.name))
            .map(|(key, policy)| {
                // A step policy's alarms are the user's alarms whose actions name it.
                let alarms = match policy.config {
                    PolicyConfig::TargetTracking(_) => policy.owned_alarms.clone(),
                    PolicyConfig::Step(_) => state
                        .alarms
                        .alarms
                        .values()
                        .filter(|alarm| alarm.config.alarm_actions.contains(&policy.arn))
                        .map(|alarm| PolicyAlarm { name: alarm.config.name.clone(), arn: alarm.arn.clone() })
                        .collect(),
                };
                (key.clone(), policy.clone(), alarms)
            })
            .collect()
    }

    /// DeleteScalingPolicy, with the alarms it owns; a user's alarms that name a step policy
    /// keep the action (it names nothing any more), as in AWS.
    pub async fn delete_scaling_policy(&self, key: TargetKey, name: String) -> ControlResult<()> {
        self.mutate(|state| {
            let policy = state
                .autoscaling
                .policies
                .get(&super::records::policy_key(&key, &name))
                .ok_or_else(|| no_policy(&key, &name))?;
            let mut changes = owned_alarm_deletions(state, &policy.owned_alarms);
            changes.push(Change::AutoScaling(AutoScalingChange::DeletePolicy(policy.store_key())));
            Ok((changes, ()))
        })
        .await
    }
}
