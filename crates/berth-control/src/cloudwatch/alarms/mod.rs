//! CloudWatch metric alarms: records in the control plane's store (`records`), PutMetricAlarm's
//! rules (`config`), the listing operations (`describe`), and the evaluator (`evaluate`, run by
//! [`run_alarm_evaluation`]) that reads each alarm's metric from the metric store and moves its
//! state, recording each change in the alarm's history.
//!
//! Invariants: alarms change only through [`AlarmChange`]s inside `ControlPlane::mutate`; an
//! evaluation applies only to the configuration it read (an alarm updated meanwhile is left
//! for the next pass); a state change and its history item are one write.
//!
//! Alarm actions that name an Application Auto Scaling policy are carried out: each evaluation
//! hands every alarm in ALARM with such actions to `autoscaling::engine`. Other actions (SNS,
//! EC2, …) are kept and shown but not carried out: nothing in Berth receives them yet.

pub mod config;
pub mod describe;
pub mod evaluate;
pub mod records;
pub mod tags;

#[cfg(test)]
mod tests;

use crate::cloudwatch::datums::DimensionInput;
use crate::cloudwatch::error::{MetricsError, MetricsErrorKind};
use crate::cloudwatch::metric_data::{self, DataQueryInput, DataRequest, MetricStatInput};
use crate::state::{encode, scan, Change};
use crate::{ControlPlane, ControlResult};
use berth_metric_store::{Dimension, MetricStore, SeriesKey};
use berth_store::{Store, StoreError, Table, WriteBatch};
use berth_types::Timestamp;
use records::{AlarmConfig, AlarmQuery, AlarmRecord, AlarmState, HistoryItem, HistoryKind, WatchedMetric};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One durable change to alarms (the `Change::Alarm` of a batch).
#[derive(Debug, Clone)]
pub enum AlarmChange {
    Put(Box<AlarmRecord>),
    Delete(String),
}

/// Alarms by name.
#[derive(Debug, Default)]
pub struct AlarmsState {
    pub alarms: BTreeMap<String, AlarmRecord>,
}

impl AlarmsState {
    pub fn load(store: &dyn Store) -> Result<AlarmsState, StoreError> {
        let mut state = AlarmsState::default();
        scan(store, Table::MetricAlarms, |record| state.apply(AlarmChange::Put(Box::new(record))))?;
        Ok(state)
    }

    pub fn write(change: &AlarmChange, batch: &mut WriteBatch) {
        match change {
            AlarmChange::Put(record) => {
                batch.put(Table::MetricAlarms, record.config.name.clone(), encode(record.as_ref()))
            }
            AlarmChange::Delete(name) => batch.delete(Table::MetricAlarms, name.clone()),
        }
    }

    pub fn apply(&mut self, change: AlarmChange) {
        match change {
            AlarmChange::Put(record) => {
                self.alarms.insert(record.config.name.clone(), *record);
            }
            AlarmChange::Delete(name) => {
                self.alarms.remove(&name);
            }
        }
    }
}

fn not_found(name: &str) -> MetricsError {
    MetricsError::new(MetricsErrorKind::ResourceNotFound, format!("The alarm {name} does not exist."))
}

fn state_json(state: AlarmState, reason: &str, data: Option<&str>) -> serde_json::Value {
    let mut json = serde_json::json!({ "stateValue": state.as_str(), "stateReason": reason });
    if let Some(data) = data.and_then(|data| serde_json::from_str::<serde_json::Value>(data).ok()) {
        json["stateReasonData"] = data;
    }
    json
}

/// `alarm` moved to `state`, with its history item; nothing when the state is the same.
fn transition(
    alarm: &mut AlarmRecord,
    state: AlarmState,
    reason: String,
    reason_data: Option<String>,
    now_ms: i64,
) -> bool {
    if alarm.state == state {
        return false;
    }
    let data = serde_json::json!({
        "version": "1.0",
        "oldState": state_json(alarm.state, &alarm.state_reason, alarm.state_reason_data.as_deref()),
        "newState": state_json(state, &reason, reason_data.as_deref()),
    });
    alarm.remember(HistoryItem {
        timestamp_ms: now_ms,
        kind: HistoryKind::StateUpdate,
        summary: format!("Alarm updated from {} to {}", alarm.state.as_str(), state.as_str()),
        data: data.to_string(),
    });
    alarm.state = state;
    alarm.state_reason = reason;
    alarm.state_reason_data = reason_data;
    alarm.state_updated_ms = now_ms;
    alarm.state_transitioned_ms = now_ms;
    true
}

