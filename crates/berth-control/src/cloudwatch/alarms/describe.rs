//! DescribeAlarms, DescribeAlarmsForMetric and DescribeAlarmHistory: filters over the alarms
//! in name order, and over their history newest first, paged.

use super::records::{AlarmRecord, HistoryKind};
use super::AlarmsState;
use crate::cloudwatch::error::{MetricsError, MetricsErrorKind, MetricsResult};
use crate::{ControlPlane, ControlResult};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmFilter {
    pub names: Vec<String>,
    pub name_prefix: Option<String>,
    pub state: Option<super::records::AlarmState>,
    pub action_prefix: Option<String>,
    /// `AlarmTypes` asks for metric alarms (or says nothing).
    pub metric_alarms: bool,
    pub max_records: Option<i32>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricFilter {
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name; `None`: any.
    pub dimensions: Option<Vec<(String, String)>>,
    pub statistic: Option<String>,
    pub period: Option<u32>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    pub name: Option<String>,
    pub kind: Option<HistoryKind>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub ascending: bool,
    pub max_records: Option<i32>,
    pub next_token: Option<String>,
}

pub struct HistoryEntry {
    pub alarm: String,
    pub item: super::records::HistoryItem,
}

fn page_size(max: Option<i32>, default: usize) -> MetricsResult<usize> {
    match max {
        None => Ok(default),
        Some(max) if (1..=100).contains(&max) => Ok(max as usize),
        Some(max) => Err(MetricsError::invalid("MaxRecords", format!("must be 1 to 100, not {max}."))),
    }
}

fn offset(token: Option<&str>) -> MetricsResult<usize> {
    match token {
        None => Ok(0),
        Some(token) => token.strip_prefix("berth-alarms-").and_then(|offset| offset.parse().ok()).ok_or_else(|| {
            MetricsError::new(MetricsErrorKind::InvalidNextToken, "The NextToken is not one this server gave.")
        }),
    }
}

fn paged<T>(items: Vec<T>, offset: usize, size: usize) -> (Vec<T>, Option<String>) {
    let next = (offset + size < items.len()).then(|| format!("berth-alarms-{}", offset + size));
    (items.into_iter().skip(offset).take(size).collect(), next)
}

fn has_action(alarm: &AlarmRecord, prefix: &str) -> bool {
    [&alarm.config.ok_actions, &alarm.config.alarm_actions, &alarm.config.insufficient_data_actions]
        .into_iter()
        .flatten()
        .any(|action| action.starts_with(prefix))
}

pub fn describe(state: &AlarmsState, filter: AlarmFilter) -> MetricsResult<(Vec<AlarmRecord>, Option<String>)> {
    if !filter.names.is_empty() && filter.name_prefix.is_some() {
        return Err(MetricsError::combination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive."));
    }
    if filter.names.len() > 100 {
        return Err(MetricsError::invalid("AlarmNames", "must have at most 100 members."));
    }
    let size = page_size(filter.max_records, 50)?;
    let start = offset(filter.next_token.as_deref())?;
    if !filter.metric_alarms {
        return Ok((Vec::new(), None));
    }
    let matching: Vec<AlarmRecord> = state
        .alarms
        .values()
        .filter(|alarm| filter.names.is_empty() || filter.names.contains(&alarm.config.name))
        .filter(|alarm| filter.name_prefix.as_ref().is_none_or(|prefix| alarm.config.name.starts_with(prefix.as_str())))
        .filter(|alarm| filter.state.is_none_or(|state| alarm.state == state))
        .filter(|alarm| filter.action_prefix.as_ref().is_none_or(|prefix| has_action(alarm, prefix)))
        .cloned()
        .collect();
    Ok(paged(matching, start, size))
}

pub fn for_metric(state: &AlarmsState, filter: &MetricFilter) -> Vec<AlarmRecord> {
    state
        .alarms
        .values()
        .filter(|alarm| {
            let Some(metric) = &alarm.config.metric else { return false };
            metric.namespace == filter.namespace
                && metric.metric_name == filter.metric_name
                && filter.dimensions.as_ref().is_none_or(|dimensions| &metric.dimensions == dimensions)
                && filter.statistic.as_ref().is_none_or(|statistic| &metric.statistic == statistic)
                && filter.period.is_none_or(|period| alarm.config.period == period)
                && filter.unit.as_ref().is_none_or(|unit| metric.unit.as_ref() == Some(unit))
        })
        .cloned()
        .collect()
}

pub fn history(state: &AlarmsState, filter: HistoryFilter) -> MetricsResult<(Vec<HistoryEntry>, Option<String>)> {
    let size = page_size(filter.max_records, 100)?;
    let start = offset(filter.next_token.as_deref())?;
    let mut entries: Vec<HistoryEntry> = state
        .alarms
        .values()
        .filter(|alarm| filter.name.as_ref().is_none_or(|name| &alarm.config.name == name))
        .flat_map(|alarm| {
            alarm.history.iter().map(|item| HistoryEntry { alarm: alarm.config.name.clone(), item: item.clone() })
        })
        .filter(|entry| filter.kind.is_none_or(|kind| entry.item.kind == kind))
        .filter(|entry| filter.start_ms.is_none_or(|start| entry.item.timestamp_ms >= start))
        .filter(|entry| filter.end_ms.is_none_or(|end| entry.item.timestamp_ms <= end))
        .collect();
    // A stable order: by time, then by alarm name.
    entries.sort_by(|a, b| (a.item.timestamp_ms, &a.alarm).cmp(&(b.item.timestamp_ms, &b.alarm)));
    if !filter.ascending {
        entries.reverse();
    }
    Ok(paged(entries, start, size))
}

impl ControlPlane {
    pub fn describe_alarms(&self, filter: AlarmFilter) -> ControlResult<(Vec<AlarmRecord>, Option<String>)> {
        Ok(describe(&self.read().alarms, filter)?)
    }

    pub fn describe_alarms_for_metric(&self, filter: &MetricFilter) -> Vec<AlarmRecord> {
        for_metric(&self.read().alarms, filter)
    }

    pub fn describe_alarm_history(&self, filter: HistoryFilter) -> ControlResult<(Vec<HistoryEntry>, Option<String>)> {
        Ok(history(&self.read().alarms, filter)?)
    }
}
