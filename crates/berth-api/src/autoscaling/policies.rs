//! Scaling policies: PutScalingPolicy's configurations become `berth_control`'s policy input
//! (step tables, target tracking metrics), and stored policies render back as they were given.

use super::targets::{dimension, namespace};
use super::{describe_filter, required, seconds, target_key, AutoScalingApiResult};
use crate::Api;
use berth_autoscaling_wire as wire;
use berth_control::autoscaling::policies::{CustomizedInput, PolicyInput, StepInput, TrackingInput};
use berth_control::autoscaling::records::{
    AdjustmentType, Aggregation, MetricRef, PolicyAlarm, PolicyConfig, ScalingPolicyRecord, StepAdjustment, StepConfig,
    TrackedMetric, TrackingConfig, TrackingQuery,
};
use berth_control::autoscaling::targets::page;

fn adjustment_type(value: wire::AdjustmentType) -> AdjustmentType {
    match value.as_str() {
        "ExactCapacity" => AdjustmentType::ExactCapacity,
        "PercentChangeInCapacity" => AdjustmentType::PercentChangeInCapacity,
        _ => AdjustmentType::ChangeInCapacity,
    }
}

fn aggregation(value: wire::MetricAggregationType) -> Aggregation {
    match value.as_str() {
        "Minimum" => Aggregation::Minimum,
        "Maximum" => Aggregation::Maximum,
        _ => Aggregation::Average,
    }
}

fn step_input(config: wire::StepScalingPolicyConfiguration) -> AutoScalingApiResult<StepInput> {
    let steps = config
        .step_adjustments
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, step)| {
            Ok(StepAdjustment {
                lower_bound: step.metric_interval_lower_bound,
                upper_bound: step.metric_interval_upper_bound,
                adjustment: required(step.scaling_adjustment, &format!("StepAdjustments[{index}].ScalingAdjustment"))?,
            })
        })
        .collect::<AutoScalingApiResult<Vec<_>>>()?;
    Ok(StepInput {
        adjustment_type: config.adjustment_type.map(adjustment_type),
        steps,
        min_adjustment_magnitude: config.min_adjustment_magnitude,
        cooldown: config.cooldown,
        aggregation: config.metric_aggregation_type.map(aggregation),
    })
}

fn pairs(
    dimensions: Vec<(Option<String>, Option<String>)>,
    field: &str,
) -> AutoScalingApiResult<Vec<(String, String)>> {
    dimensions
        .into_iter()
        .enumerate()
        .map(|(index, (name, value))| {
            Ok((
                required(name, &format!("{field}[{index}].Name"))?,
                required(value, &format!("{field}[{index}].Value"))?,
            ))
        })
        .collect()
}

fn query(query: wire::TargetTrackingMetricDataQuery, index: usize) -> AutoScalingApiResult<TrackingQuery> {
    let field = format!("CustomizedMetricSpecification.Metrics[{index}]");
    let metric_stat = query
        .metric_stat
        .map(|stat| {
            let metric = required(stat.metric, &format!("{field}.MetricStat.Metric"))?;
            let dimensions = metric.dimensions.unwrap_or_default().into_iter().map(|d| (d.name, d.value)).collect();
            let metric = MetricRef {
                namespace: required(metric.namespace, &format!("{field}.MetricStat.Metric.Namespace"))?,
                metric_name: required(metric.metric_name, &format!("{field}.MetricStat.Metric.MetricName"))?,
                dimensions: pairs(dimensions, &format!("{field}.MetricStat.Metric.Dimensions"))?,
            };
            Ok::<_, super::AutoScalingApiError>((
                metric,
                required(stat.stat, &format!("{field}.MetricStat.Stat"))?,
                stat.unit,
            ))
        })
        .transpose()?;
    Ok(TrackingQuery {
        id: required(query.id, &format!("{field}.Id"))?,
        expression: query.expression,
        label: query.label,
        return_data: query.return_data,
        metric_stat,
    })
}