/// An alarm's ARN.
pub(crate) fn alarm_arn(context: &berth_types::ArnContext, name: &str) -> String {
    format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", context.region, context.account)
}

/// The record PutMetricAlarm writes for `config`: a new alarm in INSUFFICIENT_DATA, or
/// `existing` with its configuration replaced whole and its state kept, as CloudWatch does;
/// either way with its configuration history item. (Application Auto Scaling writes the alarms
/// of target tracking policies through it too.)
pub(crate) fn put_record(
    existing: Option<&AlarmRecord>,
    mut config: AlarmConfig,
    arn: String,
    now: i64,
) -> AlarmRecord {
    let created = existing.is_none();
    let mut record = match existing {
        Some(existing) => {
            // Tags are kept unless the put gives new ones.
            if config.tags.is_empty() {
                config.tags = existing.config.tags.clone();
            }
            AlarmRecord { config, configuration_updated_ms: now, ..existing.clone() }
        }
        None => AlarmRecord {
            arn,
            config,
            configuration_updated_ms: now,
            state: AlarmState::InsufficientData,
            state_reason: "Unchecked: Initial alarm creation".into(),
            state_reason_data: None,
            state_updated_ms: now,
            state_transitioned_ms: now,
            history: vec![],
        },
    };
    let verb = if created { "created" } else { "updated" };
    let data = serde_json::json!({ "version": "1.0", "type": if created { "Create" } else { "Update" } });
    record.remember(HistoryItem {
        timestamp_ms: now,
        kind: HistoryKind::ConfigurationUpdate,
        summary: format!("Alarm \"{}\" {verb}", record.config.name),
        data: data.to_string(),
    });
    record
}

impl ControlPlane {
    /// PutMetricAlarm: creates the alarm, or replaces an existing one's configuration whole
    /// while keeping its state, as CloudWatch does.
    pub async fn put_metric_alarm(&self, input: config::AlarmInput) -> ControlResult<()> {
        let config = config::check(input)?;
        let arn = alarm_arn(self.arn_context(), &config.name);
        self.mutate(move |state| {
            let existing = state.alarms.alarms.get(&config.name);
            let record = put_record(existing, config.clone(), arn.clone(), Timestamp::now().0);
            Ok((vec![Change::Alarm(AlarmChange::Put(Box::new(record)))], ()))
        })
        .await
    }

    /// SetAlarmState: the state until the next evaluation says otherwise.
    pub async fn set_alarm_state(
        &self,
        name: String,
        state: AlarmState,
        reason: String,
        reason_data: Option<String>,
    ) -> ControlResult<()> {
        if reason.chars().count() > 1023 {
            return Err(MetricsError::invalid("StateReason", "must be at most 1023 characters long.").into());
        }
        if let Some(data) = &reason_data {
            if serde_json::from_str::<serde_json::Value>(data).is_err() {
                return Err(MetricsError::new(
                    MetricsErrorKind::InvalidFormat,
                    "The parameter StateReasonData must be JSON.",
                )
                .into());
            }
        }
        self.mutate(move |control| {
            let mut alarm = control.alarms.alarms.get(&name).cloned().ok_or_else(|| not_found(&name))?;
            let now = Timestamp::now().0;
            if !transition(&mut alarm, state, reason.clone(), reason_data.clone(), now) {
                // The same state: the reason still changes, as CloudWatch records it.
                alarm.state_reason = reason;
                alarm.state_reason_data = reason_data;
                alarm.state_updated_ms = now;
            }
            Ok((vec![Change::Alarm(AlarmChange::Put(Box::new(alarm)))], ()))
        })
        .await
    }

