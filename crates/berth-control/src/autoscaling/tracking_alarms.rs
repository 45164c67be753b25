//! The CloudWatch alarms a target tracking policy creates and owns, shaped as AWS documents
//! them: `TargetTracking-<resource>-AlarmHigh-<uuid>` (the metric above the target for 3 of 3
//! periods, scale-out) and, unless scale-in is disabled, `…-AlarmLow-<uuid>` (below 90 % of
//! the target for 15 of 15 periods, scale-in), both with the policy's ARN as their action.
//! The period is 60 s as in AWS unless the operator shortened it
//! (`ControlConfig::autoscaling_alarm_period_seconds`).

use super::error::{AutoScalingError, AutoScalingResult};
use super::records::{MetricRef, PolicyAlarm, TargetKey, TrackedMetric, TrackingConfig};
use crate::cloudwatch::alarms::config::{self, AlarmInput};
use crate::cloudwatch::alarms::records::AlarmConfig;
use crate::cloudwatch::datums::DimensionInput;
use crate::cloudwatch::metric_data::{DataQueryInput, MetricStatInput};

const HIGH_PERIODS: i32 = 3;
const LOW_PERIODS: i32 = 15;
const LOW_FRACTION: f64 = 0.9;

/// CloudWatch's `StandardUnit`s (a customized metric's `Unit` must be one).
const STANDARD_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

pub fn standard_unit(unit: &str, field: &str) -> AutoScalingResult<&'static str> {
    STANDARD_UNITS.iter().copied().find(|known| *known == unit).ok_or_else(|| {
        AutoScalingError::validation(format!("{field} {unit} is not a CloudWatch unit (Seconds, Count, Percent, …)."))
    })
}

/// The predefined metrics Berth can track, as (namespace, metric name, statistic). The
/// `…HighResolution` ECS types are not among them: Berth publishes `AWS/ECS` utilization a
/// minute apart, as ECS does, so a 10-second alarm on it would never see its datapoints.
pub fn predefined_metric(metric_type: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match metric_type {
        "ECSServiceAverageCPUUtilization" => Some(("AWS/ECS", "CPUUtilization", "Average")),
        "ECSServiceAverageMemoryUtilization" => Some(("AWS/ECS", "MemoryUtilization", "Average")),
        "ALBRequestCountPerTarget" => Some(("AWS/ApplicationELB", "RequestCountPerTarget", "Sum")),
        _ => None,
    }
}

/// The `TargetGroup` dimension of an ALB resource label
/// (`app/<lb>/<id>/targetgroup/<group>/<id>`).
pub fn target_group_dimension(label: &str) -> AutoScalingResult<String> {
    let index = label.find("/targetgroup/").ok_or_else(|| {
        AutoScalingError::validation(format!(
            "ResourceLabel {label} is not of the form app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>."
        ))
    })?;
    Ok(label[index + 1..].to_string())
}

fn dimensions(pairs: &[(String, String)]) -> Vec<DimensionInput> {
    pairs.iter().map(|(name, value)| DimensionInput { name: Some(name.clone()), value: Some(value.clone()) }).collect()
}

fn stat_input(
    metric: &MetricRef,
    statistic: &str,
    unit: Option<&str>,
    period: u32,
) -> AutoScalingResult<MetricStatInput> {
    Ok(MetricStatInput {
        namespace: Some(metric.namespace.clone()),
        metric_name: Some(metric.metric_name.clone()),
        dimensions: dimensions(&metric.dimensions),
        period: Some(period as i32),
        stat: Some(statistic.to_string()),
        unit: unit.map(|unit| standard_unit(unit, "Unit")).transpose()?,
    })
}

/// The period of predefined metrics' alarms is never below a minute: their datapoints are a
/// minute apart, whatever the operator shortened the alarms of custom metrics to.
const PREDEFINED_MIN_PERIOD: u32 = 60;

