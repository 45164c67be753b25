//! The alarm and tag operations: wire shapes to `berth_control::cloudwatch::alarms` and back.

use super::error::{CloudWatchError, CloudWatchResult};
use super::metrics::{dimensions, query_in};
use crate::Api;
use berth_cloudwatch_wire as wire;
use berth_control::cloudwatch::alarms::config::AlarmInput;
use berth_control::cloudwatch::alarms::describe::{AlarmFilter, HistoryFilter, MetricFilter};
use berth_control::cloudwatch::alarms::records::{AlarmQuery, AlarmRecord, AlarmState, HistoryKind, WatchedMetric};
use berth_control::cloudwatch::MetricsError;

fn timestamp(ms: i64) -> Option<wire::Timestamp> {
    Some(wire::Timestamp::from_unix_millis(ms))
}

fn dimensions_out(dimensions: &[(String, String)]) -> Vec<wire::Dimension> {
    dimensions
        .iter()
        .map(|(name, value)| wire::Dimension { name: Some(name.clone()), value: Some(value.clone()) })
        .collect()
}

fn state_in(state: wire::StateValue) -> AlarmState {
    AlarmState::parse(state.as_str()).expect("the wire's states are the alarm states")
}

fn state_out(state: AlarmState) -> Option<wire::StateValue> {
    [wire::StateValue::Ok, wire::StateValue::Alarm, wire::StateValue::InsufficientData]
        .into_iter()
        .find(|value| value.as_str() == state.as_str())
}

fn statistic_out(name: &str) -> Option<wire::Statistic> {
    [
        wire::Statistic::SampleCount,
        wire::Statistic::Average,
        wire::Statistic::Sum,
        wire::Statistic::Minimum,
        wire::Statistic::Maximum,
    ]
    .into_iter()
    .find(|statistic| statistic.as_str() == name)
}

fn unit_out(unit: Option<&str>) -> Option<wire::StandardUnit> {
    unit.and_then(|unit| wire::StandardUnit::ALL.iter().copied().find(|known| known.as_str() == unit))
}

fn comparison_out(name: &str) -> Option<wire::ComparisonOperator> {
    [
        wire::ComparisonOperator::GreaterThanOrEqualToThreshold,
        wire::ComparisonOperator::GreaterThanThreshold,
        wire::ComparisonOperator::LessThanThreshold,
        wire::ComparisonOperator::LessThanOrEqualToThreshold,
    ]
    .into_iter()
    .find(|comparison| comparison.as_str() == name)
}

fn metric_stat_out(metric: &WatchedMetric, period: u32) -> wire::MetricStat {
    wire::MetricStat {
        metric: Some(wire::Metric {
            namespace: Some(metric.namespace.clone()),
            metric_name: Some(metric.metric_name.clone()),
            dimensions: Some(dimensions_out(&metric.dimensions)),
        }),
        period: Some(period as i32),
        stat: Some(metric.statistic.clone()),
        unit: unit_out(metric.unit.as_deref()),
    }
}

fn query_out(query: &AlarmQuery, period: u32) -> wire::MetricDataQuery {
    wire::MetricDataQuery {
        id: Some(query.id.clone()),
        metric_stat: query.metric.as_ref().map(|metric| metric_stat_out(metric, query.period.unwrap_or(period))),
        expression: query.expression.clone(),
        label: query.label.clone(),
        return_data: Some(query.return_data),
        period: query.period.map(|period| period as i32),
        account_id: None,
    }
}

fn alarm_out(alarm: AlarmRecord) -> wire::MetricAlarm {
    let metric = alarm.config.metric.as_ref();
    wire::MetricAlarm {
        alarm_name: Some(alarm.config.name.clone()),
        alarm_arn: Some(alarm.arn.clone()),
        alarm_description: alarm.config.description.clone(),
        alarm_configuration_updated_timestamp: timestamp(alarm.configuration_updated_ms),
        actions_enabled: Some(alarm.config.actions_enabled),
        ok_actions: Some(alarm.config.ok_actions.clone()),
        alarm_actions: Some(alarm.config.alarm_actions.clone()),
        insufficient_data_actions: Some(alarm.config.insufficient_data_actions.clone()),
        state_value: state_out(alarm.state),
        state_reason: Some(alarm.state_reason.clone()),
        state_reason_data: alarm.state_reason_data.clone(),
        state_updated_timestamp: timestamp(alarm.state_updated_ms),
        metric_name: metric.map(|metric| metric.metric_name.clone()),
        namespace: metric.map(|metric| metric.namespace.clone()),
        statistic: metric.and_then(|metric| statistic_out(&metric.statistic)),
        dimensions: Some(metric.map(|metric| dimensions_out(&metric.dimensions)).unwrap_or_default()),
        period: metric.map(|_| alarm.config.period as i32),
        unit: metric.and_then(|metric| unit_out(metric.unit.as_deref())),
        evaluation_periods: Some(alarm.config.evaluation_periods as i32),
        datapoints_to_alarm: alarm.config.datapoints_to_alarm.map(|count| count as i32),
        threshold: Some(alarm.config.threshold),
        comparison_operator: comparison_out(alarm.config.comparison.as_str()),
        treat_missing_data: alarm.config.treat_missing_given.then(|| alarm.config.treat_missing.as_str().to_string()),
        metrics: (!alarm.config.queries.is_empty())
            .then(|| alarm.config.queries.iter().map(|query| query_out(query, alarm.config.period)).collect()),
        state_transitioned_timestamp: timestamp(alarm.state_transitioned_ms),
        ..wire::MetricAlarm::default()
    }
}

