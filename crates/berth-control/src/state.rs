//! The in-memory image of the store, with the indexes the actions need. It is rebuilt from the
//! store at start-up and changed only through [`Change`]s that were committed first.
//!
//! Invariant: every record here is exactly what the store holds; indexes are derived and are
//! kept in step by [`State::apply`] alone.

use crate::error::ControlResult;
use crate::placement_views::{self, Footprint};
use crate::service_history::records::{ServiceDeploymentRecord, ServiceRevisionRecord};
use crate::services::ServiceRecord;
use berth_store::{Store, Table, WriteBatch};
use berth_types::account_settings::AccountSettingRecord;
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
    /// Moves an instance's desired generation on without rewriting its record: every launch
    /// does this, and the registration record (attributes and all) is many times the size.
    AdvanceDesiredGeneration(InstanceGeneration),
    PutIdempotency(IdempotencyRecord),
    DeleteIdempotency(String),
    PutCapacityProvider(CapacityProviderRecord),
    PutService(Box<ServiceRecord>),
    PutAccountSetting(AccountSettingRecord),
    /// By [`AccountSettingRecord::key`].
    DeleteAccountSetting(String),
    PutExecSession(Box<crate::exec_sessions::ExecSessionRecord>),
    PutServiceDeployment(Box<ServiceDeploymentRecord>),
    DeleteServiceDeployment(String),
    PutServiceRevision(Box<ServiceRevisionRecord>),
    DeleteServiceRevision(String),
    /// Daemon task definitions, daemons and their history (`daemons`).
    Daemon(crate::daemons::DaemonChange),
    /// Load balancers, target groups, listeners and rules (`elb`).
    Elb(crate::elb::ElbChange),
    /// Imported certificates (`acm`).
    Acm(crate::acm::AcmChange),
    /// ECS gateways, their cluster associations and routes (`gateways`).
    Gateway(crate::gateways::GatewayChange),
    /// Log groups and streams (`logs`; their events live in the log store).
    Logs(crate::logs::LogsChange),
    /// CloudWatch metric alarms (`cloudwatch::alarms`).
    Alarm(crate::cloudwatch::alarms::AlarmChange),
    /// EventBridge rules and the event outbox (`events`).
    Events(crate::events::EventsChange),
    /// Application Auto Scaling's targets, policies, scheduled actions and activities.
    AutoScaling(crate::autoscaling::AutoScalingChange),
    /// EventBridge Scheduler's schedules, groups and firing records (`schedules`).
    Schedule(crate::schedules::ScheduleChange),
}

/// An instance's desired generation, kept in its own small row (`instance_generations`). The
/// instance record also carries one; the larger of the two is the instance's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceGeneration {
    pub instance: ContainerInstanceId,
    pub generation: u64,
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
    /// ECS Exec sessions by session ID (which sorts by creation time).
    pub exec_sessions: BTreeMap<String, crate::exec_sessions::ExecSessionRecord>,
    /// Service history, keyed `cluster/service/id` (see `service_history::records`).
    pub service_deployments: BTreeMap<String, ServiceDeploymentRecord>,
    pub service_revisions: BTreeMap<String, ServiceRevisionRecord>,
    pub tasks_by_instance: HashMap<ContainerInstanceId, BTreeSet<TaskId>>,
    /// Each instance's tasks by their desired-generation stamp, so a changes-only document
    /// reads just the tasks stamped after the agent's generation.
    pub tasks_by_stamp: HashMap<ContainerInstanceId, BTreeMap<u64, BTreeSet<TaskId>>>,
    /// By [`group_key`]: a service's tasks are the group `service:NAME` of its cluster. A
    /// task's group never changes.
    pub tasks_by_group: HashMap<String, BTreeSet<TaskId>>,
    /// Tasks held DEACTIVATING while load balancers drain them (`deactivating_until` set), so
    /// the drain pass finds them without walking every task.
    pub deactivating_tasks: BTreeSet<TaskId>,
    /// Resources held on each instance by its tasks that are not STOPPED.
    pub used_by_instance: HashMap<ContainerInstanceId, Resources>,
    /// Each cluster's live instances as placement sees them (see `placement_views`).
    pub cluster_views: HashMap<ClusterName, crate::placement_views::ClusterViews>,
    /// Settings principals set explicitly, by [`AccountSettingRecord::key`].
    pub account_settings: BTreeMap<String, AccountSettingRecord>,
    /// Daemon task definitions, daemons, their revisions and deployments.
    pub daemons: crate::daemons::DaemonState,
    /// ELBv2's resources.
    pub elb: crate::elb::ElbState,
    /// ACM's imported certificates.
    pub acm: crate::acm::AcmState,
    /// ECS gateways, their cluster associations and routes.
    pub gateways: crate::gateways::GatewayState,
    pub logs: crate::logs::LogsState,
    pub alarms: crate::cloudwatch::alarms::AlarmsState,
    pub events: crate::events::EventsState,
    pub autoscaling: crate::autoscaling::AutoScalingState,
    pub schedules: crate::schedules::SchedulesState,
}

