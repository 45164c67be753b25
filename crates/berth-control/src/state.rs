//! The in-memory image of the store, with the indexes the actions need. It is rebuilt from the
//! store at start-up and changed only through [`Change`]s that were committed first.
//!
//! Invariant: every record here is exactly what the store holds; indexes are derived and are
//! kept in step by [`State::apply`] alone.

use crate::error::ControlResult;
use crate::services::ServiceRecord;
use berth_store::{Store, Table, WriteBatch};
use berth_types::records::{
    CapacityProviderRecord, ClusterRecord, ContainerInstanceRecord, TaskDefinitionRecord, TaskRecord,
};
use berth_types::{ClusterName, ContainerInstanceId, Resources, TaskId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a RunTask client token is bound to (idempotency, scoped to the cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub cluster: ClusterName,
    pub token: String,
    pub request_fingerprint: String,
    pub task_ids: Vec<TaskId>,
    pub failures: Vec<(String, String)>,
    pub created_at: Timestamp,
}

impl IdempotencyRecord {
    pub fn key(cluster: &ClusterName, token: &str) -> String {
        format!("{cluster}\u{0}{token}")
    }
}

/// One durable change; a batch of them is committed, then applied.
// Changes live for one write and are moved, not copied, so boxing the large records would
// only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change {
    PutCluster(ClusterRecord),
    PutTaskDefinition(TaskDefinitionRecord),
    DeleteTaskDefinition(String, u32),
    PutTask(TaskRecord),
    DeleteTask(TaskId),
    PutContainerInstance(ContainerInstanceRecord),
    PutIdempotency(IdempotencyRecord),
    DeleteIdempotency(String),
    PutCapacityProvider(CapacityProviderRecord),
    PutService(Box<ServiceRecord>),
}

#[derive(Default)]
pub struct State {
    pub clusters: BTreeMap<ClusterName, ClusterRecord>,
    /// family → revision → record.
    pub task_definitions: BTreeMap<String, BTreeMap<u32, TaskDefinitionRecord>>,
    pub tasks: BTreeMap<TaskId, TaskRecord>,
    pub instances: BTreeMap<ContainerInstanceId, ContainerInstanceRecord>,
    pub idempotency: HashMap<String, IdempotencyRecord>,
    pub capacity_providers: BTreeMap<String, CapacityProviderRecord>,
    /// Keyed by [`ServiceRecord::key`] (`cluster/name`).
    pub services: BTreeMap<String, ServiceRecord>,
    pub tasks_by_instance: HashMap<ContainerInstanceId, BTreeSet<TaskId>>,
    /// By [`group_key`]: a service's tasks are the group `service:NAME` of its cluster. A
    /// task's group never changes.
    pub tasks_by_group: HashMap<String, BTreeSet<TaskId>>,
    /// Resources held on each instance by its tasks that are not STOPPED.
    pub used_by_instance: HashMap<ContainerInstanceId, Resources>,
    /// Each cluster's live instances as placement sees them (see `placement_views`).
    pub cluster_views: HashMap<ClusterName, crate::placement_views::ClusterViews>,
}

/// The key of a task group within a cluster.
pub fn group_key(cluster: &ClusterName, group: &str) -> String {
    format!("{cluster}\u{0}{group}")
}