fn tags_in(tags: Option<Vec<wire::Tag>>) -> Vec<(Option<String>, Option<String>)> {
    tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect()
}

pub async fn put_metric_alarm(api: &Api, input: wire::PutMetricAlarmInput) -> CloudWatchResult<()> {
    let alarm = AlarmInput {
        name: input.alarm_name,
        description: input.alarm_description,
        actions_enabled: input.actions_enabled,
        ok_actions: input.ok_actions.unwrap_or_default(),
        alarm_actions: input.alarm_actions.unwrap_or_default(),
        insufficient_data_actions: input.insufficient_data_actions.unwrap_or_default(),
        namespace: input.namespace,
        metric_name: input.metric_name,
        dimensions: dimensions(input.dimensions),
        statistic: input.statistic.map(|statistic| statistic.as_str().to_string()),
        extended_statistic: input.extended_statistic,
        period: input.period,
        unit: input.unit.map(|unit| unit.as_str()),
        evaluation_periods: input.evaluation_periods,
        datapoints_to_alarm: input.datapoints_to_alarm,
        threshold: input.threshold,
        comparison: input.comparison_operator.map(|comparison| comparison.as_str().to_string()),
        treat_missing_data: input.treat_missing_data,
        metrics: input.metrics.map(|queries| queries.into_iter().map(query_in).collect()),
        threshold_metric_id: input.threshold_metric_id,
        tags: tags_in(input.tags),
    };
    Ok(api.control.put_metric_alarm(alarm).await?)
}

fn wants_metric_alarms(types: &Option<Vec<wire::AlarmType>>) -> bool {
    types.as_ref().is_none_or(|types| types.iter().any(|kind| matches!(kind, wire::AlarmType::MetricAlarm)))
}

pub fn describe_alarms(api: &Api, input: wire::DescribeAlarmsInput) -> CloudWatchResult<wire::DescribeAlarmsOutput> {
    if input.children_of_alarm_name.is_some() || input.parents_of_alarm_name.is_some() {
        return Err(MetricsError::invalid(
            "ChildrenOfAlarmName",
            "names a composite alarm, which Berth does not keep.",
        )
        .into());
    }
    let composites_asked = input
        .alarm_types
        .as_ref()
        .is_some_and(|types| types.iter().any(|kind| matches!(kind, wire::AlarmType::CompositeAlarm)));
    let filter = AlarmFilter {
        names: input.alarm_names.unwrap_or_default(),
        name_prefix: input.alarm_name_prefix,
        state: input.state_value.map(state_in),
        action_prefix: input.action_prefix,
        metric_alarms: wants_metric_alarms(&input.alarm_types),
        max_records: input.max_records,
        next_token: input.next_token,
    };
    let (alarms, next_token) = api.control.describe_alarms(filter)?;
    Ok(wire::DescribeAlarmsOutput {
        metric_alarms: Some(alarms.into_iter().map(alarm_out).collect()),
        composite_alarms: composites_asked.then(Vec::new),
        next_token,
        ..wire::DescribeAlarmsOutput::default()
    })
}

pub fn describe_alarms_for_metric(
    api: &Api,
    input: wire::DescribeAlarmsForMetricInput,
) -> CloudWatchResult<wire::DescribeAlarmsForMetricOutput> {
    let namespace = input.namespace.ok_or_else(|| MetricsError::missing("Namespace"))?;
    let metric_name = input.metric_name.ok_or_else(|| MetricsError::missing("MetricName"))?;
    let mut dimensions: Option<Vec<(String, String)>> = input.dimensions.map(|dimensions| {
        dimensions
            .into_iter()
            .map(|dimension| (dimension.name.unwrap_or_default(), dimension.value.unwrap_or_default()))
            .collect()
    });
    if let Some(dimensions) = dimensions.as_mut() {
        dimensions.sort();
    }
    let filter = MetricFilter {
        namespace,
        metric_name,
        dimensions,
        statistic: input.statistic.map(|statistic| statistic.as_str().to_string()),
        period: input.period.map(|period| period.max(0) as u32),
        unit: input.unit.map(|unit| unit.as_str().to_string()),
    };
    let alarms = api.control.describe_alarms_for_metric(&filter);
    Ok(wire::DescribeAlarmsForMetricOutput { metric_alarms: Some(alarms.into_iter().map(alarm_out).collect()) })
}

