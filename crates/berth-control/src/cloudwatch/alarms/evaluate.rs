//! Deciding an alarm's state from its last `EvaluationPeriods` periods, as CloudWatch does:
//! "M out of N" periods breaching makes ALARM, fewer makes OK, and missing periods count as
//! `TreatMissingData` says — `breaching` and `notBreaching` fill them in, `ignore` keeps the
//! state when nothing is known, and `missing` (the default) goes to INSUFFICIENT_DATA when
//! every period of the range is missing.
//!
//! The range ends with the period now in progress, so a datapoint counts as soon as it is
//! stored; periods are aligned to the epoch, as CloudWatch aligns an alarm's.

use super::records::{AlarmRecord, AlarmState, TreatMissing};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub state: AlarmState,
    pub reason: String,
    /// JSON, CloudWatch's `StateReasonData`.
    pub reason_data: String,
}

/// The first period of the evaluation range at `now_ms`.
pub fn window_start(alarm: &AlarmRecord, now_ms: i64) -> i64 {
    let period_ms = i64::from(alarm.config.period) * 1000;
    now_ms.div_euclid(period_ms) * period_ms - i64::from(alarm.config.evaluation_periods - 1) * period_ms
}

/// The window's end (exclusive): the end of the period in progress.
pub fn window_end(alarm: &AlarmRecord, now_ms: i64) -> i64 {
    window_start(alarm, now_ms) + i64::from(alarm.config.evaluation_periods) * i64::from(alarm.config.period) * 1000
}

fn iso(ms: i64) -> String {
    berth_query_wire::Timestamp::from_unix_millis(ms).to_string()
}

fn number(value: f64) -> String {
    // CloudWatch writes thresholds and values with a decimal point: 80.0, 95.25.
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// The state `alarm` should be in, given the value of each period it has data for (by period
/// start). `None`: keep the state as it is (`ignore` with nothing to go on).
pub fn evaluate(alarm: &AlarmRecord, points: &BTreeMap<i64, f64>, now_ms: i64) -> Option<Evaluation> {
    let period_ms = i64::from(alarm.config.period) * 1000;
    let start = window_start(alarm, now_ms);
    let periods: Vec<(i64, Option<f64>)> = (0..i64::from(alarm.config.evaluation_periods))
        .map(|n| start + n * period_ms)
        .map(|at| (at, points.get(&at).copied()))
        .collect();
    let present: Vec<(i64, f64)> = periods.iter().filter_map(|(at, value)| value.map(|value| (*at, value))).collect();
    let missing = periods.len() - present.len();
    let breaching_present =
        present.iter().filter(|(_, value)| alarm.config.comparison.breaches(*value, alarm.config.threshold)).count();
    let breaching = match alarm.config.treat_missing {
        TreatMissing::Breaching => breaching_present + missing,
        _ => breaching_present,
    };
    if present.is_empty() {
        match alarm.config.treat_missing {
            TreatMissing::Ignore => return None,
            TreatMissing::Missing => {
                let reason = format!(
                    "Insufficient Data: {} datapoint{} {} unknown.",
                    periods.len(),
                    if periods.len() == 1 { "" } else { "s" },
                    if periods.len() == 1 { "was" } else { "were" }
                );
                return Some(Evaluation {
                    state: AlarmState::InsufficientData,
                    reason,
                    reason_data: reason_data(alarm, now_ms, start, &present),
                });
            }
            TreatMissing::Breaching | TreatMissing::NotBreaching => {}
        }
    }
    let needed = alarm.datapoints_needed() as usize;
    let state = if breaching >= needed { AlarmState::Alarm } else { AlarmState::Ok };
    let recent: Vec<String> =
        present.iter().rev().map(|(at, value)| format!("{} ({})", number(*value), iso(*at))).collect();
    let (count, verb) =
        if state == AlarmState::Alarm { (breaching, "was") } else { (present.len() - breaching_present, "was not") };
    let transition = if state == AlarmState::Alarm { "OK -> ALARM" } else { "ALARM -> OK" };
    let reason = format!(
        "Threshold Crossed: {count} out of the last {} datapoints [{}] {verb} {} the threshold ({}) (minimum {needed} datapoint{} for {transition} transition).",
        periods.len(),
        recent.join(", "),
        alarm.config.comparison.phrase(),
        number(alarm.config.threshold),
        if needed == 1 { "" } else { "s" },
    );
    Some(Evaluation { state, reason, reason_data: reason_data(alarm, now_ms, start, &present) })
}

fn reason_data(alarm: &AlarmRecord, now_ms: i64, start: i64, present: &[(i64, f64)]) -> String {
    let statistic = alarm.config.metric.as_ref().map(|metric| metric.statistic.clone());
    let evaluated: Vec<serde_json::Value> =
        present.iter().rev().map(|(at, value)| serde_json::json!({ "timestamp": iso(*at), "value": value })).collect();
    let mut data = serde_json::json!({
        "version": "1.0",
        "queryDate": iso(now_ms),
        "startDate": iso(start),
        "period": alarm.config.period,
        "recentDatapoints": present.iter().rev().map(|(_, value)| *value).collect::<Vec<_>>(),
        "threshold": alarm.config.threshold,
        "evaluatedDatapoints": evaluated,
    });
    if let Some(statistic) = statistic {
        data["statistic"] = serde_json::Value::String(statistic);
    }
    data.to_string()
}
