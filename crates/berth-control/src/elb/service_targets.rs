//! ECS services behind target groups:
//! - the checks CreateService and UpdateService make of `loadBalancers`;
//! - registering a service's RUNNING tasks as targets (from the service pass, which re-reads
//!   the world, so a registration missed by a crash is made by the next pass);
//! - draining a task's targets the moment it is asked to stop, or stops — a hook inside
//!   `mutate`, so no writer (planner, StopTask, a report) can forget — and holding it
//!   DEACTIVATING (its agent keeps it running) until the groups' deregistration delay is over;
//! - each task's health in its groups, for the planner.
//!
//! Which group a task joins is the traffic state's to say (`traffic_shift`): the green
//! revision of a blue/green deployment registers in the other group of each pair.
//!
//! Invariant: a task's targets are written on the task (`load_balancer_targets`) in the same
//! batch that registers them, so draining and health never depend on a service configuration
//! that may have changed since.

use super::health::HealthBook;
use super::records::{RegisteredTarget, TargetGroupRecord};
use super::traffic_shift::TrafficState;
use super::ElbChange;
use crate::error::{ControlError, ControlResult};
use crate::services::{ServiceConfiguration, ServiceLoadBalancer, ServiceRecord};
use crate::state::{Change, State};
use crate::task_definitions::find_task_definition;
use berth_planner::{LoadBalancerHealth, UnhealthyTarget};
use berth_types::records::{TaskRecord, TaskTarget};
use berth_types::spec::NetworkMode;
use berth_types::{DesiredStatus, TaskId, TaskStatus, Timestamp};
use std::collections::{BTreeMap, HashMap, HashSet};

/// ECS's answer to a service whose load balancers cannot work.
fn invalid<T>(message: String) -> ControlResult<T> {
    Err(ControlError::InvalidParameter(message))
}

/// ECS's quota of target groups per service.
pub const MAX_TARGET_GROUPS_PER_SERVICE: usize = 5;

/// Whether the service's `loadBalancers` can work: each names a target group that exists, of
/// target type `instance` (tasks have no IP of their own yet), that a load balancer forwards
/// to, and a container port of the task definition.
pub(crate) fn check_load_balancers(state: &State, configuration: &ServiceConfiguration) -> ControlResult<()> {
    let load_balancers = &configuration.load_balancers;
    if configuration.strategy.is_rolling() && !configuration.lifecycle_hooks.is_empty() {
        return invalid(
            "deploymentConfiguration.lifecycleHooks: lifecycle hooks need the BLUE_GREEN, LINEAR or CANARY strategy"
                .to_string(),
        );
    }
    if !configuration.strategy.is_rolling() && load_balancers.is_empty() {
        return invalid(format!(
            "deploymentConfiguration.strategy: {} deployments shift traffic between target groups; the service needs loadBalancers with advancedConfiguration",
            configuration.strategy.name()
        ));
    }
    if load_balancers.is_empty() {
        return Ok(());
    }
    if configuration.is_external() {
        return invalid(
            "loadBalancers: a service with the EXTERNAL deployment controller names its load balancers on its task sets"
                .to_string(),
        );
    }
    if load_balancers.len() > MAX_TARGET_GROUPS_PER_SERVICE {
        return invalid(format!(
            "loadBalancers: a service can have at most {MAX_TARGET_GROUPS_PER_SERVICE} target groups, got {}",
            load_balancers.len()
        ));
    }
    let Some(key) = &configuration.task_definition else { return Ok(()) };
    let definition = find_task_definition(state, key.family.as_str(), Some(key.revision))?;
    for (index, entry) in load_balancers.iter().enumerate() {
        // A gateway's entries are made right by construction, in this very batch.
        if entry.gateway_route.is_some() {
            continue;
        }
        check_advanced(state, configuration, index, entry)?;
        let groups = std::iter::once(&entry.target_group_arn)
            .chain(entry.advanced.as_ref().map(|advanced| &advanced.alternate_target_group_arn));
        for arn in groups {
            check_group(state, &definition.spec, index, entry, arn)?;
        }
    }
    Ok(())
}

