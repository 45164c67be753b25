//! What the store keeps of log groups and streams. Events and per-stream figures are the log
//! store's.

use berth_types::{Tag, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroupRecord {
    pub name: String,
    pub created_at: Timestamp,
    /// Days; `None` keeps events forever.
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
    /// STANDARD, INFREQUENT_ACCESS or DELIVERY.
    pub class: String,
    pub deletion_protection: bool,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStreamRecord {
    pub group: String,
    pub name: String,
    /// The stream's number in the log store.
    pub id: u64,
    pub created_at: Timestamp,
}