/// The key of a task group within a cluster.
pub fn group_key(cluster: &ClusterName, group: &str) -> String {
    format!("{cluster}\u{0}{group}")
}

/// The store key of a task definition revision (daemon task definitions use it too): zero
/// padding keeps a family's revisions in order.
pub(crate) fn task_definition_key(family: &str, revision: u32) -> String {
    format!("{family}:{revision:010}")
}

/// A record as the store keeps it.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

/// Every record of `table`, decoded, in key order (for the small tables of other services,
/// which load whole).
pub(crate) fn scan<T: for<'de> Deserialize<'de>>(
    store: &dyn berth_store::Store,
    table: Table,
    mut visit: impl FnMut(T),
) -> Result<(), berth_store::StoreError> {
    store.scan(table, &mut |key, bytes| {
        visit(decode(table, key, bytes)?);
        Ok(())
    })
}

fn decode<T: for<'de> Deserialize<'de>>(table: Table, key: &str, bytes: &[u8]) -> Result<T, berth_store::StoreError> {
    serde_json::from_slice(bytes).map_err(|error| {
        berth_store::StoreError::Read(format!("{}/{key} holds an unreadable record: {error}", table.name()))
    })
}

impl State {
    /// Loads every table and rebuilds the indexes. Rows are decoded as the store lends them
    /// and applied a chunk at a time, so start-up never holds a table's raw bytes, its decoded
    /// records and the state all at once (at 100,000 tasks that peak outlived the load as
    /// resident memory).
    pub fn load(store: &dyn Store) -> ControlResult<State> {
        let mut state = State::default();
        // Instances before tasks, so each task shifts an instance that is already there.
        state.load_table(store, Table::Clusters, Change::PutCluster)?;
        state.load_table(store, Table::TaskDefinitions, Change::PutTaskDefinition)?;
        state.load_table(store, Table::ContainerInstances, Change::PutContainerInstance)?;
        state.load_table(store, Table::InstanceGenerations, Change::AdvanceDesiredGeneration)?;
        state.load_table(store, Table::Tasks, Change::PutTask)?;
        state.load_table(store, Table::CapacityProviders, Change::PutCapacityProvider)?;
        state.load_table(store, Table::Services, |record| Change::PutService(Box::new(record)))?;
        state.load_table(store, Table::IdempotencyTokens, Change::PutIdempotency)?;
        state.load_table(store, Table::AccountSettings, Change::PutAccountSetting)?;
        state.load_table(store, Table::ExecSessions, |record| Change::PutExecSession(Box::new(record)))?;
        state.load_table(store, Table::ServiceRevisions, |record| Change::PutServiceRevision(Box::new(record)))?;
        state.load_table(store, Table::ServiceDeployments, |record| Change::PutServiceDeployment(Box::new(record)))?;
        state.daemons = crate::daemons::DaemonState::load(store)?;
        state.elb = crate::elb::ElbState::load(store)?;
        state.acm = crate::acm::AcmState::load(store)?;
        state.gateways = crate::gateways::GatewayState::load(store)?;
        state.logs = crate::logs::LogsState::load(store)?;
        state.alarms = crate::cloudwatch::alarms::AlarmsState::load(store)?;
        state.events = crate::events::EventsState::load(store)?;
        state.autoscaling = crate::autoscaling::AutoScalingState::load(store)?;
        state.schedules = crate::schedules::SchedulesState::load(store)?;
        Ok(state)
    }

