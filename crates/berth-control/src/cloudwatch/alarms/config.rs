//! PutMetricAlarm's input, checked against CloudWatch's rules, as an alarm's configuration.

use super::records::{AlarmConfig, AlarmQuery, Comparison, TreatMissing, WatchedMetric};
use crate::cloudwatch::datums::{check_name, DimensionInput};
use crate::cloudwatch::error::{required, MetricsError, MetricsResult};
use crate::cloudwatch::metric_data::{DataQueryInput, MetricStatInput};
use crate::cloudwatch::statistic::Statistic;
use crate::cloudwatch::statistics::metric_key;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub actions_enabled: Option<bool>,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<DimensionInput>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub period: Option<i32>,
    pub unit: Option<&'static str>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub treat_missing_data: Option<String>,
    pub metrics: Option<Vec<DataQueryInput>>,
    pub threshold_metric_id: Option<String>,
    pub tags: Vec<(Option<String>, Option<String>)>,
}

const MAX_ACTIONS: usize = 5;
/// Period × EvaluationPeriods may cover at most seven days.
const MAX_EVALUATION_SECONDS: u64 = 7 * 24 * 3600;

/// An alarm's period: 10, 20, 30 or a multiple of 60 seconds.
fn check_alarm_period(period: i32, field: &str) -> MetricsResult<u32> {
    if matches!(period, 10 | 20 | 30) || (period >= 60 && period % 60 == 0) {
        Ok(period as u32)
    } else {
        Err(MetricsError::invalid(field, format!("must be 10, 20, 30 or a multiple of 60, not {period}.")))
    }
}

fn positive(value: Option<i32>, field: &str) -> MetricsResult<u32> {
    let value = required(value, field)?;
    if value < 1 {
        return Err(MetricsError::invalid(field, format!("must be at least 1, not {value}.")));
    }
    Ok(value as u32)
}

fn actions(actions: Vec<String>, field: &str) -> MetricsResult<Vec<String>> {
    if actions.len() > MAX_ACTIONS {
        return Err(MetricsError::invalid(field, format!("must have at most {MAX_ACTIONS} members.")));
    }
    for (index, action) in actions.iter().enumerate() {
        if !action.starts_with("arn:") || action.len() > 1024 {
            return Err(MetricsError::invalid(
                &format!("{field}.member.{}", index + 1),
                format!("must be an ARN, not {action:?}."),
            ));
        }
    }
    Ok(actions)
}

fn watched(stat: MetricStatInput, prefix: &str, statistic_field: &str) -> MetricsResult<WatchedMetric> {
    let key = metric_key(stat.namespace, stat.metric_name, stat.dimensions, prefix)?;
    let statistic = Statistic::parse(&required(stat.stat, statistic_field)?, statistic_field)?;
    Ok(WatchedMetric {
        namespace: key.namespace,
        metric_name: key.metric_name,
        dimensions: key.dimensions.into_iter().map(|dimension| (dimension.name, dimension.value)).collect(),
        statistic: statistic.as_str().to_string(),
        unit: stat.unit.map(str::to_string),
    })
}