/// A traffic-shifting strategy needs each entry's alternate group and production rule; ROLLING
/// ignores them (as ECS does).
fn check_advanced(
    state: &State,
    configuration: &ServiceConfiguration,
    index: usize,
    entry: &ServiceLoadBalancer,
) -> ControlResult<()> {
    let field = |name: &str| format!("loadBalancers[{index}].advancedConfiguration{name}");
    if configuration.strategy.is_rolling() {
        return Ok(());
    }
    let Some(advanced) = &entry.advanced else {
        return invalid(format!(
            "{}: required for the {} deployment strategy",
            field(""),
            configuration.strategy.name()
        ));
    };
    if advanced.alternate_target_group_arn == entry.target_group_arn {
        return invalid(format!(
            "{}: the alternate target group must differ from targetGroupArn",
            field(".alternateTargetGroupArn")
        ));
    }
    match super::traffic_shift::rule_forwards_to(state, &advanced.production_listener_rule, &entry.target_group_arn) {
        None => invalid(format!(
            "{}: the listener rule {} does not exist.",
            field(".productionListenerRule"),
            advanced.production_listener_rule
        )),
        Some(false) => invalid(format!(
            "{}: the listener rule {} does not forward to the target group {}.",
            field(".productionListenerRule"),
            advanced.production_listener_rule,
            entry.target_group_arn
        )),
        Some(true) => match &advanced.test_listener_rule {
            Some(rule) if super::traffic_shift::rule_forwards_to(state, rule, &entry.target_group_arn).is_none() => {
                invalid(format!("{}: the listener rule {rule} does not exist.", field(".testListenerRule")))
            }
            _ => Ok(()),
        },
    }
}

/// One group of an entry: it exists, a load balancer forwards to it, its target type suits
/// tasks without an IP of their own, and the container port exists.
fn check_group(
    state: &State,
    spec: &berth_types::spec::TaskSpec,
    index: usize,
    entry: &ServiceLoadBalancer,
    arn: &str,
) -> ControlResult<()> {
    let Some(group) = state.elb.target_groups.get(arn) else {
        return invalid(format!("loadBalancers[{index}]: the target group {arn} does not exist."));
    };
    if state.elb.load_balancers_using(arn).is_empty() {
        return invalid(format!(
            "The target group with targetGroupArn {arn} does not have an associated load balancer."
        ));
    }
    if group.target_type != "instance" {
        return invalid(format!(
            "The provided target group {arn} has target type {}, which is incompatible with the {} network mode specified in the task definition.",
            group.target_type,
            spec.network_mode.as_str()
        ));
    }
    if spec.network_mode == NetworkMode::None {
        return invalid(format!(
            "loadBalancers[{index}]: tasks of network mode none have no port a load balancer can reach."
        ));
    }
    let Some(container) = spec.containers.iter().find(|container| container.name == entry.container_name) else {
        return invalid(format!(
            "loadBalancers[{index}].containerName: the container {} does not exist in the task definition.",
            entry.container_name
        ));
    };
    if !container.port_mappings.iter().any(|mapping| mapping.container_port == entry.container_port) {
        return invalid(format!(
            "The container {} did not have a container port {} defined.",
            entry.container_name, entry.container_port
        ));
    }
    Ok(())
}

/// The targets a RUNNING task of the service is registered as; `None` while a host port is
/// not known yet.
fn targets_of(
    state: &State,
    record: &ServiceRecord,
    traffic: &TrafficState,
    task: &TaskRecord,
) -> Option<Vec<TaskTarget>> {
    let instance = state.instances.get(&task.container_instance)?;
    record
        .configuration
        .load_balancers
        .iter()
        .map(|entry| {
            let container = task.containers.iter().find(|container| container.name == entry.container_name)?;
            let bound =
                container.network_bindings.iter().find(|binding| binding.container_port == entry.container_port);
            let port = match bound {
                Some(binding) => binding.host_port,
                None if task.spec.network_mode == NetworkMode::Host => entry.container_port,
                None => return None,
            };
            Some(TaskTarget {
                target_group_arn: traffic.group_for(entry, task.started_by.as_deref()).to_owned(),
                id: instance.ec2_instance_id.clone(),
                port,
            })
        })
        .collect()
}

/// Target group records edited within one batch, starting from the state (or from a record
/// the batch already writes).
#[derive(Default)]
struct GroupEdits {
    groups: BTreeMap<String, TargetGroupRecord>,
}

impl GroupEdits {
    /// Takes the batch's own target group writes over, so edits add to them.
    fn absorbing(changes: &mut Vec<Change>) -> Self {
        let mut edits = GroupEdits::default();
        changes.retain_mut(|change| match change {
            Change::Elb(ElbChange::PutTargetGroup(record)) => {
                edits.groups.insert(record.arn.clone(), record.as_ref().clone());
                false
            }
            _ => true,
        });
        edits
    }

