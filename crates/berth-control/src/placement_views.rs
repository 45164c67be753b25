//! Each cluster's container instances as placement sees them (`berth_scheduler::InstanceView`),
//! kept up to date as changes are applied instead of being rebuilt for every RunTask and every
//! service pass: at thousands of instances, rebuilding them was the whole cost of a launch.
//!
//! Invariant: `views[i]` describes `ids[i]`, every non-INACTIVE instance of the cluster has
//! exactly one entry, and its resources, groups and counts match the applied state. The
//! `agent_connected` flag is the one part not derived from the store: the liveness refresh
//! (`ControlPlane::refresh_agent_connectivity`) keeps it in step with agent presence.

use crate::state::State;
use berth_scheduler::InstanceView;
use berth_types::records::{ContainerInstanceRecord, TaskRecord};
use berth_types::{ClusterName, ContainerInstanceId, ContainerInstanceStatus, TaskStatus};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default, Clone)]
pub struct ClusterViews {
    pub ids: Vec<ContainerInstanceId>,
    pub views: Vec<InstanceView>,
    positions: HashMap<ContainerInstanceId, usize>,
}

impl ClusterViews {
    pub fn position(&self, id: &ContainerInstanceId) -> Option<usize> {
        self.positions.get(id).copied()
    }

    fn upsert(&mut self, id: ContainerInstanceId, view: InstanceView) {
        match self.positions.get(&id) {
            Some(&position) => self.views[position] = view,
            None => {
                self.positions.insert(id.clone(), self.ids.len());
                self.ids.push(id);
                self.views.push(view);
            }
        }
    }

    fn remove(&mut self, id: &ContainerInstanceId) {
        let Some(position) = self.positions.remove(id) else { return };
        self.ids.swap_remove(position);
        self.views.swap_remove(position);
        if let Some(moved) = self.ids.get(position) {
            self.positions.insert(moved.clone(), position);
        }
    }

    pub fn set_agent_connected(&mut self, id: &ContainerInstanceId, connected: bool) {
        if let Some(position) = self.position(id) {
            self.views[position].agent_connected = connected;
        }
    }
}

/// The instance as placement and the cluster query language see it.
fn build_view(state: &State, record: &ContainerInstanceRecord, agent_connected: bool) -> InstanceView {
    let mut task_groups: BTreeMap<String, u32> = BTreeMap::new();
    let mut running_tasks_count = 0;
    for task in state.tasks_on_instance(&record.id).filter(|task| task.holds_resources()) {
        *task_groups.entry(task.group.clone()).or_default() += 1;
        if task.last_status == TaskStatus::Running {
            running_tasks_count += 1;
        }
    }
    InstanceView {
        id: record.id.to_string(),
        status: record.status,
        agent_connected,
        remaining: state.remaining_on_instance(record),
        attributes: record
            .effective_attributes()
            .into_iter()
            .map(|attribute| (attribute.name, attribute.value))
            .collect(),
        ec2_instance_id: record.ec2_instance_id.clone(),
        agent_version: record.version_info.agent_version.clone(),
        registered_at_epoch_ms: record.registered_at.0,
        running_tasks_count,
        task_groups,
        capacity_provider: record.capacity_provider.clone(),
    }
}

/// What one task contributes to its instance's usage and view while it holds resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footprint {
    pub instance: ContainerInstanceId,
    pub group: String,
    pub running: bool,
    pub cpu: i64,
    pub memory: i64,
    pub has_ports: bool,
}

impl Footprint {
    /// The task's footprint, `None` once it no longer holds resources.
    pub fn of(task: &TaskRecord) -> Option<Footprint> {
        task.holds_resources().then(|| Footprint {
            instance: task.container_instance.clone(),
            group: task.group.clone(),
            running: task.last_status == TaskStatus::Running,
            cpu: task.demand.cpu,
            memory: task.demand.memory,
            has_ports: !task.demand.ports_tcp.is_empty() || !task.demand.ports_udp.is_empty(),
        })
    }
}

/// Whether an instance record changed in a way its view shows (rather than, say, only its
/// desired generation or tags).
pub(crate) fn view_inputs_differ(previous: &ContainerInstanceRecord, next: &ContainerInstanceRecord) -> bool {
    previous.status != next.status
        || previous.registered != next.registered
        || previous.attributes != next.attributes
        || previous.custom_attributes != next.custom_attributes
        || previous.ec2_instance_id != next.ec2_instance_id
        || previous.version_info != next.version_info
        || previous.registered_at != next.registered_at
        || previous.capacity_provider != next.capacity_provider
        || previous.cluster != next.cluster
}

/// Moves the instance's view from a task's `before` footprint to its `after` one, once the
/// usage already has: group counts, the running count and what remains.
pub(crate) fn shift_tasks(
    state: &mut State,
    instance: &ContainerInstanceId,
    before: Option<&Footprint>,
    after: Option<&Footprint>,
) {
    let Some(record) = state.instances.get(instance) else { return };
    let Some(views) = state.cluster_views.get_mut(&record.cluster) else { return };
    let Some(position) = views.position(instance) else { return };
    let view = &mut views.views[position];
    if let Some(before) = before {
        if let Some(count) = view.task_groups.get_mut(&before.group) {
            *count -= 1;
            if *count == 0 {
                view.task_groups.remove(&before.group);
            }
        }
        view.running_tasks_count -= u32::from(before.running);
    }
    if let Some(after) = after {
        *view.task_groups.entry(after.group.clone()).or_default() += 1;
        view.running_tasks_count += u32::from(after.running);
    }
    // Port-less footprints only (see `State::shift_footprint`), so the ports stay as they are.
    let used = state.used_by_instance.get(instance);
    view.remaining.cpu = record.registered.cpu - used.map_or(0, |used| used.cpu);
    view.remaining.memory = record.registered.memory - used.map_or(0, |used| used.memory);
}

/// Rebuilds the views of `instance` after a change touched it.
pub(crate) fn refresh(state: &mut State, instance: &ContainerInstanceId) {
    let Some(record) = state.instances.get(instance) else { return };
    let cluster = record.cluster.clone();
    if record.status == ContainerInstanceStatus::Inactive {
        if let Some(views) = state.cluster_views.get_mut(&cluster) {
            views.remove(instance);
        }
        return;
    }
    let connected = state
        .cluster_views
        .get(&cluster)
        .and_then(|views| views.position(instance).map(|position| views.views[position].agent_connected))
        .unwrap_or(false);
    let view = build_view(state, record, connected);
    state.cluster_views.entry(cluster).or_default().upsert(instance.clone(), view);
}

impl State {
    pub fn views_of(&self, cluster: &ClusterName) -> Option<&ClusterViews> {
        self.cluster_views.get(cluster)
    }

    /// The view of one instance, if it is live.
    pub fn view_of(&self, record: &ContainerInstanceRecord) -> Option<&InstanceView> {
        let views = self.cluster_views.get(&record.cluster)?;
        views.position(&record.id).map(|position| &views.views[position])
    }
}