fn tracking_input(config: wire::TargetTrackingScalingPolicyConfiguration) -> AutoScalingApiResult<TrackingInput> {
    let predefined = config
        .predefined_metric_specification
        .map(|spec| {
            let metric_type =
                required(spec.predefined_metric_type, "PredefinedMetricSpecification.PredefinedMetricType")?;
            Ok::<_, super::AutoScalingApiError>((metric_type.as_str().to_string(), spec.resource_label))
        })
        .transpose()?;
    let customized = config
        .customized_metric_specification
        .map(|spec| {
            let dimensions = spec.dimensions.unwrap_or_default().into_iter().map(|d| (d.name, d.value)).collect();
            Ok::<_, super::AutoScalingApiError>(CustomizedInput {
                metric_name: spec.metric_name,
                namespace: spec.namespace,
                dimensions: pairs(dimensions, "CustomizedMetricSpecification.Dimensions")?,
                statistic: spec.statistic.map(|statistic| statistic.as_str().to_string()),
                unit: spec.unit,
                metrics: spec
                    .metrics
                    .map(|queries| queries.into_iter().enumerate().map(|(index, q)| query(q, index)).collect())
                    .transpose()?,
            })
        })
        .transpose()?;
    Ok(TrackingInput {
        target_value: config.target_value,
        predefined,
        customized,
        scale_out_cooldown: config.scale_out_cooldown,
        scale_in_cooldown: config.scale_in_cooldown,
        disable_scale_in: config.disable_scale_in,
    })
}

fn render_alarms(alarms: Vec<PolicyAlarm>) -> Vec<wire::Alarm> {
    alarms.into_iter().map(|alarm| wire::Alarm { alarm_name: Some(alarm.name), alarm_arn: Some(alarm.arn) }).collect()
}

pub async fn put_scaling_policy(
    api: &Api,
    request: wire::PutScalingPolicyRequest,
) -> AutoScalingApiResult<wire::PutScalingPolicyResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let input = PolicyInput {
        name: required(request.policy_name, "PolicyName")?,
        policy_type: request.policy_type.map(|policy_type| policy_type.as_str().to_string()),
        step: request.step_scaling_policy_configuration.map(step_input).transpose()?,
        tracking: request.target_tracking_scaling_policy_configuration.map(tracking_input).transpose()?,
        predictive: request.predictive_scaling_policy_configuration.is_some(),
    };
    let answer = api.control.put_scaling_policy(key, input).await?;
    Ok(wire::PutScalingPolicyResponse { policy_arn: Some(answer.arn), alarms: Some(render_alarms(answer.alarms)) })
}

fn render_step(config: StepConfig) -> wire::StepScalingPolicyConfiguration {
    let adjustment_type = match config.adjustment_type {
        AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
        AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
        AdjustmentType::ExactCapacity => "ExactCapacity",
    };
    let aggregation = config.aggregation.map(|aggregation| match aggregation {
        Aggregation::Average => "Average",
        Aggregation::Minimum => "Minimum",
        Aggregation::Maximum => "Maximum",
    });
    wire::StepScalingPolicyConfiguration {
        adjustment_type: wire::AdjustmentType::parse(adjustment_type),
        step_adjustments: Some(
            config
                .steps
                .into_iter()
                .map(|step| wire::StepAdjustment {
                    metric_interval_lower_bound: step.lower_bound,
                    metric_interval_upper_bound: step.upper_bound,
                    scaling_adjustment: Some(step.adjustment),
                })
                .collect(),
        ),
        min_adjustment_magnitude: config.min_adjustment_magnitude,
        cooldown: config.cooldown_seconds.map(|seconds| seconds as i32),
        metric_aggregation_type: aggregation.and_then(wire::MetricAggregationType::parse),
    }
}

fn render_metric(metric: MetricRef) -> wire::TargetTrackingMetric {
    wire::TargetTrackingMetric {
        dimensions: Some(
            metric
                .dimensions
                .into_iter()
                .map(|(name, value)| wire::TargetTrackingMetricDimension { name: Some(name), value: Some(value) })
                .collect(),
        ),
        metric_name: Some(metric.metric_name),
        namespace: Some(metric.namespace),
    }
}