    fn group<'a>(&'a mut self, state: &State, arn: &str) -> Option<&'a mut TargetGroupRecord> {
        if !self.groups.contains_key(arn) {
            let record = state.elb.target_groups.get(arn)?.clone();
            self.groups.insert(arn.to_owned(), record);
        }
        self.groups.get_mut(arn)
    }

    /// Starts draining the targets still in rotation; answers the longest deregistration delay
    /// among the groups where one was.
    fn drain(&mut self, state: &State, targets: &[TaskTarget], now: Timestamp) -> Option<std::time::Duration> {
        let mut longest = None;
        for target in targets {
            let Some(group) = self.group(state, &target.target_group_arn) else { continue };
            let delay = group.deregistration_delay();
            let Some(index) =
                group.targets.iter().position(|existing| existing.id == target.id && existing.port == target.port)
            else {
                continue;
            };
            if group.targets[index].draining_since.is_some() {
                continue;
            }
            if delay.is_zero() {
                group.targets.remove(index);
            } else {
                group.targets[index].draining_since = Some(now);
            }
            longest = Some(longest.map_or(delay, |longest: std::time::Duration| longest.max(delay)));
        }
        longest
    }

    fn into_changes(self, changes: &mut Vec<Change>) {
        changes.extend(self.groups.into_values().map(|group| Change::Elb(ElbChange::PutTargetGroup(Box::new(group)))));
    }
}

/// The service pass's registrations: each RUNNING task of the service that is not registered
/// yet (and is not being stopped by this pass) becomes a target of every group, with the
/// targets written on the task in the same batch. Also answers ECS's events: "registered N
/// targets in (target-group …)" per group.
pub(crate) fn registrations(
    state: &State,
    record: &ServiceRecord,
    traffic: &TrafficState,
    stopping: &HashSet<&TaskId>,
) -> (Vec<Change>, Vec<String>) {
    let mut changes = Vec::new();
    let mut registered_in: BTreeMap<String, usize> = BTreeMap::new();
    if record.configuration.load_balancers.is_empty() {
        return (changes, vec![]);
    }
    let group = format!("service:{}", record.name);
    let mut edits = GroupEdits::default();
    let now = Timestamp::now();
    let unregistered = state.tasks_in_group(&record.cluster, &group).filter(|task| {
        task.last_status == TaskStatus::Running
            && task.desired_status == DesiredStatus::Running
            && task.load_balancer_targets.is_empty()
            && !stopping.contains(&task.id)
    });
    for task in unregistered {
        let Some(targets) = targets_of(state, record, traffic, task) else { continue };
        for target in &targets {
            let Some(group) = edits.group(state, &target.target_group_arn) else { continue };
            *registered_in.entry(target.target_group_arn.clone()).or_default() += 1;
            match group.targets.iter_mut().find(|existing| existing.id == target.id && existing.port == target.port) {
                Some(existing) => existing.draining_since = None,
                None => group.targets.push(RegisteredTarget {
                    id: target.id.clone(),
                    port: target.port,
                    availability_zone: None,
                    registered_at: now,
                    draining_since: None,
                }),
            }
        }
        let mut registered = task.clone();
        registered.load_balancer_targets = targets;
        registered.version += 1;
        changes.push(Change::PutTask(registered));
    }
    edits.into_changes(&mut changes);
    let events = registered_in
        .into_iter()
        .map(|(arn, count)| format!("(service {}) registered {count} targets in (target-group {arn})", record.name))
        .collect();
    (changes, events)
}

/// ECS's event for a pass that stops tasks registered with a load balancer.
pub(crate) fn draining_event(state: &State, record: &ServiceRecord, stops: &[berth_planner::Stop]) -> Option<String> {
    let draining = stops
        .iter()
        .filter_map(|stop| state.tasks.get(&stop.task_id))
        .filter(|task| task.desired_status == DesiredStatus::Running && !task.load_balancer_targets.is_empty())
        .count();
    (draining > 0).then(|| format!("(service {}) has begun draining connections on {draining} tasks.", record.name))
}

/// Inside `mutate`, before the batch is stamped: a task with targets that is asked to stop
/// has them drained and is held DEACTIVATING for the longest deregistration delay; a task that
/// stopped by itself has them drained at once.
pub(crate) fn drain_stopping_tasks(state: &State, changes: &mut Vec<Change>) {
    let leaving = |change: &Change| matches!(change, Change::PutTask(task) if leaving_task(state, task));
    if !changes.iter().any(leaving) {
        return;
    }
    let mut edits = GroupEdits::absorbing(changes);
    let now = Timestamp::now();
    for change in changes.iter_mut() {
        let Change::PutTask(task) = change else { continue };
        if !leaving_task(state, task) {
            continue;
        }
        let longest = edits.drain(state, &task.load_balancer_targets, now);
        // Without a delay the targets left at once: there is nothing to wait for.
        task.deactivating_until = match longest {
            Some(delay) if !delay.is_zero() && task.last_status < TaskStatus::Stopping => Some(now.plus(delay)),
            _ => None,
        };
    }
    edits.into_changes(changes);
}

