//! ECS daemons: daemon task definitions (their own resource and numbering), daemons, and the
//! daemons' revisions and deployments — the records (`records`), their actions
//! (`task_definitions`, `actions`), what describe counts (`counts`) and the reconciler pass
//! (`reconciler`) that keeps exactly one task per eligible instance.
//!
//! How a daemon runs: every pass hands the daemon to the same pure planner as a DAEMON
//! service (`berth_planner::plan`), with the cluster's instances as the candidates and only
//! those that joined one of the daemon's capacity providers satisfying its constraints. The
//! planner's launches name their instance; its stops and rolling bounds are the service
//! scheduler's. A deleted daemon is planned as a service scaled to zero.
//!
//! Invariant: all daemon state lives in [`DaemonState`] and changes only through
//! [`DaemonChange`]s inside `ControlPlane::mutate`, so it is durable before anyone is told.

pub mod actions;
pub mod counts;
pub mod reconciler;
pub mod records;
pub mod task_definitions;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan, task_definition_key};
use berth_store::{Store, StoreError, Table, WriteBatch};
use berth_types::daemons::DaemonTaskDefinitionRecord;
use records::{DaemonDeploymentRecord, DaemonRecord, DaemonRevisionRecord};
use std::collections::BTreeMap;

/// One durable change to daemon state (the `Change::Daemon` of a batch).
#[derive(Debug, Clone)]
pub enum DaemonChange {
    PutTaskDefinition(Box<DaemonTaskDefinitionRecord>),
    PutDaemon(Box<DaemonRecord>),
    /// By [`DaemonRecord::key`]: the daemon's deletion finished.
    DeleteDaemon(String),
    PutRevision(Box<DaemonRevisionRecord>),
    PutDeployment(Box<DaemonDeploymentRecord>),
}

/// Every daemon record, as the store holds them.
#[derive(Debug, Default)]
pub struct DaemonState {
    /// family → revision → record.
    pub task_definitions: BTreeMap<String, BTreeMap<u32, DaemonTaskDefinitionRecord>>,
    /// By [`DaemonRecord::key`].
    pub daemons: BTreeMap<String, DaemonRecord>,
    /// By `cluster/daemon/id` (see `records::history_key`).
    pub revisions: BTreeMap<String, DaemonRevisionRecord>,
    pub deployments: BTreeMap<String, DaemonDeploymentRecord>,
}

impl DaemonState {
    pub fn load(store: &dyn Store) -> Result<DaemonState, StoreError> {
        let mut state = DaemonState::default();
        scan(store, Table::DaemonTaskDefinitions, |record| {
            state.apply(DaemonChange::PutTaskDefinition(Box::new(record)))
        })?;
        scan(store, Table::Daemons, |record| state.apply(DaemonChange::PutDaemon(Box::new(record))))?;
        scan(store, Table::DaemonRevisions, |record| state.apply(DaemonChange::PutRevision(Box::new(record))))?;
        scan(store, Table::DaemonDeployments, |record| state.apply(DaemonChange::PutDeployment(Box::new(record))))?;
        Ok(state)
    }

    /// Adds the store operations of `change` to `batch`.
    pub fn write(change: &DaemonChange, batch: &mut WriteBatch) {
        match change {
            DaemonChange::PutTaskDefinition(record) => batch.put(
                Table::DaemonTaskDefinitions,
                task_definition_key(record.family.as_str(), record.revision),
                encode(record.as_ref()),
            ),
            DaemonChange::PutDaemon(record) => {
                batch.put(Table::Daemons, DaemonRecord::key(&record.cluster, &record.name), encode(record.as_ref()))
            }
            DaemonChange::DeleteDaemon(key) => batch.delete(Table::Daemons, key.clone()),
            DaemonChange::PutRevision(record) => {
                batch.put(Table::DaemonRevisions, record.key(), encode(record.as_ref()))
            }
            DaemonChange::PutDeployment(record) => {
                batch.put(Table::DaemonDeployments, record.key(), encode(record.as_ref()))
            }
        }
    }

    pub fn apply(&mut self, change: DaemonChange) {
        match change {
            DaemonChange::PutTaskDefinition(record) => {
                self.task_definitions
                    .entry(record.family.as_str().to_string())
                    .or_default()
                    .insert(record.revision, *record);
            }
            DaemonChange::PutDaemon(record) => {
                self.daemons.insert(DaemonRecord::key(&record.cluster, &record.name), *record);
            }
            DaemonChange::DeleteDaemon(key) => {
                self.daemons.remove(&key);
            }
            DaemonChange::PutRevision(record) => {
                self.revisions.insert(record.key(), *record);
            }
            DaemonChange::PutDeployment(record) => {
                self.deployments.insert(record.key(), *record);
            }
        }
    }

    /// The daemon's deployments (this incarnation's: a name may be reused after a deletion).
    pub fn deployments_of<'a>(&'a self, daemon: &'a DaemonRecord) -> impl Iterator<Item = &'a DaemonDeploymentRecord> {
        let prefix = format!("{}/", DaemonRecord::key(&daemon.cluster, &daemon.name));
        self.deployments
            .range(prefix.clone()..)
            .take_while(move |(key, _)| key.starts_with(&prefix))
            .map(|(_, record)| record)
            .filter(|record| record.created_at >= daemon.created_at)
    }
}