fn render_tracking(config: TrackingConfig) -> wire::TargetTrackingScalingPolicyConfiguration {
    let (predefined, customized) = match config.metric {
        TrackedMetric::Predefined { metric_type, resource_label } => (
            Some(wire::PredefinedMetricSpecification {
                predefined_metric_type: wire::MetricType::parse(&metric_type),
                resource_label,
            }),
            None,
        ),
        TrackedMetric::Single { metric, statistic, unit } => (
            None,
            Some(wire::CustomizedMetricSpecification {
                metric_name: Some(metric.metric_name),
                namespace: Some(metric.namespace),
                dimensions: Some(
                    metric
                        .dimensions
                        .into_iter()
                        .map(|(name, value)| wire::MetricDimension { name: Some(name), value: Some(value) })
                        .collect(),
                ),
                statistic: wire::MetricStatistic::parse(&statistic),
                unit,
                metrics: None,
            }),
        ),
        TrackedMetric::Math { queries } => (
            None,
            Some(wire::CustomizedMetricSpecification {
                metrics: Some(
                    queries
                        .into_iter()
                        .map(|query| wire::TargetTrackingMetricDataQuery {
                            expression: query.expression,
                            id: Some(query.id),
                            label: query.label,
                            metric_stat: query.metric_stat.map(|(metric, stat, unit)| wire::TargetTrackingMetricStat {
                                metric: Some(render_metric(metric)),
                                stat: Some(stat),
                                unit,
                            }),
                            return_data: query.return_data,
                        })
                        .collect(),
                ),
                ..wire::CustomizedMetricSpecification::default()
            }),
        ),
    };
    wire::TargetTrackingScalingPolicyConfiguration {
        target_value: Some(config.target_value),
        predefined_metric_specification: predefined,
        customized_metric_specification: customized,
        scale_out_cooldown: config.scale_out_cooldown.map(|seconds| seconds as i32),
        scale_in_cooldown: config.scale_in_cooldown.map(|seconds| seconds as i32),
        disable_scale_in: Some(config.disable_scale_in),
    }
}

fn render_policy(policy: ScalingPolicyRecord, alarms: Vec<PolicyAlarm>) -> wire::ScalingPolicy {
    let policy_type = wire::PolicyType::parse(policy.config.type_name());
    let (step, tracking) = match policy.config {
        PolicyConfig::Step(config) => (Some(render_step(config)), None),
        PolicyConfig::TargetTracking(config) => (None, Some(render_tracking(config))),
    };
    wire::ScalingPolicy {
        policy_arn: Some(policy.arn),
        policy_name: Some(policy.name),
        service_namespace: namespace(),
        resource_id: Some(policy.target.resource_id()),
        scalable_dimension: dimension(),
        policy_type,
        step_scaling_policy_configuration: step,
        target_tracking_scaling_policy_configuration: tracking,
        predictive_scaling_policy_configuration: None,
        alarms: Some(render_alarms(alarms)),
        creation_time: Some(seconds(policy.created_ms)),
    }
}

pub async fn describe_scaling_policies(
    api: &Api,
    request: wire::DescribeScalingPoliciesRequest,
) -> AutoScalingApiResult<wire::DescribeScalingPoliciesResponse> {
    let target = describe_filter(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let names = request.policy_names.unwrap_or_default();
    if names.len() > 50 {
        return Err(super::AutoScalingApiError::validation(
            "1 validation error detected: Value at 'policyNames' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let policies = api.control.describe_scaling_policies(target.as_ref(), &names);
    let (policies, next_token) = page(
        policies.into_iter().map(|(key, policy, alarms)| (key, (policy, alarms))).collect(),
        request.next_token.as_deref(),
        request.max_results,
    )?;
    Ok(wire::DescribeScalingPoliciesResponse {
        scaling_policies: Some(policies.into_iter().map(|(policy, alarms)| render_policy(policy, alarms)).collect()),
        next_token,
    })
}

pub async fn delete_scaling_policy(
    api: &Api,
    request: wire::DeleteScalingPolicyRequest,
) -> AutoScalingApiResult<wire::DeleteScalingPolicyResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    api.control.delete_scaling_policy(key, required(request.policy_name, "PolicyName")?).await?;
    Ok(wire::DeleteScalingPolicyResponse {})
}