fn task_definition_key(family: &str, revision: u32) -> String {
    format!("{family}:{revision:010}")
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

fn decode<T: for<'de> Deserialize<'de>>(table: Table, key: &str, bytes: &[u8]) -> ControlResult<T> {
    serde_json::from_slice(bytes).map_err(|error| {
        berth_store::StoreError::Read(format!("{}/{key} holds an unreadable record: {error}", table.name())).into()
    })
}

impl State {
    /// Loads every table and rebuilds the indexes.
    pub fn load(store: &dyn Store) -> ControlResult<State> {
        let mut changes = Vec::new();
        for (key, bytes) in store.load(Table::Clusters)? {
            changes.push(Change::PutCluster(decode(Table::Clusters, &key, &bytes)?));
        }
        for (key, bytes) in store.load(Table::TaskDefinitions)? {
            changes.push(Change::PutTaskDefinition(decode(Table::TaskDefinitions, &key, &bytes)?));
        }
        for (key, bytes) in store.load(Table::ContainerInstances)? {
            changes.push(Change::PutContainerInstance(decode(Table::ContainerInstances, &key, &bytes)?));
        }
        for (key, bytes) in store.load(Table::Tasks)? {
            changes.push(Change::PutTask(decode(Table::Tasks, &key, &bytes)?));
        }
        for (key, bytes) in store.load(Table::CapacityProviders)? {
            changes.push(Change::PutCapacityProvider(decode(Table::CapacityProviders, &key, &bytes)?));
        }
        for (key, bytes) in store.load(Table::Services)? {
            changes.push(Change::PutService(Box::new(decode(Table::Services, &key, &bytes)?)));
        }
        for (key, bytes) in store.load(Table::IdempotencyTokens)? {
            changes.push(Change::PutIdempotency(decode(Table::IdempotencyTokens, &key, &bytes)?));
        }
        let mut state = State::default();
        state.apply(changes);
        Ok(state)
    }

    /// The store batch that makes `changes` durable.
    pub fn batch_for(changes: &[Change]) -> WriteBatch {
        let mut batch = WriteBatch::default();
        for change in changes {
            match change {
                Change::PutCluster(record) => batch.put(Table::Clusters, record.name.as_str(), encode(record)),
                Change::PutTaskDefinition(record) => batch.put(
                    Table::TaskDefinitions,
                    task_definition_key(record.family.as_str(), record.revision),
                    encode(record),
                ),
                Change::DeleteTaskDefinition(family, revision) => {
                    batch.delete(Table::TaskDefinitions, task_definition_key(family, *revision))
                }
                Change::PutTask(record) => batch.put(Table::Tasks, record.id.as_str(), encode(record)),
                Change::DeleteTask(id) => batch.delete(Table::Tasks, id.as_str()),
                Change::PutContainerInstance(record) => {
                    batch.put(Table::ContainerInstances, record.id.as_str(), encode(record))
                }
                Change::PutIdempotency(record) => batch.put(
                    Table::IdempotencyTokens,
                    IdempotencyRecord::key(&record.cluster, &record.token),
                    encode(record),
                ),
                Change::DeleteIdempotency(key) => batch.delete(Table::IdempotencyTokens, key.clone()),
                Change::PutCapacityProvider(record) => {
                    batch.put(Table::CapacityProviders, record.name.as_str(), encode(record))
                }
                Change::PutService(record) => batch.put(
                    Table::Services,
                    ServiceRecord::key(&record.cluster, &record.name),
                    encode(record.as_ref()),
                ),
            }
        }
        batch
    }

    /// Applies committed changes and keeps the indexes in step.
    pub fn apply(&mut self, changes: Vec<Change>) {
        let mut touched_instances = BTreeSet::new();
        for change in changes {
            match change {
                Change::PutCluster(record) => {
                    self.clusters.insert(record.name.clone(), record);
                }
                Change::PutTaskDefinition(record) => {
                    self.task_definitions
                        .entry(record.family.as_str().to_string())
                        .or_default()
                        .insert(record.revision, record);
                }
                Change::DeleteTaskDefinition(family, revision) => {
                    if let Some(revisions) = self.task_definitions.get_mut(&family) {
                        revisions.remove(&revision);
                    }
                }
                Change::PutTask(record) => {
                    if let Some(previous) = self.tasks.get(&record.id) {
                        if previous.container_instance != record.container_instance {
                            if let Some(ids) = self.tasks_by_instance.get_mut(&previous.container_instance) {
                                ids.remove(&record.id);
                            }
                            touched_instances.insert(previous.container_instance.clone());
                        }
                    }
                    touched_instances.insert(record.container_instance.clone());
                    self.tasks_by_instance
                        .entry(record.container_instance.clone())
                        .or_default()
                        .insert(record.id.clone());
                    self.tasks_by_group
                        .entry(group_key(&record.cluster, &record.group))
                        .or_default()
                        .insert(record.id.clone());
                    self.tasks.insert(record.id.clone(), record);
                }
                Change::DeleteTask(id) => {
                    if let Some(previous) = self.tasks.remove(&id) {
                        if let Some(ids) = self.tasks_by_instance.get_mut(&previous.container_instance) {
                            ids.remove(&id);
                        }
                        if let Some(ids) = self.tasks_by_group.get_mut(&group_key(&previous.cluster, &previous.group)) {
                            ids.remove(&id);
                        }
                        touched_instances.insert(previous.container_instance);
                    }
                }
                Change::PutContainerInstance(record) => {
                    touched_instances.insert(record.id.clone());
                    self.instances.insert(record.id.clone(), record);
                }
                Change::PutIdempotency(record) => {
                    self.idempotency.insert(IdempotencyRecord::key(&record.cluster, &record.token), record);
                }
                Change::DeleteIdempotency(key) => {
                    self.idempotency.remove(&key);
                }
                Change::PutCapacityProvider(record) => {
                    self.capacity_providers.insert(record.name.clone(), record);
                }
                Change::PutService(record) => {
                    self.services.insert(ServiceRecord::key(&record.cluster, &record.name), *record);
                }
            }
        }
        for instance in touched_instances {
            let mut used = Resources::default();
            for task_id in self.tasks_by_instance.get(&instance).into_iter().flatten() {
                if let Some(task) = self.tasks.get(task_id).filter(|task| task.holds_resources()) {
                    used.add(&task.demand);
                }
            }
            self.used_by_instance.insert(instance.clone(), used);
            crate::placement_views::refresh(self, &instance);
        }
    }

    pub fn cluster(&self, name: &ClusterName) -> Option<&ClusterRecord> {
        self.clusters.get(name)
    }

    pub fn latest_active_revision(&self, family: &str) -> Option<&TaskDefinitionRecord> {
        self.task_definitions
            .get(family)?
            .values()
            .rev()
            .find(|record| record.status == berth_types::TaskDefinitionStatus::Active)
    }

    pub fn tasks_in_group(&self, cluster: &ClusterName, group: &str) -> impl Iterator<Item = &TaskRecord> {
        self.tasks_by_group.get(&group_key(cluster, group)).into_iter().flatten().filter_map(|id| self.tasks.get(id))
    }

    pub fn tasks_on_instance(&self, instance: &ContainerInstanceId) -> impl Iterator<Item = &TaskRecord> {
        self.tasks_by_instance.get(instance).into_iter().flatten().filter_map(|id| self.tasks.get(id))
    }

    pub fn remaining_on_instance(&self, instance: &ContainerInstanceRecord) -> Resources {
        match self.used_by_instance.get(&instance.id) {
            Some(used) => instance.registered.remaining_after(used),
            None => instance.registered.clone(),
        }
    }
}