/// The alarm input for the metric `config` tracks, without name, threshold or periods.
fn metric_input(target: &TargetKey, config: &TrackingConfig, period: u32) -> AutoScalingResult<AlarmInput> {
    let period = match config.metric {
        TrackedMetric::Predefined { .. } => period.max(PREDEFINED_MIN_PERIOD),
        _ => period,
    };
    let mut input = AlarmInput { period: Some(period as i32), ..AlarmInput::default() };
    match &config.metric {
        TrackedMetric::Predefined { metric_type, resource_label } => {
            let (namespace, metric_name, statistic) = predefined_metric(metric_type).ok_or_else(|| {
                AutoScalingError::validation(format!(
                    "PredefinedMetricType {metric_type} is not supported for ECS services."
                ))
            })?;
            let pairs = if metric_type == "ALBRequestCountPerTarget" {
                let label = resource_label.as_deref().unwrap_or_default();
                vec![("TargetGroup".to_string(), target_group_dimension(label)?)]
            } else {
                vec![
                    ("ClusterName".to_string(), target.cluster.to_string()),
                    ("ServiceName".to_string(), target.service.to_string()),
                ]
            };
            input.namespace = Some(namespace.to_string());
            input.metric_name = Some(metric_name.to_string());
            input.statistic = Some(statistic.to_string());
            input.dimensions = dimensions(&pairs);
        }
        TrackedMetric::Single { metric, statistic, unit } => {
            input.namespace = Some(metric.namespace.clone());
            input.metric_name = Some(metric.metric_name.clone());
            input.statistic = Some(statistic.clone());
            input.dimensions = dimensions(&metric.dimensions);
            input.unit = unit.as_deref().map(|unit| standard_unit(unit, "Unit")).transpose()?;
        }
        TrackedMetric::Math { queries } => {
            input.period = None;
            let queries = queries
                .iter()
                .map(|query| {
                    Ok(DataQueryInput {
                        id: Some(query.id.clone()),
                        metric_stat: query
                            .metric_stat
                            .as_ref()
                            .map(|(metric, statistic, unit)| stat_input(metric, statistic, unit.as_deref(), period))
                            .transpose()?,
                        expression: query.expression.clone(),
                        label: query.label.clone(),
                        return_data: query.return_data,
                        period: None,
                    })
                })
                .collect::<AutoScalingResult<Vec<_>>>()?;
            input.metrics = Some(queries);
        }
    }
    Ok(input)
}

/// The names of a new policy's alarms: the high one, and the low one unless scale-in is
/// disabled. An update keeps the names its alarms already have.
pub fn alarm_names(target: &TargetKey, existing: &[PolicyAlarm], disable_scale_in: bool) -> (String, Option<String>) {
    let prefix = format!("TargetTracking-{}", target.resource_id());
    let find = |kind: &str| existing.iter().find(|alarm| alarm.name.starts_with(&format!("{prefix}-{kind}-")));
    let high = find("AlarmHigh")
        .map(|alarm| alarm.name.clone())
        .unwrap_or_else(|| format!("{prefix}-AlarmHigh-{}", uuid::Uuid::new_v4()));
    let low = (!disable_scale_in).then(|| {
        find("AlarmLow")
            .map(|alarm| alarm.name.clone())
            .unwrap_or_else(|| format!("{prefix}-AlarmLow-{}", uuid::Uuid::new_v4()))
    });
    (high, low)
}