    fn load_table<T: for<'de> Deserialize<'de>>(
        &mut self,
        store: &dyn Store,
        table: Table,
        change: impl Fn(T) -> Change,
    ) -> ControlResult<()> {
        const CHUNK: usize = 4096;
        let mut pending = Vec::with_capacity(CHUNK);
        store.scan(table, &mut |key, bytes| {
            pending.push(change(decode(table, key, bytes)?));
            if pending.len() == CHUNK {
                self.apply(std::mem::take(&mut pending));
            }
            Ok(())
        })?;
        self.apply(pending);
        Ok(())
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
                Change::AdvanceDesiredGeneration(row) => {
                    batch.put(Table::InstanceGenerations, row.instance.as_str(), encode(row))
                }
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
                Change::PutAccountSetting(record) => batch.put(
                    Table::AccountSettings,
                    AccountSettingRecord::key(&record.principal, record.name),
                    encode(record),
                ),
                Change::DeleteAccountSetting(key) => batch.delete(Table::AccountSettings, key.clone()),
                Change::PutExecSession(record) => {
                    batch.put(Table::ExecSessions, record.id.as_str(), encode(record.as_ref()))
                }
                Change::PutServiceDeployment(record) => {
                    batch.put(Table::ServiceDeployments, record.key(), encode(record.as_ref()))
                }
                Change::DeleteServiceDeployment(key) => batch.delete(Table::ServiceDeployments, key.clone()),
                Change::PutServiceRevision(record) => {
                    batch.put(Table::ServiceRevisions, record.key(), encode(record.as_ref()))
                }
                Change::DeleteServiceRevision(key) => batch.delete(Table::ServiceRevisions, key.clone()),
                Change::Daemon(change) => crate::daemons::DaemonState::write(change, &mut batch),
                Change::Elb(change) => crate::elb::ElbState::write(change, &mut batch),
                Change::Acm(change) => crate::acm::AcmState::write(change, &mut batch),
                Change::Gateway(change) => crate::gateways::GatewayState::write(change, &mut batch),
                Change::Logs(change) => crate::logs::LogsState::write(change, &mut batch),
                Change::Alarm(change) => crate::cloudwatch::alarms::AlarmsState::write(change, &mut batch),
                Change::Events(change) => crate::events::EventsState::write(change, &mut batch),
                Change::AutoScaling(change) => crate::autoscaling::AutoScalingState::write(change, &mut batch),
                Change::Schedule(change) => crate::schedules::SchedulesState::write(change, &mut batch),
            }
        }
        batch
    }

    /// Applies committed changes and keeps the indexes in step.
    pub fn apply(&mut self, changes: Vec<Change>) {
        // Instances whose usage and view are recomputed from their tasks at the end. A task
        // change elsewhere shifts them by its own footprint instead: recomputing walked every
        // task of the instance on every agent report.
        let mut rebuild = BTreeSet::new();
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
                    let before = self.tasks.get(&record.id).and_then(Footprint::of);
                    let previous_stamp = self.tasks.get(&record.id).map(|previous| previous.desired_generation);
                    if previous_stamp != Some(record.desired_generation) {
                        if let Some(stamp) = previous_stamp {
                            self.unstamp(&record.container_instance, stamp, &record.id);
                        }
                        self.tasks_by_stamp
                            .entry(record.container_instance.clone())
                            .or_default()
                            .entry(record.desired_generation)
                            .or_default()
                            .insert(record.id.clone());
                    }
                    match self.tasks.get(&record.id) {
                        Some(previous) if previous.container_instance != record.container_instance => {
                            if let Some(ids) = self.tasks_by_instance.get_mut(&previous.container_instance) {
                                ids.remove(&record.id);
                            }
                            rebuild.insert(previous.container_instance.clone());
                            rebuild.insert(record.container_instance.clone());
                            self.index_task(&record);
                        }
                        Some(_) => {}
                        None => self.index_task(&record),
                    }
                    let after = Footprint::of(&record);
                    if record.deactivating_until.is_some() {
                        self.deactivating_tasks.insert(record.id.clone());
                    } else {
                        self.deactivating_tasks.remove(&record.id);
                    }
                    self.tasks.insert(record.id.clone(), record);
                    if before != after {
                        self.shift_footprint(before, after, &mut rebuild);
                    }
                }
                Change::DeleteTask(id) => {
                    self.deactivating_tasks.remove(&id);
                    if let Some(previous) = self.tasks.remove(&id) {
                        if let Some(ids) = self.tasks_by_instance.get_mut(&previous.container_instance) {
                            ids.remove(&id);
                        }
                        if let Some(ids) = self.tasks_by_group.get_mut(&group_key(&previous.cluster, &previous.group)) {
                            ids.remove(&id);
                        }
                        self.unstamp(&previous.container_instance, previous.desired_generation, &id);
                        self.shift_footprint(Footprint::of(&previous), None, &mut rebuild);
                    }
                }
                Change::AdvanceDesiredGeneration(row) => {
                    // Placement does not see generations: nothing to rebuild.
                    if let Some(instance) = self.instances.get_mut(&row.instance) {
                        instance.desired_generation = instance.desired_generation.max(row.generation);
                    }
                }
                Change::PutContainerInstance(mut record) => {
                    // A record written before a later generation row must not move it back.
                    if let Some(previous) = self.instances.get(&record.id) {
                        record.desired_generation = record.desired_generation.max(previous.desired_generation);
                    }
                    // A new desired generation alone changes nothing placement sees.
                    let changed = self
                        .instances
                        .get(&record.id)
                        .is_none_or(|previous| placement_views::view_inputs_differ(previous, &record));
                    if changed {
                        rebuild.insert(record.id.clone());
                    }
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
                Change::PutAccountSetting(record) => {
                    self.account_settings.insert(AccountSettingRecord::key(&record.principal, record.name), record);
                }
                Change::DeleteAccountSetting(key) => {
                    self.account_settings.remove(&key);
                }
                Change::PutExecSession(record) => {
                    self.exec_sessions.insert(record.id.clone(), *record);
                }
                Change::PutServiceDeployment(record) => {
                    self.service_deployments.insert(record.key(), *record);
                }
                Change::DeleteServiceDeployment(key) => {
                    self.service_deployments.remove(&key);
                }
                Change::PutServiceRevision(record) => {
                    self.service_revisions.insert(record.key(), *record);
                }
                Change::DeleteServiceRevision(key) => {
                    self.service_revisions.remove(&key);
                }
                Change::Daemon(change) => self.daemons.apply(change),
                Change::Elb(change) => self.elb.apply(change),
                Change::Acm(change) => self.acm.apply(change),
                Change::Gateway(change) => self.gateways.apply(change),
                Change::Logs(change) => self.logs.apply(change),
                Change::Alarm(change) => self.alarms.apply(change),
                Change::Events(change) => self.events.apply(change),
                Change::AutoScaling(change) => self.autoscaling.apply(change),
                Change::Schedule(change) => self.schedules.apply(change),
            }
        }
        for instance in rebuild {
            let mut used = Resources::default();
            for task_id in self.tasks_by_instance.get(&instance).into_iter().flatten() {
                if let Some(task) = self.tasks.get(task_id).filter(|task| task.holds_resources()) {
                    used.add(&task.demand);
                }
            }
            self.used_by_instance.insert(instance.clone(), used);
            placement_views::refresh(self, &instance);
        }
    }

    fn unstamp(&mut self, instance: &ContainerInstanceId, stamp: u64, id: &TaskId) {
        if let Some(stamps) = self.tasks_by_stamp.get_mut(instance) {
            if let Some(ids) = stamps.get_mut(&stamp) {
                ids.remove(id);
                if ids.is_empty() {
                    stamps.remove(&stamp);
                }
            }
        }
    }

    /// The instance's tasks stamped after generation `after`, and those never stamped (0).
    pub fn tasks_stamped_after(&self, instance: &ContainerInstanceId, after: u64) -> impl Iterator<Item = &TaskRecord> {
        let stamps = self.tasks_by_stamp.get(instance);
        let unstamped = stamps.and_then(|stamps| stamps.get(&0)).into_iter().flatten();
        let later =
            stamps.into_iter().flat_map(move |stamps| stamps.range(after.saturating_add(1)..)).flat_map(|(_, ids)| ids);
        unstamped.chain(later).filter_map(|id| self.tasks.get(id))
    }

    fn index_task(&mut self, record: &TaskRecord) {
        self.tasks_by_instance.entry(record.container_instance.clone()).or_default().insert(record.id.clone());
        self.tasks_by_group.entry(group_key(&record.cluster, &record.group)).or_default().insert(record.id.clone());
    }

    /// Moves a task's share of its instance from `before` to `after` (either may be absent;
    /// both are on the same instance). Tasks holding host ports go through a rebuild: the
    /// usage keeps no owner per port, so a port cannot be handed back on its own.
    fn shift_footprint(
        &mut self,
        before: Option<Footprint>,
        after: Option<Footprint>,
        rebuild: &mut BTreeSet<ContainerInstanceId>,
    ) {
        let Some(instance) = before.as_ref().or(after.as_ref()).map(|footprint| footprint.instance.clone()) else {
            return;
        };
        if rebuild.contains(&instance) || [&before, &after].into_iter().flatten().any(|footprint| footprint.has_ports) {
            rebuild.insert(instance);
            return;
        }
        let used = self.used_by_instance.entry(instance.clone()).or_default();
        for (footprint, sign) in [(&before, -1), (&after, 1)] {
            if let Some(footprint) = footprint {
                used.cpu += sign * footprint.cpu;
                used.memory += sign * footprint.memory;
            }
        }
        placement_views::shift_tasks(self, &instance, before.as_ref(), after.as_ref());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{new_task_record, NewTask};
    use crate::testing::{name, resources, task_spec};
    use berth_types::spec::PortMappingSpec;
    use berth_types::{ContainerInstanceStatus, PortProtocol, TaskDefinitionFamily, TaskStatus};

    fn instance(id: &ContainerInstanceId) -> ContainerInstanceRecord {
        ContainerInstanceRecord {
            id: id.clone(),
            cluster: name("prod"),
            ec2_instance_id: format!("i-{id}"),
            status: ContainerInstanceStatus::Active,
            status_reason: None,
            registered: resources(4096, 8192),
            attributes: vec![],
            custom_attributes: vec![],
            capacity_provider: None,
            version_info: Default::default(),
            registered_at: Timestamp(1),
            tags: vec![],
            version: 1,
            desired_generation: 1,
        }
    }

    fn task(instance: &ContainerInstanceId, group: &str, host_port: Option<u16>) -> TaskRecord {
        let mut spec = task_spec();
        if let Some(port) = host_port {
            spec.containers[0].port_mappings =
                vec![PortMappingSpec { container_port: 80, host_port: Some(port), protocol: PortProtocol::Tcp }];
        }
        new_task_record(NewTask {
            id: TaskId::generate(),
            cluster: name("prod"),
            family: TaskDefinitionFamily::parse("web").unwrap(),
            revision: 1,
            container_instance: instance.clone(),
            spec,
            overrides: serde_json::json!({}),
            started_by: None,
            group: group.to_string(),
            capacity_provider: None,
            tags: vec![],
            created_at: Timestamp(1),
        })
    }

    /// The same records applied to an empty state: every instance is rebuilt from its tasks.
    fn rebuilt(state: &State) -> State {
        let mut fresh = State::default();
        let mut changes: Vec<Change> = state.instances.values().cloned().map(Change::PutContainerInstance).collect();
        changes.extend(state.tasks.values().cloned().map(Change::PutTask));
        fresh.apply(changes);
        fresh
    }

    fn assert_indexes_match_a_rebuild(state: &State, step: &str) {
        let fresh = rebuilt(state);
        let stamps = |state: &State| {
            state
                .tasks_by_stamp
                .iter()
                .filter(|(_, stamps)| !stamps.is_empty())
                .map(|(id, stamps)| (id.clone(), stamps.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(stamps(state), stamps(&fresh), "{step}: stamps");
        for id in state.instances.keys() {
            let used = |state: &State| {
                state.used_by_instance.get(id).map(|used| (used.cpu, used.memory, used.ports_tcp.clone()))
            };
            let quiet = Some((0, 0, Default::default()));
            assert!(used(state) == used(&fresh) || (used(state) == quiet && used(&fresh).is_none()), "{step}: usage");
            let view = |state: &State| state.view_of(&state.instances[id]).cloned();
            assert_eq!(view(state), view(&fresh), "{step}: view of {id}");
        }
    }

    #[test]
    fn incremental_usage_and_views_match_a_rebuild() {
        let (first, second) = (ContainerInstanceId::generate(), ContainerInstanceId::generate());
        let mut state = State::default();
        state.apply(vec![
            Change::PutContainerInstance(instance(&first)),
            Change::PutContainerInstance(instance(&second)),
        ]);
        let mut live: Vec<TaskRecord> = Vec::new();
        // A fixed walk through launches (with and without host ports), status moves, stops,
        // deletions and generation bumps, checked against a rebuild after every batch.
        for step in 0..60u16 {
            let on = if step % 3 == 0 { &second } else { &first };
            let mut batch = Vec::new();
            match step % 6 {
                0 | 1 => {
                    let record = task(
                        on,
                        if step % 4 == 0 { "family:web" } else { "service:api" },
                        (step % 5 == 0).then_some(8000 + step),
                    );
                    live.push(record.clone());
                    batch.push(Change::PutTask(record));
                }
                2 if !live.is_empty() => {
                    let count = live.len();
                    let record = &mut live[usize::from(step) % count];
                    record.last_status = TaskStatus::Running;
                    record.version += 1;
                    batch.push(Change::PutTask(record.clone()));
                }
                3 if !live.is_empty() => {
                    let count = live.len();
                    let record = &mut live[usize::from(step * 7) % count];
                    record.last_status = TaskStatus::Stopped;
                    record.desired_generation = u64::from(step);
                    record.version += 1;
                    batch.push(Change::PutTask(record.clone()));
                }
                4 if !live.is_empty() => {
                    let record = live.remove(usize::from(step) % live.len());
                    batch.push(Change::DeleteTask(record.id));
                }
                _ => {
                    let mut record = state.instances[on].clone();
                    record.desired_generation += 1;
                    batch.push(Change::PutContainerInstance(record));
                }
            }
            state.apply(batch);
            assert_indexes_match_a_rebuild(&state, &format!("step {step}"));
        }
        assert!(state.view_of(&state.instances[&first]).unwrap().running_tasks_count > 0, "the walk ran tasks");
    }
}