    /// DeleteAlarms: all of them or, when one does not exist, none.
    pub async fn delete_alarms(&self, names: Vec<String>) -> ControlResult<()> {
        if names.len() > 100 {
            return Err(MetricsError::invalid("AlarmNames", "must have at most 100 members.").into());
        }
        self.mutate(move |state| {
            let missing: Vec<&String> = names.iter().filter(|name| !state.alarms.alarms.contains_key(*name)).collect();
            if !missing.is_empty() {
                let list: Vec<&str> = missing.iter().map(|name| name.as_str()).collect();
                return Err(MetricsError::new(
                    MetricsErrorKind::ResourceNotFound,
                    format!("The following alarms do not exist: [{}].", list.join(", ")),
                )
                .into());
            }
            Ok((names.iter().map(|name| Change::Alarm(AlarmChange::Delete(name.clone()))).collect(), ()))
        })
        .await
    }

    /// EnableAlarmActions / DisableAlarmActions; names that are not alarms are passed over.
    pub async fn set_alarm_actions_enabled(&self, names: Vec<String>, enabled: bool) -> ControlResult<()> {
        if names.len() > 100 {
            return Err(MetricsError::invalid("AlarmNames", "must have at most 100 members.").into());
        }
        self.mutate(move |state| {
            let changes = names
                .iter()
                .filter_map(|name| state.alarms.alarms.get(name))
                .filter(|alarm| alarm.config.actions_enabled != enabled)
                .map(|alarm| {
                    let mut alarm = alarm.clone();
                    alarm.config.actions_enabled = enabled;
                    Change::Alarm(AlarmChange::Put(Box::new(alarm)))
                })
                .collect();
            Ok((changes, ()))
        })
        .await
    }

    /// An alarm's state and when it last moved, for ECS deployment alarms.
    pub fn alarm_state(&self, name: &str) -> Option<(AlarmState, i64)> {
        self.read().alarms.alarms.get(name).map(|alarm| (alarm.state, alarm.state_transitioned_ms))
    }

    /// One evaluation of every alarm at `now_ms`; returns how many changed state. Every alarm
    /// then in ALARM whose actions name scaling policies is handed to Application Auto Scaling,
    /// each evaluation while it stays there, as CloudWatch repeats such actions.
    pub async fn evaluate_alarms(&self, now_ms: i64) -> ControlResult<usize> {
        let alarms: Vec<AlarmRecord> = self.read().alarms.alarms.values().cloned().collect();
        if alarms.is_empty() {
            return Ok(0);
        }
        let store = self.metric_store();
        let (outcomes, signals) = tokio::task::spawn_blocking(move || {
            let mut outcomes = Vec::new();
            let mut signals = Vec::new();
            for alarm in alarms {
                let points = match points(&store, &alarm, now_ms) {
                    Ok(points) => points,
                    Err(error) => {
                        tracing::warn!(alarm = alarm.config.name, %error, "an alarm's metric could not be read");
                        continue;
                    }
                };
                let evaluation = evaluate::evaluate(&alarm, &points, now_ms);
                let state_after = evaluation.as_ref().map_or(alarm.state, |evaluation| evaluation.state);
                if let Some(signal) = scaling_signal(&alarm, state_after, &points) {
                    signals.push(signal);
                }
                if let Some(evaluation) = evaluation.filter(|evaluation| evaluation.state != alarm.state) {
                    outcomes.push((alarm.config.name, alarm.configuration_updated_ms, evaluation));
                }
            }
            (outcomes, signals)
        })
        .await
        .map_err(|_| MetricsError::new(MetricsErrorKind::Internal, "The alarm evaluation stopped."))?;
        let changed = if outcomes.is_empty() {
            0
        } else {
            self.mutate(move |state| {
                let mut changes = Vec::new();
                for (name, configured, evaluation) in outcomes {
                    let Some(alarm) = state.alarms.alarms.get(&name) else { continue };
                    if alarm.configuration_updated_ms != configured {
                        continue;
                    }
                    let mut alarm = alarm.clone();
                    if transition(&mut alarm, evaluation.state, evaluation.reason, Some(evaluation.reason_data), now_ms)
                    {
                        tracing::info!(alarm = alarm.config.name, state = alarm.state.as_str(), "alarm state changed");
                        changes.push(Change::Alarm(AlarmChange::Put(Box::new(alarm))));
                    }
                }
                let count = changes.len();
                Ok((changes, count))
            })
            .await?
        };
        if !signals.is_empty() {
            self.run_alarm_actions(signals, now_ms).await;
        }
        Ok(changed)
    }
}

