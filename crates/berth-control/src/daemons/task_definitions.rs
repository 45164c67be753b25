//! Daemon task definition actions: register the next revision of a family, describe, list,
//! and delete (DELETE_IN_PROGRESS while a daemon still uses the revision, else DELETED).
//!
//! Invariant: revisions of a family only grow, deleted numbers included, and are numbered
//! apart from ordinary task definitions of the same family.

use super::records::{DaemonRecord, DaemonStatus};
use super::DaemonChange;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::daemons::{DaemonTaskDefinitionRecord, DaemonTaskDefinitionStatus};
use berth_types::spec::TaskSpec;
use berth_types::{Tag, TaskDefinitionFamily, Timestamp};

/// Which daemon task definitions a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonDefinitionStatusFilter {
    Active,
    DeleteInProgress,
    All,
}

/// ListDaemonTaskDefinitions' filters.
#[derive(Debug, Clone, Default)]
pub struct DaemonDefinitionFilter {
    pub family: Option<String>,
    pub family_prefix: Option<String>,
    pub last_registered_only: bool,
    pub status: Option<DaemonDefinitionStatusFilter>,
    pub descending: bool,
}

/// The principal recorded as `registeredBy` (Berth verifies no signatures yet).
pub const REGISTERED_BY: &str = "arn:aws:iam::000000000000:root";

impl ControlPlane {
    pub async fn register_daemon_task_definition(
        &self,
        family: TaskDefinitionFamily,
        mut spec: TaskSpec,
        document: serde_json::Value,
        tags: Vec<Tag>,
    ) -> ControlResult<DaemonTaskDefinitionRecord> {
        self.mutate(|state| {
            let revision = crate::task_definitions::next_revision(state.daemons.task_definitions.get(family.as_str()));
            spec.revision = revision;
            spec.family = family.as_str().to_string();
            let record = DaemonTaskDefinitionRecord {
                family,
                revision,
                status: DaemonTaskDefinitionStatus::Active,
                spec,
                document,
                tags,
                registered_at: Timestamp::now(),
                registered_by: REGISTERED_BY.to_string(),
                delete_requested_at: None,
            };
            Ok((vec![Change::Daemon(DaemonChange::PutTaskDefinition(Box::new(record.clone())))], record))
        })
        .await
    }

    /// `family` alone means its latest ACTIVE revision.
    pub fn describe_daemon_task_definition(
        &self,
        family: &str,
        revision: Option<u32>,
    ) -> ControlResult<DaemonTaskDefinitionRecord> {
        find_daemon_task_definition(&self.read(), family, revision).cloned()
    }

    /// Deletes an ACTIVE revision. Daemons already running it keep running it.
    pub async fn delete_daemon_task_definition(
        &self,
        family: &str,
        revision: u32,
    ) -> ControlResult<DaemonTaskDefinitionRecord> {
        self.mutate(|state| {
            let mut record = find_daemon_task_definition(state, family, Some(revision))?.clone();
            if record.status != DaemonTaskDefinitionStatus::Active {
                return Err(ControlError::Client(format!(
                    "The daemon task definition {family}:{revision} is {} and cannot be deleted; only ACTIVE ones can.",
                    record.status.as_str()
                )));
            }
            let now = Timestamp::now();
            record.delete_requested_at = Some(now);
            record.status = if in_use(state, family, revision) {
                DaemonTaskDefinitionStatus::DeleteInProgress
            } else {
                DaemonTaskDefinitionStatus::Deleted
            };
            Ok((vec![Change::Daemon(DaemonChange::PutTaskDefinition(Box::new(record.clone())))], record))
        })
        .await
    }

    /// Matching definitions, by family then revision (ascending unless `descending`).
    pub fn list_daemon_task_definitions(&self, filter: &DaemonDefinitionFilter) -> Vec<DaemonTaskDefinitionRecord> {
        let state = self.read();
        let status = filter.status.unwrap_or(DaemonDefinitionStatusFilter::Active);
        let mut found: Vec<DaemonTaskDefinitionRecord> = Vec::new();
        for (family, revisions) in &state.daemons.task_definitions {
            if filter.family.as_ref().is_some_and(|wanted| wanted != family)
                || filter.family_prefix.as_ref().is_some_and(|prefix| !family.starts_with(prefix.as_str()))
            {
                continue;
            }
            let mut matching = revisions.values().filter(|record| match status {
                DaemonDefinitionStatusFilter::Active => record.status == DaemonTaskDefinitionStatus::Active,
                DaemonDefinitionStatusFilter::DeleteInProgress => {
                    record.status == DaemonTaskDefinitionStatus::DeleteInProgress
                }
                DaemonDefinitionStatusFilter::All => true,
            });
            if filter.last_registered_only {
                found.extend(matching.next_back().cloned());
            } else {
                found.extend(matching.cloned());
            }
        }
        if filter.descending {
            found.reverse();
        }
        found
    }
}

pub(crate) fn find_daemon_task_definition<'a>(
    state: &'a State,
    family: &str,
    revision: Option<u32>,
) -> ControlResult<&'a DaemonTaskDefinitionRecord> {
    let revisions = state.daemons.task_definitions.get(family);
    let found = match revision {
        Some(revision) => revisions.and_then(|revisions| revisions.get(&revision)),
        None => revisions.and_then(|revisions| {
            revisions.values().rev().find(|record| record.status == DaemonTaskDefinitionStatus::Active)
        }),
    };
    found.ok_or_else(|| ControlError::Client("Unable to describe daemon task definition.".to_string()))
}

/// Whether an ACTIVE daemon is configured with that revision, or a daemon task of it still
/// holds its instance.
fn in_use(state: &State, family: &str, revision: u32) -> bool {
    state.daemons.daemons.values().any(|daemon| {
        let configured = &daemon.configuration.task_definition;
        (daemon.status == DaemonStatus::Active
            && configured.family.as_str() == family
            && configured.revision == revision)
            || state
                .tasks_in_group(&daemon.cluster, &DaemonRecord::group(&daemon.name))
                .any(|task| task.holds_resources() && task.family.as_str() == family && task.revision == revision)
    })
}

/// DELETE_IN_PROGRESS definitions that nothing uses any more, now DELETED.
pub(crate) fn finished_deletions(state: &State) -> Vec<Change> {
    state
        .daemons
        .task_definitions
        .values()
        .flat_map(|revisions| revisions.values())
        .filter(|record| record.status == DaemonTaskDefinitionStatus::DeleteInProgress)
        .filter(|record| !in_use(state, record.family.as_str(), record.revision))
        .map(|record| {
            let mut deleted = record.clone();
            deleted.status = DaemonTaskDefinitionStatus::Deleted;
            Change::Daemon(DaemonChange::PutTaskDefinition(Box::new(deleted)))
        })
        .collect()
}