/// The configurations of the alarms named `high` and `low`, checked as PutMetricAlarm
/// checks a user's (a metric CloudWatch would refuse is refused here, naming the field).
pub fn alarm_configs(
    target: &TargetKey,
    policy_arn: &str,
    config: &TrackingConfig,
    period: u32,
    high: &str,
    low: Option<&str>,
) -> AutoScalingResult<Vec<AlarmConfig>> {
    let base = metric_input(target, config, period)?;
    let mut inputs = vec![AlarmInput {
        name: Some(high.to_string()),
        threshold: Some(config.target_value),
        comparison: Some("GreaterThanThreshold".into()),
        evaluation_periods: Some(HIGH_PERIODS),
        datapoints_to_alarm: Some(HIGH_PERIODS),
        ..base.clone()
    }];
    if let Some(low) = low {
        inputs.push(AlarmInput {
            name: Some(low.to_string()),
            threshold: Some(config.target_value * LOW_FRACTION),
            comparison: Some("LessThanThreshold".into()),
            evaluation_periods: Some(LOW_PERIODS),
            datapoints_to_alarm: Some(LOW_PERIODS),
            ..base
        });
    }
    inputs
        .into_iter()
        .map(|input| {
            let input = AlarmInput {
                description: Some(format!("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}.")),
                actions_enabled: Some(true),
                alarm_actions: vec![policy_arn.to_string()],
                ..input
            };
            config::check(input).map_err(|error| {
                AutoScalingError::validation(format!(
                    "The metric of TargetTrackingScalingPolicyConfiguration is not valid: {error}"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::records::TrackingQuery;
    use berth_types::{ClusterName, ServiceName};

    fn target() -> TargetKey {
        TargetKey { cluster: ClusterName::parse("prod").unwrap(), service: ServiceName::parse("web").unwrap() }
    }

    fn tracking(metric: TrackedMetric) -> TrackingConfig {
        TrackingConfig {
            target_value: 40.0,
            metric,
            scale_out_cooldown: None,
            scale_in_cooldown: None,
            disable_scale_in: false,
        }
    }

    #[test]
    fn predefined_ecs_metrics_watch_the_services_own_utilization_a_minute_apart() {
        let config = tracking(TrackedMetric::Predefined {
            metric_type: "ECSServiceAverageCPUUtilization".into(),
            resource_label: None,
        });
        let alarms = alarm_configs(&target(), "arn:policy", &config, 10, "high", Some("low")).unwrap();
        let metric = alarms[0].metric.as_ref().unwrap();
        assert_eq!((metric.namespace.as_str(), metric.metric_name.as_str()), ("AWS/ECS", "CPUUtilization"));
        assert_eq!(
            metric.dimensions,
            vec![("ClusterName".to_string(), "prod".to_string()), ("ServiceName".to_string(), "web".to_string())]
        );
        assert_eq!(alarms[0].period, 60, "not shortened below the metric's own minute");
        assert_eq!((alarms[1].threshold, alarms[1].evaluation_periods), (36.0, 15));
        assert!(predefined_metric("ECSServiceAverageCPUUtilizationHighResolution").is_none());
    }

    #[test]
    fn alb_request_counts_are_read_by_target_group() {
        let label = "app/shop/50dc6c495c0c9188/targetgroup/web/943f017f100becff";
        assert_eq!(target_group_dimension(label).unwrap(), "targetgroup/web/943f017f100becff");
        assert!(target_group_dimension("app/shop/50dc6c495c0c9188").is_err());
        let config = tracking(TrackedMetric::Predefined {
            metric_type: "ALBRequestCountPerTarget".into(),
            resource_label: Some(label.into()),
        });
        let alarms = alarm_configs(&target(), "arn:policy", &config, 60, "high", None).unwrap();
        assert_eq!(alarms.len(), 1, "no low alarm asked for");
        let metric = alarms[0].metric.as_ref().unwrap();
        assert_eq!((metric.namespace.as_str(), metric.statistic.as_str()), ("AWS/ApplicationELB", "Sum"));
    }

    #[test]
    fn custom_metrics_take_the_shortened_period_and_metric_math_keeps_its_queries() {
        let metric = MetricRef { namespace: "Shop".into(), metric_name: "Backlog".into(), dimensions: vec![] };
        let single =
            tracking(TrackedMetric::Single { metric: metric.clone(), statistic: "Average".into(), unit: None });
        assert_eq!(alarm_configs(&target(), "arn:policy", &single, 10, "high", None).unwrap()[0].period, 10);
        let math = tracking(TrackedMetric::Math {
            queries: vec![
                TrackingQuery {
                    id: "m1".into(),
                    expression: None,
                    label: None,
                    return_data: Some(false),
                    metric_stat: Some((metric, "Sum".into(), Some("Count".into()))),
                },
                TrackingQuery {
                    id: "e1".into(),
                    expression: Some("m1 / 2".into()),
                    label: None,
                    return_data: Some(true),
                    metric_stat: None,
                },
            ],
        });
        let alarms = alarm_configs(&target(), "arn:policy", &math, 10, "high", None).unwrap();
        assert_eq!((alarms[0].queries.len(), alarms[0].period), (2, 10));
        let bad_unit = tracking(TrackedMetric::Single {
            metric: MetricRef { namespace: "Shop".into(), metric_name: "Backlog".into(), dimensions: vec![] },
            statistic: "Average".into(),
            unit: Some("Furlongs".into()),
        });
        assert!(alarm_configs(&target(), "arn:policy", &bad_unit, 10, "high", None)
            .unwrap_err()
            .message
            .contains("Furlongs"));
    }
}