/// A task with targets that is asked to stop, or stopped, in this change.
fn leaving_task(state: &State, task: &TaskRecord) -> bool {
    if task.load_balancer_targets.is_empty() {
        return false;
    }
    let previous = state.tasks.get(&task.id);
    let stopped_now = task.last_status == TaskStatus::Stopped
        && previous.is_some_and(|previous| previous.last_status != TaskStatus::Stopped);
    let asked_now = task.desired_status == DesiredStatus::Stopped
        && previous.is_some_and(|previous| previous.desired_status == DesiredStatus::Running);
    stopped_now || asked_now
}

/// The drain pass's releases: deactivating tasks whose delay is over, handed to their agents
/// to stop.
pub(crate) fn released(state: &State, now: Timestamp) -> Vec<Change> {
    state
        .deactivating_tasks
        .iter()
        .filter_map(|id| state.tasks.get(id))
        .filter(|task| task.deactivating_until.is_some_and(|until| until <= now))
        .map(|task| {
            let mut released = task.clone();
            released.deactivating_until = None;
            released.version += 1;
            Change::PutTask(released)
        })
        .collect()
}

/// Each task's health in its service's target groups, for one service pass.
pub(crate) struct HealthLookup<'a> {
    state: &'a State,
    book: &'a HealthBook,
    has_load_balancers: bool,
    in_use: HashMap<&'a str, bool>,
}

impl<'a> HealthLookup<'a> {
    pub(crate) fn new(state: &'a State, book: &'a HealthBook, record: &ServiceRecord) -> Self {
        HealthLookup {
            state,
            book,
            has_load_balancers: !record.configuration.load_balancers.is_empty(),
            in_use: HashMap::new(),
        }
    }

