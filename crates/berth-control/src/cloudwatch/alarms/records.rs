//! Metric alarms as the control plane's store keeps them: the configuration PutMetricAlarm
//! gave, the state the evaluator (or SetAlarmState) last set, and the alarm's recent history.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(text: &str) -> Option<AlarmState> {
        [AlarmState::Ok, AlarmState::Alarm, AlarmState::InsufficientData]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Comparison {
    pub const ALL: [Comparison; 4] = [
        Comparison::GreaterThanOrEqualToThreshold,
        Comparison::GreaterThanThreshold,
        Comparison::LessThanThreshold,
        Comparison::LessThanOrEqualToThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// How CloudWatch words it in a state reason.
    pub fn phrase(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Comparison::GreaterThanThreshold => "greater than",
            Comparison::LessThanThreshold => "less than",
            Comparison::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissing {
    #[serde(rename = "missing")]
    Missing,
    #[serde(rename = "ignore")]
    Ignore,
    #[serde(rename = "breaching")]
    Breaching,
    #[serde(rename = "notBreaching")]
    NotBreaching,
}

impl TreatMissing {
    pub const ALL: [TreatMissing; 4] =
        [TreatMissing::Missing, TreatMissing::Ignore, TreatMissing::Breaching, TreatMissing::NotBreaching];

    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissing::Missing => "missing",
            TreatMissing::Ignore => "ignore",
            TreatMissing::Breaching => "breaching",
            TreatMissing::NotBreaching => "notBreaching",
        }
    }
}

/// The one metric a single-metric alarm watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchedMetric {
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// `SampleCount`, `Average`, `Sum`, `Minimum` or `Maximum`.
    pub statistic: String,
    pub unit: Option<String>,
}

/// One query of a metric math alarm (`Metrics`), as GetMetricData takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmQuery {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    pub expression: Option<String>,
    pub metric: Option<WatchedMetric>,
    pub period: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryKind {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl HistoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::ConfigurationUpdate => "ConfigurationUpdate",
            HistoryKind::StateUpdate => "StateUpdate",
            HistoryKind::Action => "Action",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub timestamp_ms: i64,
    pub kind: HistoryKind,
    pub summary: String,
    /// JSON, as CloudWatch writes `HistoryData`.
    pub data: String,
}

/// What PutMetricAlarm sets: the whole configuration, replaced whole by the next put.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmConfig {
    pub name: String,
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    /// Set for a single-metric alarm; `queries` for a metric math one.
    pub metric: Option<WatchedMetric>,
    pub queries: Vec<AlarmQuery>,
    pub period: u32,
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm` as given (`None`: equal to `evaluation_periods`).
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison: Comparison,
    pub treat_missing: TreatMissing,
    /// Given with `TreatMissingData`, so Describe shows it back as it was set.
    pub treat_missing_given: bool,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRecord {
    pub arn: String,
    pub config: AlarmConfig,
    pub configuration_updated_ms: i64,
    pub state: AlarmState,
    pub state_reason: String,
    pub state_reason_data: Option<String>,
    pub state_updated_ms: i64,
    pub state_transitioned_ms: i64,
    /// Newest last, at most [`HISTORY_LIMIT`].
    pub history: Vec<HistoryItem>,
}

/// Items of history kept per alarm (CloudWatch keeps two weeks of it).
pub const HISTORY_LIMIT: usize = 100;

impl AlarmRecord {
    /// M of "M out of N".
    pub fn datapoints_needed(&self) -> u32 {
        self.config.datapoints_to_alarm.unwrap_or(self.config.evaluation_periods)
    }

    pub fn remember(&mut self, item: HistoryItem) {
        self.history.push(item);
        if self.history.len() > HISTORY_LIMIT {
            let excess = self.history.len() - HISTORY_LIMIT;
            self.history.drain(..excess);
        }
    }
}
