//! EventBridge's records: rules with their targets, and the events waiting in the outbox.

use berth_types::records::TaskRecord;
use berth_types::{Tag, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub name: String,
    pub arn: String,
    /// The pattern as the user wrote it (echoed by DescribeRule); it parsed when it was put.
    pub event_pattern: String,
    pub enabled: bool,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub created_at: Timestamp,
    pub targets: Vec<TargetRecord>,
    pub tags: Vec<Tag>,
}

/// One target of a rule. `body` is the target as PutTargets was given it (EventBridge's own
/// `Target` shape, checked by `berth-api` before it was stored): ListTargetsByRule echoes it
/// and the dispatcher reads its ECS parameters and input from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub id: String,
    pub arn: String,
    pub body: serde_json::Value,
}

/// An event accepted but not yet matched and delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    /// The event's id, as PutEvents answered it; ids sort in the order events were accepted.
    pub id: String,
    pub time: Timestamp,
    pub kind: PendingKind,
    /// Delivery attempts that left some invocation undone (an ECS target whose task could not
    /// be placed); each attempt's client tokens are its own.
    #[serde(default)]
    pub attempts: u32,
    /// The invocations done already (`rule/target/index`), never repeated.
    #[serde(default)]
    pub delivered: Vec<String>,
    /// Not tried again before this instant.
    #[serde(default)]
    pub retry_at: Option<Timestamp>,
}

impl PendingEvent {
    pub fn new(id: String, time: Timestamp, kind: PendingKind) -> PendingEvent {
        PendingEvent { id, time, kind, attempts: 0, delivered: Vec::new(), retry_at: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PendingKind {
    /// PutEvents' entry: `detail` is the JSON object text it carried.
    Custom { source: String, detail_type: String, detail: String, resources: Vec<String> },
    /// A task's status moved: the task as it is after the change (rendered as ECS's "ECS
    /// Task State Change" by the dispatcher, which has ECS's renderer).
    TaskStateChange(Box<TaskRecord>),
}
