//! Schedules and schedule groups as the control plane's store keeps them, and each schedule's
//! firing record (what it last did), kept in a row of its own so that a firing never rewrites
//! the schedule.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScheduleState {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AfterCompletion {
    None,
    /// A one-time schedule is deleted once it has fired.
    Delete,
}

/// The retry policy of a target (AWS's defaults: 185 attempts within 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub maximum_event_age_seconds: u32,
    pub maximum_retry_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { maximum_event_age_seconds: 86_400, maximum_retry_attempts: 185 }
    }
}

/// A schedule's validated configuration: what CreateSchedule and UpdateSchedule give whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    pub expression: String,
    /// An IANA name; `UTC` when none was given.
    pub timezone: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub description: Option<String>,
    pub state: ScheduleState,
    pub kms_key_arn: Option<String>,
    /// `None` is FlexibleTimeWindow `OFF`.
    pub flexible_window_minutes: Option<u32>,
    pub after_completion: AfterCompletion,
    /// The ECS cluster the target's tasks run in (the target's `Arn`).
    pub cluster_arn: String,
    pub retry: RetryPolicy,
    /// The wire `Target` exactly as given, echoed by GetSchedule and turned into a RunTask
    /// request by the edge at each firing (as task definitions keep their wire document).
    pub target_document: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Unique to this schedule's life: a schedule deleted and created again under the same
    /// name gets a new one, so its firings' client tokens differ.
    pub id: String,
    pub group: String,
    pub name: String,
    pub config: ScheduleConfig,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// The ClientToken CreateSchedule was given: a repeat of it succeeds.
    pub client_token: Option<String>,
}

impl ScheduleRecord {
    pub fn key(group: &str, name: &str) -> String {
        // Neither a group nor a schedule name may hold '/'.
        format!("{group}/{name}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleGroupRecord {
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub tags: Vec<(String, String)>,
    pub client_token: Option<String>,
}

/// What a schedule's last firing came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FiringOutcome {
    /// RunTask answered; these tasks were started (failures are placement's, in its words).
    Ran { task_arns: Vec<String>, failures: Vec<String> },
    /// The server was down past the firing's window: it was skipped.
    Missed,
    /// RunTask kept failing until the retry policy gave up.
    Failed { reason: String },
}

/// A schedule's firings so far; the next firing is the first fire time after `last_fire_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringRecord {
    /// The schedule key (`group/name`).
    pub key: String,
    /// The schedule's `id` when this was written: a record of an earlier schedule of the same
    /// name counts for nothing.
    pub schedule_id: String,
    /// The nominal fire time (before any flexible offset) last dealt with.
    pub last_fire_ms: i64,
    /// When RunTask was called for it (lateness = this − the due time).
    pub invoked_at_ms: Option<i64>,
    pub outcome: FiringOutcome,
    pub fired: u64,
    pub missed: u64,
    pub failed: u64,
}
