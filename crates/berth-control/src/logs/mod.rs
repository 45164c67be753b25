//! CloudWatch Logs: log groups and streams as records of the control plane's store
//! (`records`), their names and limits (`names`), the actions on them (`groups`, `streams`),
//! events written and read through the log store (`events`: PutLogEvents, GetLogEvents,
//! FilterLogEvents; `tokens`), the agents' awslogs channel (`ingest`), and retention
//! (`retention`: expired events leave the log store).
//!
//! Invariant: groups and streams change only through [`LogsChange`]s inside
//! `ControlPlane::mutate`; events live only in the log store (`berth-log-store`), keyed by the
//! stream's number, so an event is never written for a stream without a durable record, and a
//! stream whose record is gone loses its events (at once, or at the next start-up's sweep).

pub mod error;
pub mod events;
pub mod groups;
pub mod ingest;
pub mod live_tail;
pub mod names;
pub mod records;
pub mod retention;
pub mod streams;
mod tokens;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{LogGroupRecord, LogStreamRecord};
use std::collections::BTreeMap;

pub use error::{LogsError, LogsErrorKind};

/// One durable change to log groups and streams (the `Change::Logs` of a batch).
#[derive(Debug, Clone)]
pub enum LogsChange {
    PutGroup(Box<LogGroupRecord>),
    DeleteGroup(String),
    PutStream(Box<LogStreamRecord>),
    DeleteStream { group: String, stream: String },
}

/// Groups by name; streams by (group, stream name), so a group's streams are one range in
/// name order.
#[derive(Debug, Default)]
pub struct LogsState {
    pub groups: BTreeMap<String, LogGroupRecord>,
    pub streams: BTreeMap<(String, String), LogStreamRecord>,
    /// The number the next new stream gets in the log store.
    pub next_stream_id: u64,
}

fn stream_key(group: &str, stream: &str) -> String {
    // Neither a group name nor a stream name may hold ':'.
    format!("{group}:{stream}")
}

impl LogsState {
    pub fn load(store: &dyn Store) -> Result<LogsState, StoreError> {
        let mut state = LogsState { next_stream_id: 1, ..LogsState::default() };
        scan(store, Table::LogGroups, |record| state.apply(LogsChange::PutGroup(Box::new(record))))?;
        scan(store, Table::LogStreams, |record| state.apply(LogsChange::PutStream(Box::new(record))))?;
        Ok(state)
    }

    /// Adds the store operations of `change` to `batch`.
    pub fn write(change: &LogsChange, batch: &mut WriteBatch) {
        match change {
            LogsChange::PutGroup(record) => batch.put(Table::LogGroups, record.name.clone(), encode(record.as_ref())),
            LogsChange::DeleteGroup(name) => batch.delete(Table::LogGroups, name.clone()),
            LogsChange::PutStream(record) => {
                batch.put(Table::LogStreams, stream_key(&record.group, &record.name), encode(record.as_ref()))
            }
            LogsChange::DeleteStream { group, stream } => batch.delete(Table::LogStreams, stream_key(group, stream)),
        }
    }

    pub fn apply(&mut self, change: LogsChange) {
        match change {
            LogsChange::PutGroup(record) => {
                self.groups.insert(record.name.clone(), *record);
            }
            LogsChange::DeleteGroup(name) => {
                self.groups.remove(&name);
            }
            LogsChange::PutStream(record) => {
                self.next_stream_id = self.next_stream_id.max(record.id + 1);
                self.streams.insert((record.group.clone(), record.name.clone()), *record);
            }
            LogsChange::DeleteStream { group, stream } => {
                self.streams.remove(&(group, stream));
            }
        }
    }

    /// The streams of `group`, in name order.
    pub fn streams_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a LogStreamRecord> + 'a {
        self.streams
            .range((group.to_string(), String::new())..)
            .take_while(move |(key, _)| key.0 == group)
            .map(|(_, record)| record)
    }
}
