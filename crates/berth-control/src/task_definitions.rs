//! Task definition actions: register revisions, describe, deregister, delete, and the two lists.

use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::records::TaskDefinitionRecord;
use berth_types::spec::TaskSpec;
use berth_types::{Tag, TaskDefinitionFamily, TaskDefinitionStatus, Timestamp};

/// Which revisions a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Only(TaskDefinitionStatus),
    All,
}

/// The revision a family's next registration gets: one past its highest, so revisions are
/// never reused, even after deletion.
pub(crate) fn next_revision<T>(revisions: Option<&std::collections::BTreeMap<u32, T>>) -> u32 {
    revisions.and_then(|revisions| revisions.keys().next_back().copied()).unwrap_or(0) + 1
}

impl ControlPlane {
    /// Registers the next revision of `family`. Revisions are never reused, even after deletion.
    pub async fn register_task_definition(
        &self,
        family: TaskDefinitionFamily,
        mut spec: TaskSpec,
        document: serde_json::Value,
        tags: Vec<Tag>,
    ) -> ControlResult<TaskDefinitionRecord> {
        self.mutate(|state| {
            let revision = next_revision(state.task_definitions.get(family.as_str()));
            spec.revision = revision;
            let record = TaskDefinitionRecord {
                family,
                revision,
                status: TaskDefinitionStatus::Active,
                spec,
                document,
                tags,
                registered_at: Timestamp::now(),
                deregistered_at: None,
            };
            Ok((vec![Change::PutTaskDefinition(record.clone())], record))
        })
        .await
    }

    /// `family` alone means its latest ACTIVE revision; `family:revision` any revision.
    pub fn describe_task_definition(&self, family: &str, revision: Option<u32>) -> ControlResult<TaskDefinitionRecord> {
        find_task_definition(&self.read(), family, revision).cloned()
    }

    /// Marks a revision INACTIVE: no new tasks may use it; running ones are untouched.
    pub async fn deregister_task_definition(&self, family: &str, revision: u32) -> ControlResult<TaskDefinitionRecord> {
        self.mutate(|state| {
            let mut record = find_task_definition(state, family, Some(revision))?.clone();
            if record.status == TaskDefinitionStatus::Active {
                record.status = TaskDefinitionStatus::Inactive;
                record.deregistered_at = Some(Timestamp::now());
                return Ok((vec![Change::PutTaskDefinition(record.clone())], record));
            }
            Ok((vec![], record))
        })
        .await
    }

    /// Moves INACTIVE revisions to DELETE_IN_PROGRESS. Each reference is judged on its own: the
    /// result holds the deleted records and, for the others, the reason.
    pub async fn delete_task_definitions(
        &self,
        references: &[(String, u32)],
    ) -> ControlResult<(Vec<TaskDefinitionRecord>, Vec<((String, u32), String)>)> {
        self.mutate(|state| {
            let mut changes = Vec::new();
            let mut deleted = Vec::new();
            let mut failures = Vec::new();
            for (family, revision) in references {
                match find_task_definition(state, family, Some(*revision)) {
                    Ok(record) if record.status == TaskDefinitionStatus::Active => failures.push((
                        (family.clone(), *revision),
                        "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
                            .to_string(),
                    )),
                    Ok(record) => {
                        let mut record = record.clone();
                        record.status = TaskDefinitionStatus::DeleteInProgress;
                        changes.push(Change::PutTaskDefinition(record.clone()));
                        deleted.push(record);
                    }
                    Err(_) => failures.push(((family.clone(), *revision), "The specified task definition does not exist.".to_string())),
                }
            }
            Ok((changes, (deleted, failures)))
        })
        .await
    }

    /// `(family, revision)` of every revision matching, in family then revision order.
    pub fn list_task_definitions(&self, family: Option<&str>, status: StatusFilter) -> Vec<(String, u32)> {
        let state = self.read();
        state
            .task_definitions
            .iter()
            .filter(|(name, _)| family.is_none_or(|wanted| wanted == name.as_str()))
            .flat_map(|(_, revisions)| revisions.values())
            .filter(|record| matches!(status, StatusFilter::All) || StatusFilter::Only(record.status) == status)
            .map(|record| (record.family.as_str().to_string(), record.revision))
            .collect()
    }

    /// Family names starting with `prefix`. ACTIVE: families with an ACTIVE revision; INACTIVE:
    /// families whose revisions are all inactive; All: every family.
    pub fn list_task_definition_families(&self, prefix: Option<&str>, status: StatusFilter) -> Vec<String> {
        let state = self.read();
        state
            .task_definitions
            .iter()
            .filter(|(name, _)| prefix.is_none_or(|prefix| name.starts_with(prefix)))
            .filter(|(_, revisions)| {
                let any_active = revisions.values().any(|record| record.status == TaskDefinitionStatus::Active);
                match status {
                    StatusFilter::All => true,
                    StatusFilter::Only(TaskDefinitionStatus::Active) => any_active,
                    StatusFilter::Only(_) => !any_active,
                }
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub async fn set_task_definition_tags(&self, family: &str, revision: u32, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = find_task_definition(state, family, Some(revision))?.clone();
            record.tags = tags;
            Ok((vec![Change::PutTaskDefinition(record)], ()))
        })
        .await
    }
}

pub(crate) fn find_task_definition<'a>(
    state: &'a State,
    family: &str,
    revision: Option<u32>,
) -> ControlResult<&'a TaskDefinitionRecord> {
    let found = match revision {
        Some(revision) => state.task_definitions.get(family).and_then(|revisions| revisions.get(&revision)),
        None => state.latest_active_revision(family),
    };
    found.ok_or_else(|| ControlError::Client("Unable to describe task definition.".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{control_plane, task_spec};

    #[tokio::test]
    async fn revisions_grow_and_statuses_move_forward() {
        let control = control_plane();
        let family = TaskDefinitionFamily::parse("web").unwrap();
        for expected in 1..=3 {
            let record = control
                .register_task_definition(family.clone(), task_spec(), serde_json::json!({}), vec![])
                .await
                .unwrap();
            assert_eq!(record.revision, expected);
            assert_eq!(record.spec.revision, expected);
        }
        control.deregister_task_definition("web", 3).await.unwrap();
        assert_eq!(control.describe_task_definition("web", None).unwrap().revision, 2);
        let (deleted, failures) =
            control.delete_task_definitions(&[("web".into(), 3), ("web".into(), 1)]).await.unwrap();
        assert_eq!(deleted[0].status, TaskDefinitionStatus::DeleteInProgress);
        assert!(failures[0].1.contains("ACTIVE"));
        let next = control.register_task_definition(family, task_spec(), serde_json::json!({}), vec![]).await.unwrap();
        assert_eq!(next.revision, 4, "a deleted revision number is never reused");
        assert_eq!(
            control.list_task_definitions(Some("web"), StatusFilter::Only(TaskDefinitionStatus::Active)),
            vec![("web".to_string(), 1), ("web".to_string(), 2), ("web".to_string(), 4)]
        );
        assert_eq!(control.list_task_definition_families(Some("w"), StatusFilter::All), vec!["web".to_string()]);
        assert!(control
            .list_task_definition_families(None, StatusFilter::Only(TaskDefinitionStatus::Inactive))
            .is_empty());
    }
}