    /// `None` for a task of a service without load balancers that was never registered.
    pub(crate) fn task(&mut self, task: &'a TaskRecord) -> Option<LoadBalancerHealth> {
        if task.load_balancer_targets.is_empty() {
            return self.has_load_balancers.then_some(LoadBalancerHealth::Initial);
        }
        let mut all_healthy = true;
        for target in &task.load_balancer_targets {
            let Some(group) = self.state.elb.target_groups.get(&target.target_group_arn) else { continue };
            let state = self.state;
            let in_use = *self
                .in_use
                .entry(target.target_group_arn.as_str())
                .or_insert_with(|| !state.elb.load_balancers_using(&target.target_group_arn).is_empty());
            let view = self.book.view(group, in_use, &target.id, target.port);
            match view.state {
                // Health checks disabled: the load balancer sends it traffic regardless.
                "healthy" | "unavailable" => {}
                "unhealthy" => {
                    return Some(LoadBalancerHealth::Unhealthy(UnhealthyTarget {
                        target_group_arn: target.target_group_arn.clone(),
                        target_id: target.id.clone(),
                        port: target.port,
                        reason: view.description.unwrap_or_else(|| "Health checks failed".to_string()),
                    }))
                }
                _ => all_healthy = false,
            }
        }
        Some(if all_healthy { LoadBalancerHealth::Healthy } else { LoadBalancerHealth::Initial })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elb::records::HealthCheckSettings;
    use crate::tasks::{new_task_record, NewTask};
    use berth_types::records::TaskTarget;
    use berth_types::{ContainerInstanceId, TaskDefinitionFamily};

    const GROUP: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef";

    fn group(delay_seconds: u32) -> TargetGroupRecord {
        TargetGroupRecord {
            arn: GROUP.to_string(),
            name: "web".to_string(),
            protocol: "HTTP".to_string(),
            protocol_version: "HTTP1".to_string(),
            port: 80,
            vpc_id: None,
            target_type: "instance".to_string(),
            ip_address_type: "ipv4".to_string(),
            health_check: HealthCheckSettings {
                enabled: true,
                protocol: "HTTP".to_string(),
                port: "traffic-port".to_string(),
                path: "/".to_string(),
                interval_seconds: 5,
                timeout_seconds: 2,
                healthy_threshold: 2,
                unhealthy_threshold: 2,
                matcher: "200".to_string(),
            },
            attributes: [("deregistration_delay.timeout_seconds".to_string(), delay_seconds.to_string())].into(),
            tags: vec![],
            targets: vec![RegisteredTarget {
                id: "i-1".to_string(),
                port: 32768,
                availability_zone: None,
                registered_at: Timestamp(0),
                draining_since: None,
            }],
        }
    }

    /// A RUNNING service task registered as i-1:32768.
    fn registered_task() -> TaskRecord {
        let mut task = new_task_record(NewTask {
            id: TaskId::generate(),
            cluster: crate::testing::name("c"),
            family: TaskDefinitionFamily::parse("web").unwrap(),
            revision: 1,
            container_instance: ContainerInstanceId::generate(),
            spec: crate::testing::task_spec(),
            overrides: serde_json::json!({}),
            started_by: None,
            group: "service:web".to_string(),
            capacity_provider: None,
            tags: vec![],
            created_at: Timestamp(0),
        });
        task.last_status = TaskStatus::Running;
        task.load_balancer_targets =
            vec![TaskTarget { target_group_arn: GROUP.to_string(), id: "i-1".to_string(), port: 32768 }];
        task
    }

    fn state_with(group: TargetGroupRecord, task: &TaskRecord) -> State {
        let mut state = State::default();
        state.apply(vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(group))), Change::PutTask(task.clone())]);
        state
    }

    fn stopping(task: &TaskRecord) -> TaskRecord {
        let mut stopping = task.clone();
        stopping.desired_status = DesiredStatus::Stopped;
        stopping
    }

    #[test]
    fn a_task_asked_to_stop_drains_and_its_agent_keeps_it_running_until_the_delay_is_over() {
        let task = registered_task();
        let mut state = state_with(group(5), &task);
        let mut changes = vec![Change::PutTask(stopping(&task))];
        drain_stopping_tasks(&state, &mut changes);

        let Change::PutTask(held) = &changes[0] else { panic!("the task change comes first: {changes:?}") };
        let until = held.deactivating_until.expect("held DEACTIVATING");
        assert_eq!(held.agent_desired_status(), DesiredStatus::Running);
        assert_eq!(held.shown_last_status(), TaskStatus::Deactivating);
        let Some(Change::Elb(ElbChange::PutTargetGroup(drained))) = changes.get(1) else {
            panic!("the group is written in the same batch: {changes:?}")
        };
        assert!(drained.targets[0].draining_since.is_some());

        state.apply(changes);
        assert!(released(&state, Timestamp(until.0 - 1)).is_empty(), "held until the delay is over");
        let released = released(&state, until);
        let [Change::PutTask(free)] = released.as_slice() else { panic!("one release: {released:?}") };
        assert_eq!(free.agent_desired_status(), DesiredStatus::Stopped);
        state.apply(released);
        assert!(state.deactivating_tasks.is_empty());
    }

    #[test]
    fn without_a_delay_the_target_leaves_at_once_and_nothing_is_held() {
        let task = registered_task();
        let state = state_with(group(0), &task);
        let mut changes = vec![Change::PutTask(stopping(&task))];
        drain_stopping_tasks(&state, &mut changes);
        let Change::PutTask(held) = &changes[0] else { panic!("{changes:?}") };
        assert_eq!(held.deactivating_until, None);
        let Some(Change::Elb(ElbChange::PutTargetGroup(drained))) = changes.get(1) else { panic!("{changes:?}") };
        assert!(drained.targets.is_empty());
    }

    #[test]
    fn a_task_that_stopped_by_itself_is_drained_but_not_held() {
        let task = registered_task();
        let state = state_with(group(30), &task);
        let mut stopped = stopping(&task);
        stopped.last_status = TaskStatus::Stopped;
        let mut changes = vec![Change::PutTask(stopped)];
        drain_stopping_tasks(&state, &mut changes);
        let Change::PutTask(held) = &changes[0] else { panic!("{changes:?}") };
        assert_eq!(held.deactivating_until, None);
        assert_eq!(changes.len(), 2, "its target drains: {changes:?}");
    }

    #[test]
    fn changes_without_load_balancer_targets_are_left_alone() {
        let mut task = registered_task();
        task.load_balancer_targets.clear();
        let state = state_with(group(30), &task);
        let mut changes = vec![Change::PutTask(stopping(&task))];
        drain_stopping_tasks(&state, &mut changes);
        assert_eq!(changes.len(), 1);
    }
}