/// What Application Auto Scaling is told of an alarm in ALARM whose enabled actions name
/// scaling policies: the policies, the datapoints of its range and its threshold.
fn scaling_signal(
    alarm: &AlarmRecord,
    state: AlarmState,
    points: &BTreeMap<i64, f64>,
) -> Option<crate::autoscaling::engine::AlarmSignal> {
    if state != AlarmState::Alarm || !alarm.config.actions_enabled {
        return None;
    }
    let policies: Vec<String> = alarm
        .config
        .alarm_actions
        .iter()
        .filter(|action| crate::autoscaling::engine::is_scaling_policy_arn(action))
        .cloned()
        .collect();
    if policies.is_empty() {
        return None;
    }
    Some(crate::autoscaling::engine::AlarmSignal {
        trigger: crate::autoscaling::decide::AlarmTrigger {
            alarm_name: alarm.config.name.clone(),
            values: points.values().copied().collect(),
            threshold: alarm.config.threshold,
        },
        policy_arns: policies,
    })
}

fn series_of(metric: &WatchedMetric) -> SeriesKey {
    let dimensions =
        metric.dimensions.iter().map(|(name, value)| Dimension { name: name.clone(), value: value.clone() }).collect();
    SeriesKey::new(metric.namespace.clone(), metric.metric_name.clone(), dimensions)
}

fn query_input(query: &AlarmQuery, period: u32) -> DataQueryInput {
    DataQueryInput {
        id: Some(query.id.clone()),
        metric_stat: query.metric.as_ref().map(|metric| MetricStatInput {
            namespace: Some(metric.namespace.clone()),
            metric_name: Some(metric.metric_name.clone()),
            dimensions: metric
                .dimensions
                .iter()
                .map(|(name, value)| DimensionInput { name: Some(name.clone()), value: Some(value.clone()) })
                .collect(),
            period: Some(query.period.unwrap_or(period) as i32),
            stat: Some(metric.statistic.clone()),
            unit: None,
        }),
        expression: query.expression.clone(),
        label: query.label.clone(),
        return_data: Some(query.return_data),
        period: query.period.map(|period| period as i32),
    }
}

/// The alarm's value for each period of its range that has data, by period start.
fn points(store: &MetricStore, alarm: &AlarmRecord, now_ms: i64) -> Result<BTreeMap<i64, f64>, MetricsError> {
    let (start, end) = (evaluate::window_start(alarm, now_ms), evaluate::window_end(alarm, now_ms));
    if let Some(metric) = &alarm.config.metric {
        let statistic = crate::cloudwatch::statistic::Statistic::parse(&metric.statistic, "Statistic")?;
        let periods = store.read(&series_of(metric), metric.unit.as_deref(), start, end, alarm.config.period)?;
        return Ok(periods.iter().map(|period| (period.start_ms, statistic.of(&period.stats))).collect());
    }
    let request = DataRequest {
        queries: Some(alarm.config.queries.iter().map(|query| query_input(query, alarm.config.period)).collect()),
        start_ms: Some(start),
        end_ms: Some(end),
        next_token: None,
        ascending: true,
        max_datapoints: None,
    };
    let answer = metric_data::metric_data(store, request, now_ms)?;
    Ok(answer
        .results
        .into_iter()
        .next()
        .map(|result| result.timestamps.into_iter().zip(result.values).collect())
        .unwrap_or_default())
}

/// Evaluates every alarm each `interval`, as CloudWatch does each minute (more often here, so
/// a state follows its datapoints within seconds).
pub async fn run_alarm_evaluation(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = control.evaluate_alarms(Timestamp::now().0).await {
            tracing::warn!(%error, "alarm evaluation failed; it runs again next time");
        }
    }
}