pub fn describe_alarm_history(
    api: &Api,
    input: wire::DescribeAlarmHistoryInput,
) -> CloudWatchResult<wire::DescribeAlarmHistoryOutput> {
    if !wants_metric_alarms(&input.alarm_types) {
        return Ok(wire::DescribeAlarmHistoryOutput { alarm_history_items: Some(vec![]), next_token: None });
    }
    let filter = HistoryFilter {
        name: input.alarm_name,
        kind: input.history_item_type.and_then(|kind| match kind {
            wire::HistoryItemType::ConfigurationUpdate => Some(HistoryKind::ConfigurationUpdate),
            wire::HistoryItemType::StateUpdate => Some(HistoryKind::StateUpdate),
            wire::HistoryItemType::Action => Some(HistoryKind::Action),
            _ => None,
        }),
        start_ms: input.start_date.map(|date| date.unix_millis),
        end_ms: input.end_date.map(|date| date.unix_millis),
        ascending: matches!(input.scan_by, Some(wire::ScanBy::TimestampAscending)),
        max_records: input.max_records,
        next_token: input.next_token,
    };
    let (entries, next_token) = api.control.describe_alarm_history(filter)?;
    let items = entries
        .into_iter()
        .map(|entry| wire::AlarmHistoryItem {
            alarm_name: Some(entry.alarm),
            alarm_type: Some(wire::AlarmType::MetricAlarm),
            timestamp: timestamp(entry.item.timestamp_ms),
            history_item_type: Some(match entry.item.kind {
                HistoryKind::ConfigurationUpdate => wire::HistoryItemType::ConfigurationUpdate,
                HistoryKind::StateUpdate => wire::HistoryItemType::StateUpdate,
                HistoryKind::Action => wire::HistoryItemType::Action,
            }),
            history_summary: Some(entry.item.summary),
            history_data: Some(entry.item.data),
            ..wire::AlarmHistoryItem::default()
        })
        .collect();
    Ok(wire::DescribeAlarmHistoryOutput { alarm_history_items: Some(items), next_token })
}

pub async fn set_alarm_state(api: &Api, input: wire::SetAlarmStateInput) -> CloudWatchResult<()> {
    let name = input.alarm_name.ok_or_else(|| MetricsError::missing("AlarmName"))?;
    let state = input.state_value.map(state_in).ok_or_else(|| MetricsError::missing("StateValue"))?;
    let reason = input.state_reason.ok_or_else(|| MetricsError::missing("StateReason"))?;
    Ok(api.control.set_alarm_state(name, state, reason, input.state_reason_data).await?)
}

pub async fn delete_alarms(api: &Api, input: wire::DeleteAlarmsInput) -> CloudWatchResult<()> {
    let names = input.alarm_names.ok_or_else(|| MetricsError::missing("AlarmNames"))?;
    Ok(api.control.delete_alarms(names).await?)
}

pub async fn set_actions_enabled(api: &Api, names: Option<Vec<String>>, enabled: bool) -> CloudWatchResult<()> {
    let names = names.ok_or_else(|| MetricsError::missing("AlarmNames"))?;
    Ok(api.control.set_alarm_actions_enabled(names, enabled).await?)
}

pub async fn tag_resource(api: &Api, input: wire::TagResourceInput) -> CloudWatchResult<wire::TagResourceOutput> {
    let arn = input.resource_arn.ok_or_else(|| MetricsError::missing("ResourceARN"))?;
    api.control.tag_alarm(arn, tags_in(input.tags)).await?;
    Ok(wire::TagResourceOutput::default())
}

pub async fn untag_resource(api: &Api, input: wire::UntagResourceInput) -> CloudWatchResult<wire::UntagResourceOutput> {
    let arn = input.resource_arn.ok_or_else(|| MetricsError::missing("ResourceARN"))?;
    api.control.untag_alarm(arn, input.tag_keys.unwrap_or_default()).await?;
    Ok(wire::UntagResourceOutput::default())
}

pub fn list_tags_for_resource(
    api: &Api,
    input: wire::ListTagsForResourceInput,
) -> CloudWatchResult<wire::ListTagsForResourceOutput> {
    let arn = input.resource_arn.ok_or_else(|| MetricsError::missing("ResourceARN"))?;
    let tags = api.control.alarm_tags(&arn)?;
    let tags = tags.into_iter().map(|(key, value)| wire::Tag { key: Some(key), value: Some(value) }).collect();
    Ok(wire::ListTagsForResourceOutput { tags: Some(tags) })
}

impl From<berth_control::ControlError> for CloudWatchError {
    fn from(error: berth_control::ControlError) -> Self {
        match error {
            berth_control::ControlError::Metrics(error) => error.into(),
            berth_control::ControlError::Store(error) => {
                tracing::error!(%error, "storage failure while serving a CloudWatch request");
                CloudWatchError::internal()
            }
            other => {
                MetricsError::new(berth_control::cloudwatch::MetricsErrorKind::InvalidParameterValue, other.to_string())
                    .into()
            }
        }
    }
}