pub fn check(input: AlarmInput) -> MetricsResult<AlarmConfig> {
    let name = check_name(input.name, "AlarmName", 255)?;
    if let Some(description) = &input.description {
        if description.chars().count() > 1024 {
            return Err(MetricsError::invalid("AlarmDescription", "must be at most 1024 characters long."));
        }
    }
    if input.threshold_metric_id.is_some() {
        return Err(MetricsError::invalid(
            "ThresholdMetricId",
            "names an anomaly detection band, which Berth does not compute.",
        ));
    }
    let comparison_text = required(input.comparison, "ComparisonOperator")?;
    let comparison =
        Comparison::ALL.into_iter().find(|comparison| comparison.as_str() == comparison_text).ok_or_else(|| {
            MetricsError::invalid(
                "ComparisonOperator",
                format!("{comparison_text} needs an anomaly detection band, which Berth does not compute."),
            )
        })?;
    let threshold = required(input.threshold, "Threshold")?;
    let evaluation_periods = positive(input.evaluation_periods, "EvaluationPeriods")?;
    let datapoints_to_alarm =
        input.datapoints_to_alarm.map(|value| positive(Some(value), "DatapointsToAlarm")).transpose()?;
    if datapoints_to_alarm.is_some_and(|needed| needed > evaluation_periods) {
        return Err(MetricsError::invalid("DatapointsToAlarm", "must not be greater than EvaluationPeriods."));
    }
    let (treat_missing, treat_missing_given) = match input.treat_missing_data.as_deref() {
        None => (TreatMissing::Missing, false),
        Some(text) => (
            TreatMissing::ALL.into_iter().find(|treat| treat.as_str() == text).ok_or_else(|| {
                MetricsError::invalid(
                    "TreatMissingData",
                    format!("must be breaching, notBreaching, ignore or missing, not {text:?}."),
                )
            })?,
            true,
        ),
    };
    let single = input.metric_name.is_some()
        || input.namespace.is_some()
        || input.statistic.is_some()
        || input.extended_statistic.is_some();
    let (metric, queries, period) = match (single, input.metrics) {
        (true, Some(_)) => {
            return Err(MetricsError::combination(
                "The parameters Metrics and MetricName (with Namespace, Statistic, Dimensions and Period) are mutually exclusive.",
            ))
        }
        (false, None) => return Err(MetricsError::combination("One of the parameters MetricName and Metrics must be specified.")),
        (true, None) => {
            if let Some(extended) = input.extended_statistic {
                return Err(Statistic::parse(&extended, "ExtendedStatistic").unwrap_err());
            }
            let stat = MetricStatInput {
                namespace: input.namespace,
                metric_name: input.metric_name,
                dimensions: input.dimensions,
                period: input.period,
                stat: input.statistic,
                unit: input.unit,
            };
            let period = check_alarm_period(required(input.period, "Period")?, "Period")?;
            (Some(watched(stat, "", "Statistic")?), Vec::new(), period)
        }
        (false, Some(queries)) => {
            let (queries, period) = math_queries(queries)?;
            (None, queries, period)
        }
    };
    if u64::from(period) * u64::from(evaluation_periods) > MAX_EVALUATION_SECONDS {
        return Err(MetricsError::invalid(
            "EvaluationPeriods",
            "times Period must not exceed 604800 seconds (7 days).",
        ));
    }
    let tags = input
        .tags
        .into_iter()
        .enumerate()
        .map(|(index, (key, value))| {
            let field = format!("Tags.member.{}", index + 1);
            Ok((check_name(key, &format!("{field}.Key"), 128)?, required(value, &format!("{field}.Value"))?))
        })
        .collect::<MetricsResult<Vec<_>>>()?;
    Ok(AlarmConfig {
        name,
        description: input.description,
        actions_enabled: input.actions_enabled.unwrap_or(true),
        ok_actions: actions(input.ok_actions, "OKActions")?,
        alarm_actions: actions(input.alarm_actions, "AlarmActions")?,
        insufficient_data_actions: actions(input.insufficient_data_actions, "InsufficientDataActions")?,
        metric,
        queries,
        period,
        evaluation_periods,
        datapoints_to_alarm,
        threshold,
        comparison,
        treat_missing,
        treat_missing_given,
        tags,
    })
}

/// A metric math alarm's queries: exactly one returns data, and the period is its metrics'.
fn math_queries(inputs: Vec<DataQueryInput>) -> MetricsResult<(Vec<AlarmQuery>, u32)> {
    if inputs.is_empty() || inputs.len() > 10 {
        return Err(MetricsError::invalid("Metrics", format!("must have 1 to 10 members, not {}.", inputs.len())));
    }
    let mut period = None;
    let mut queries = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        let field = format!("Metrics.member.{}", index + 1);
        let id = required(input.id, &format!("{field}.Id"))?;
        let metric = match input.metric_stat {
            Some(stat) => {
                let stat_period = check_alarm_period(
                    required(stat.period, &format!("{field}.MetricStat.Period"))?,
                    &format!("{field}.MetricStat.Period"),
                )?;
                period = Some(period.map_or(stat_period, |known: u32| known.min(stat_period)));
                Some(watched(stat, &format!("{field}.MetricStat.Metric."), &format!("{field}.MetricStat.Stat"))?)
            }
            None => None,
        };
        if metric.is_some() == input.expression.is_some() {
            return Err(MetricsError::combination(format!(
                "Exactly one of {field}.MetricStat and {field}.Expression must be specified."
            )));
        }
        let query_period =
            input.period.map(|value| check_alarm_period(value, &format!("{field}.Period"))).transpose()?;
        queries.push(AlarmQuery {
            id,
            label: input.label,
            return_data: input.return_data.unwrap_or(true),
            expression: input.expression,
            metric,
            period: query_period,
        });
    }
    if queries.iter().filter(|query| query.return_data).count() != 1 {
        return Err(MetricsError::invalid(
            "Metrics",
            "must have exactly one member with ReturnData true: the one the alarm watches.",
        ));
    }
    let period = period
        .or_else(|| queries.iter().find_map(|query| query.period))
        .ok_or_else(|| MetricsError::invalid("Metrics", "must have a metric with a period."))?;
    Ok((queries, period))
}
