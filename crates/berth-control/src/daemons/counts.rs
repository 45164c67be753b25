//! What describe counts for a daemon revision, per capacity provider: instances running its
//! task, eligible instances without a daemon task, and instances whose task is stopping.
//!
//! Invariant: counted at read time from the tasks and instances, never stored, so the figures
//! cannot drift from what runs. A task belongs to the revision its deployment rolled out
//! (`startedBy` names the planner deployment, whose record names the revision).

use super::records::{DaemonRecord, DaemonRevisionRecord};
use crate::state::State;
use crate::ControlPlane;
use berth_types::records::TaskRecord;
use berth_types::{ClusterName, ContainerInstanceStatus, DaemonName, DesiredStatus, TaskStatus};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderCounts {
    pub capacity_provider: String,
    pub running: u32,
    pub without_daemon: u32,
    pub draining: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionCounts {
    pub revision_id: String,
    pub providers: Vec<ProviderCounts>,
}

impl RevisionCounts {
    pub fn total_running(&self) -> u32 {
        self.providers.iter().map(|provider| provider.running).sum()
    }
    pub fn total_without_daemon(&self) -> u32 {
        self.providers.iter().map(|provider| provider.without_daemon).sum()
    }
    pub fn total_draining(&self) -> u32 {
        self.providers.iter().map(|provider| provider.draining).sum()
    }
}

impl ControlPlane {
    /// `currentRevisions`: the daemon's revision, then any older one that still has tasks.
    pub fn daemon_current_revisions(&self, daemon: &DaemonRecord) -> Vec<RevisionCounts> {
        let state = self.read();
        let by_revision = tasks_by_revision(&state, &daemon.cluster, &daemon.name);
        let mut ids = vec![daemon.revision_id.clone()];
        ids.extend(by_revision.keys().filter(|id| **id != daemon.revision_id).cloned());
        ids.into_iter()
            .filter_map(|id| {
                state.daemons.revisions.get(&super::records::history_key(&daemon.cluster, &daemon.name, &id))
            })
            .map(|revision| self.count_revision(&state, revision, daemon.revision_id == revision.id, &by_revision))
            .collect()
    }

    /// Counts for the given revisions of one daemon; `current` also gets the instances that
    /// lack a daemon task.
    pub fn daemon_revision_counts(
        &self,
        cluster: &ClusterName,
        daemon: &DaemonName,
        revision_ids: &[String],
        current: Option<&str>,
    ) -> Vec<RevisionCounts> {
        let state = self.read();
        let by_revision = tasks_by_revision(&state, cluster, daemon);
        revision_ids
            .iter()
            .filter_map(|id| state.daemons.revisions.get(&super::records::history_key(cluster, daemon, id)))
            .map(|revision| self.count_revision(&state, revision, current == Some(revision.id.as_str()), &by_revision))
            .collect()
    }

    fn count_revision(
        &self,
        state: &State,
        revision: &DaemonRevisionRecord,
        current: bool,
        by_revision: &BTreeMap<String, Vec<&TaskRecord>>,
    ) -> RevisionCounts {
        let provider_of = |task: &TaskRecord| {
            task.capacity_provider.clone().or_else(|| {
                state.instances.get(&task.container_instance).and_then(|instance| instance.capacity_provider.clone())
            })
        };
        let mut providers: Vec<ProviderCounts> = revision
            .capacity_providers
            .iter()
            .map(|name| ProviderCounts { capacity_provider: name.clone(), ..Default::default() })
            .collect();
        let index: HashMap<String, usize> =
            revision.capacity_providers.iter().enumerate().map(|(position, name)| (name.clone(), position)).collect();
        for task in by_revision.get(&revision.id).into_iter().flatten() {
            let Some(position) = provider_of(task).and_then(|provider| index.get(&provider).copied()) else { continue };
            if task.desired_status == DesiredStatus::Stopped {
                providers[position].draining += 1;
            } else if task.last_status == TaskStatus::Running {
                providers[position].running += 1;
            }
        }
        if current {
            let served: BTreeSet<_> = by_revision
                .values()
                .flatten()
                .filter(|task| task.desired_status == DesiredStatus::Running && task.last_status == TaskStatus::Running)
                .map(|task| task.container_instance.clone())
                .collect();
            let eligible = state.instances.values().filter(|instance| {
                instance.cluster == revision.cluster && instance.status == ContainerInstanceStatus::Active
            });
            for instance in eligible {
                let Some(position) = instance.capacity_provider.as_ref().and_then(|provider| index.get(provider))
                else {
                    continue;
                };
                if !served.contains(&instance.id) && connected(state, instance) {
                    providers[*position].without_daemon += 1;
                }
            }
        }
        RevisionCounts { revision_id: revision.id.clone(), providers }
    }
}

/// The agent connectivity placement last saw (kept in step by the liveness loop).
fn connected(state: &State, instance: &berth_types::records::ContainerInstanceRecord) -> bool {
    state
        .views_of(&instance.cluster)
        .and_then(|views| views.position(&instance.id).map(|position| views.views[position].agent_connected))
        .unwrap_or(false)
}

/// The daemon's tasks that still hold their instance, by revision.
fn tasks_by_revision<'a>(
    state: &'a State,
    cluster: &ClusterName,
    daemon: &DaemonName,
) -> BTreeMap<String, Vec<&'a TaskRecord>> {
    let prefix = format!("{}/", DaemonRecord::key(cluster, daemon));
    let revision_of: HashMap<String, String> = state
        .daemons
        .deployments
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .filter_map(|(_, deployment)| {
            deployment.target_revision.clone().map(|revision| (format!("ecs-svc/{}", deployment.id), revision))
        })
        .collect();
    let mut found: BTreeMap<String, Vec<&TaskRecord>> = BTreeMap::new();
    for task in state.tasks_in_group(cluster, &DaemonRecord::group(daemon)).filter(|task| task.holds_resources()) {
        if let Some(revision) = task.started_by.as_ref().and_then(|started_by| revision_of.get(started_by)) {
            found.entry(revision.clone()).or_default().push(task);
        }
    }
    found
}
