//! The service reconciler: a background loop that, on every activation (a change to tasks,
//! services or instances, the planner's own wake-up time, or a periodic tick), re-reads each
//! live service and the world around it, asks the pure planner (`berth-planner`) what to do,
//! and executes the plan — placing and creating the launches, stopping the stops, storing the
//! planner's progress and the new events — in one durable write per service.
//!
//! Invariant: a pass takes no hints and keeps no state of its own beyond the last placement
//! failure (which the next pass finds out again); running it twice in a row on an unchanged
//! world writes nothing the second time.

use crate::booked_views::BookedViews;
use crate::error::ControlResult;
use crate::placement_views::ClusterViews;
use crate::services::{SchedulingStrategy, ServiceRecord, ServiceStatus};
use crate::state::{Change, State};
use crate::task_definitions::find_task_definition;
use crate::tasks::{
    effective_provider_strategy, new_task_record, place_copies, required_attributes, stopped_record, NewTask,
};
use crate::ControlPlane;
use berth_planner::{
    CircuitBreaker, DeploymentConfiguration, DeploymentId, FailureThreshold, Plan, ServiceSpec, Snapshot, TaskView,
};
use berth_scheduler::{
    place, Expression, Placement, PlacementConstraint, PlacementRequest, PlacementStrategy, Rejection,
};
use berth_types::{
    ClusterName, ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, ServiceName, TaskId, TaskStatus,
    Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// What one service's pass decided beyond its durable changes.
struct PassOutcome {
    placement_failure: Option<String>,
    wake_at: Option<Timestamp>,
    /// A lifecycle hook asked for this green deployment to be rolled back.
    rollback: Option<DeploymentId>,
}

impl ControlPlane {
    /// One pass over every live service; returns the earliest time a planner asked to be
    /// woken at.
    ///
    /// Agent connectivity is whatever the liveness loop last noticed (at most one liveness tick
    /// old): refreshing it here walked every instance on every wake-up, and wake-ups come with
    /// every RunTask and agent report.
    pub async fn reconcile_services(&self) -> Option<Timestamp> {
        let _timer = self.metrics().reconciler_pass("service");
        let services: Vec<(ClusterName, ServiceName)> = {
            let state = self.read();
            state
                .services
                .values()
                .filter(|record| record.status != ServiceStatus::Inactive)
                .map(|record| (record.cluster.clone(), record.name.clone()))
                .collect()
        };
        let mut earliest: Option<Timestamp> = None;
        for (cluster, name) in services {
            match self.reconcile_service(&cluster, &name).await {
                Ok(Some(wake_at)) => earliest = Some(earliest.map_or(wake_at, |current| current.min(wake_at))),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%cluster, service = %name, %error, "service pass failed; the next one retries")
                }
            }
        }
        earliest
    }

    async fn reconcile_service(&self, cluster: &ClusterName, name: &ServiceName) -> ControlResult<Option<Timestamp>> {
        let key = ServiceRecord::key(cluster, name);
        let previous_failure = self.placement_failures.lock().get(&key).cloned();
        let outcome = self
            .mutate_with(false, |state| {
                let Some(record) = state.services.get(&key).filter(|record| record.status != ServiceStatus::Inactive)
                else {
                    return Ok((vec![], PassOutcome { placement_failure: None, wake_at: None, rollback: None }));
                };
                Ok(self.pass(state, record, previous_failure))
            })
            .await?;
        {
            let mut failures = self.placement_failures.lock();
            match outcome.placement_failure {
                Some(reason) => failures.insert(key, reason),
                None => failures.remove(&key),
            };
        }
        if let Some(deployment) = outcome.rollback {
            self.roll_back_deployment(cluster, name, &deployment).await?;
        }
        Ok(outcome.wake_at)
    }

    /// Instances whose agent has been away longer than the lost-after interval: their tasks are
    /// replaced elsewhere.
    pub(crate) fn instance_lost(&self, state: &State, id: &ContainerInstanceId) -> bool {
        match state.instances.get(id) {
            None => true,
            Some(instance) if instance.status == ContainerInstanceStatus::Inactive => true,
            Some(_) => self.agent_absent_for(id).is_some_and(|absent| absent >= self.config().instance_lost_after),
        }
    }

    fn pass(
        &self,
        state: &State,
        record: &ServiceRecord,
        previous_failure: Option<String>,
    ) -> (Vec<Change>, PassOutcome) {
        let now = Timestamp::now();
        let configuration = &record.configuration;
        let group = format!("service:{}", record.name);
        let book = self.elb_health().lock();
        let mut health = crate::elb::service_targets::HealthLookup::new(state, &book, record);
        let tasks: Vec<TaskView> = state
            .tasks_in_group(&record.cluster, &group)
            .filter_map(|task| {
                let mut view = planner_task_view(task)?;
                view.load_balancer_health = health.task(task);
                Some(view)
            })
            .collect();
        drop(book);
        let constraints = service_constraints(record);
        let no_instances = ClusterViews::default();
        let cluster_views = state.views_of(&record.cluster).unwrap_or(&no_instances);
        let planner_view = |position: usize| {
            let (id, view) = (&cluster_views.ids[position], &cluster_views.views[position]);
            berth_planner::InstanceView {
                id: id.clone(),
                status: view.status,
                agent_connected: view.agent_connected,
                lost: self.instance_lost(state, id),
                satisfies_constraints: constraints.iter().all(|constraint| match constraint {
                    PlacementConstraint::MemberOf(expression) => expression.matches(view),
                    PlacementConstraint::DistinctInstance => true,
                }),
            }
        };
        let instances: Vec<berth_planner::InstanceView> = match configuration.scheduling_strategy {
            SchedulingStrategy::Daemon => (0..cluster_views.ids.len()).map(planner_view).collect(),
            SchedulingStrategy::Replica => {
                let hosting: BTreeSet<&ContainerInstanceId> = tasks.iter().map(|task| &task.instance).collect();
                hosting
                    .into_iter()
                    .map(|id| match cluster_views.position(id) {
                        Some(position) => planner_view(position),
                        // A deregistered instance is gone for good.
                        None => berth_planner::InstanceView {
                            id: id.clone(),
                            status: ContainerInstanceStatus::Inactive,
                            agent_connected: false,
                            lost: true,
                            satisfies_constraints: false,
                        },
                    })
                    .collect()
            }
        };
        let minute = self.config().deployment_minute;
        let crate::elb::traffic_shift::BeforePass { mut traffic, abandoned } =
            crate::elb::traffic_shift::before_pass(state, record, minute, now);
        let mut service = service_spec(record);
        service.hold_previous = traffic.holds_previous() || abandoned.is_some();
        service.hold_launches = traffic.holds_launches();
        let snapshot = Snapshot {
            service,
            progress: record.progress.clone(),
            tasks,
            instances,
            placement_failure: previous_failure,
            alarms_in_alarm: alarms_in_alarm(state, record),
            now,
            seed: pass_seed(record),
            settings: self.config().planner,
        };
        let plan = berth_planner::plan(&snapshot);
        let crate::elb::traffic_shift::AfterPass { changes: mut shift_changes, events, rollback } =
            crate::elb::traffic_shift::after_pass(state, record, &mut traffic, &snapshot.tasks, minute, now);
        if let (Some(abandoned), Some(primary)) = (&abandoned, plan.progress.primary()) {
            let reason = berth_planner::StopReason::Scaling { deployment: primary.id.clone() };
            let group = format!("service:{}", record.name);
            let green = state.tasks_in_group(&record.cluster, &group).filter(|task| {
                task.desired_status == DesiredStatus::Running && task.started_by.as_deref() == Some(abandoned.as_str())
            });
            for task in green.filter(|task| !plan.stops.iter().any(|stop| stop.task_id == task.id)) {
                shift_changes.push(Change::PutTask(stopped_record(state, task, reason.code(), reason.text())));
            }
        }
        let (changes, mut outcome) =
            self.execute(state, record, plan, traffic, (shift_changes, events), &constraints, cluster_views, now);
        outcome.rollback = rollback;
        (changes, outcome)
    }

    #[allow(clippy::too_many_arguments)]
    fn execute(
        &self,
        state: &State,
        record: &ServiceRecord,
        plan: Plan,
        traffic: crate::elb::traffic_shift::TrafficState,
        (shift_changes, shift_events): (Vec<Change>, Vec<String>),
        constraints: &[PlacementConstraint],
        cluster_views: &ClusterViews,
        now: Timestamp,
    ) -> (Vec<Change>, PassOutcome) {
        let mut views = BookedViews::new(&cluster_views.views);
        let ids = &cluster_views.ids;
        let group = format!("service:{}", record.name);
        let mut changes = Vec::new();
        let mut placed: HashSet<TaskId> = HashSet::new();
        let mut placement_failure = None;
        let strategy = service_strategy(record);
        // A task set may name its own capacity provider strategy or launch type, so launches are
        // placed per task definition and per deployment (one group per task definition for ECS).
        let mut launches_by_definition: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for launch in &plan.launches {
            let task_set = record.task_sets.iter().find(|set| set.id == launch.deployment).map(|set| set.id.clone());
            launches_by_definition.entry((launch.task_definition.clone(), task_set)).or_default().push(launch);
        }
        for ((key, task_set), launches) in launches_by_definition {
            let task_set = task_set.and_then(|id| record.task_sets.iter().find(|set| set.id == id));
            let Ok(definition) = find_task_definition(state, key.family.as_str(), Some(key.revision)) else {
                placement_failure = Some(format!("The task definition {key} no longer exists."));
                continue;
            };
            let demand = definition.spec.resource_demand();
            let mut all_constraints = constraints.to_vec();
            for expression in &definition.spec.placement_constraints {
                if let Ok(parsed) = Expression::parse(expression) {
                    all_constraints.push(PlacementConstraint::MemberOf(parsed));
                }
            }
            let (named, anywhere): (Vec<_>, Vec<_>) =
                launches.into_iter().partition(|launch| launch.instance.is_some());
            // Each launch with the instance it goes to and the capacity provider it went through.
            let mut assignments: Vec<(&berth_planner::Launch, usize, Option<String>)> = Vec::new();
            for launch in named {
                let target = launch.instance.as_ref().expect("partitioned on instance");
                let Some(index) = cluster_views.position(target) else { continue };
                let request = PlacementRequest {
                    demand: demand.clone(),
                    count: 1,
                    group: group.clone(),
                    constraints: vec![],
                    strategy: vec![],
                    required_attributes: required_attributes(&definition.spec),
                };
                match place(std::slice::from_ref(views.view(index)), &request, 0) {
                    Ok(placements) if matches!(placements.first(), Some(Placement::Placed(_))) => {
                        assignments.push((launch, index, None));
                        views.book(index, &demand, &group);
                    }
                    Ok(placements) => placement_failure = Some(failure_detail(&placements, ids)),
                    Err(error) => placement_failure = Some(error.to_string()),
                }
            }
            if !anywhere.is_empty() {
                let request = PlacementRequest {
                    demand: demand.clone(),
                    count: anywhere.len(),
                    group: group.clone(),
                    constraints: all_constraints,
                    strategy: strategy.clone(),
                    required_attributes: required_attributes(&definition.spec),
                };
                let configuration = &record.configuration;
                let (provider_strategy, launch_type) = match task_set {
                    Some(set) => (&set.capacity_provider_strategy, &set.launch_type),
                    None => (&configuration.capacity_provider_strategy, &configuration.launch_type),
                };
                let placed_copies =
                    effective_provider_strategy(state, &record.cluster, provider_strategy, launch_type.is_some())
                        .and_then(|providers| {
                            let already: Vec<u32> = providers
                                .iter()
                                .map(|item| {
                                    state
                                        .tasks_in_group(&record.cluster, &group)
                                        .filter(|task| task.holds_resources())
                                        .filter(|task| {
                                            task.capacity_provider.as_deref() == Some(item.capacity_provider.as_str())
                                        })
                                        .count() as u32
                                })
                                .collect();
                            let _timer = self.metrics().placement("service");
                            place_copies(views.all(), &request, &providers, &already, pass_seed(record))
                        });
                match placed_copies {
                    Ok(placements) => {
                        let outcomes: Vec<Placement> =
                            placements.iter().map(|(placement, _)| placement.clone()).collect();
                        if outcomes.iter().any(|placement| matches!(placement, Placement::Unplaceable(_))) {
                            placement_failure = Some(failure_detail(&outcomes, ids));
                        }
                        let chosen = placements.into_iter().filter_map(|(placement, provider)| match placement {
                            Placement::Placed(index) => Some((index, provider)),
                            Placement::Unplaceable(_) => None,
                        });
                        for (launch, (index, provider)) in anywhere.into_iter().zip(chosen) {
                            views.book(index, &demand, &group);
                            assignments.push((launch, index, provider));
                        }
                    }
                    Err(error) => placement_failure = Some(error.to_string()),
                }
            }
            for (launch, index, capacity_provider) in assignments {
                let instance = &ids[index];
                let tags = if record.configuration.propagate_tags.as_deref() == Some("SERVICE") {
                    record.tags.clone()
                } else {
                    vec![]
                };
                let mut task = new_task_record(NewTask {
                    id: launch.task_id.clone(),
                    cluster: record.cluster.clone(),
                    family: definition.family.clone(),
                    revision: definition.revision,
                    container_instance: instance.clone(),
                    spec: crate::account_settings::with_default_log_driver_mode(state, definition.spec.clone()),
                    overrides: serde_json::json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
                    started_by: Some(launch.deployment.to_string()),
                    group: group.clone(),
                    capacity_provider,
                    tags,
                    created_at: now,
                });
                task.enable_execute_command = record.configuration.enable_execute_command;
                changes.push(Change::PutTask(task));
                placed.insert(launch.task_id.clone());
            }
        }
        // Tasks this pass stops: the plan's, and an abandoned green deployment's.
        let also_stopped = shift_changes.iter().filter_map(|change| match change {
            Change::PutTask(task) => Some(&task.id),
            _ => None,
        });
        let stopping: HashSet<&TaskId> = plan.stops.iter().map(|stop| &stop.task_id).chain(also_stopped).collect();
        let (registrations, mut target_events) =
            crate::elb::service_targets::registrations(state, record, &traffic, &stopping);
        changes.extend(registrations);
        changes.extend(shift_changes);
        target_events.extend(shift_events);
        target_events.extend(crate::elb::service_targets::draining_event(state, record, &plan.stops));
        for stop in &plan.stops {
            if let Some(task) =
                state.tasks.get(&stop.task_id).filter(|task| task.desired_status == DesiredStatus::Running)
            {
                changes.push(Change::PutTask(stopped_record(state, task, stop.reason.code(), stop.reason.text())));
            }
        }

        let mut updated = record.clone();
        let mut events = plan.event_messages(&record.name, |id| placed.contains(id));
        events.extend(target_events);
        let mut unchanged_progress = plan.progress.clone();
        unchanged_progress.revision = record.progress.revision;
        let quiet = changes.is_empty()
            && events.is_empty()
            && unchanged_progress == record.progress
            && traffic == record.traffic;
        updated.progress = plan.progress;
        updated.traffic = traffic;
        let task_sets_changed = crate::task_sets::record_pass(&mut updated, &plan.task_sets, now);
        let quiet = quiet && !task_sets_changed;
        updated.record_events(events, now);
        changes.extend(crate::service_history::mapping::pass_changes(state, &updated, now));
        if updated.status == ServiceStatus::Draining {
            let live =
                state.tasks_in_group(&record.cluster, &group).any(|task| task.last_status != TaskStatus::Stopped);
            if !live && plan.launches.is_empty() {
                updated.status = ServiceStatus::Inactive;
                changes.extend(crate::service_history::mapping::deleted_service_changes(state, &updated));
            }
        }
        if !(quiet && updated.status == record.status) {
            changes.push(Change::PutService(Box::new(updated)));
        }
        (changes, PassOutcome { placement_failure, wake_at: plan.wake_at, rollback: None })
    }
}

/// A task as the planner sees it; `None` for a task no deployment started (its `startedBy` is
/// not a deployment ID), which the planner leaves alone.
pub(crate) fn planner_task_view(task: &berth_types::records::TaskRecord) -> Option<TaskView> {
    Some(TaskView {
        id: task.id.clone(),
        deployment: DeploymentId::parse(task.started_by.as_deref()?)?,
        instance: task.container_instance.clone(),
        last_status: task.last_status,
        desired_status: task.desired_status,
        started_at: task.started_at,
        health: task.health_status,
        has_health_check: task
            .spec
            .containers
            .iter()
            .any(|container| container.essential && container.health_check.is_some()),
        stop_code: task.stop_code,
        stopped_reason: task.stopped_reason.clone(),
        protected_until: task.protected_until,
        load_balancer_health: None,
    })
}

/// The service's placement constraints, parsed; unparsable ones were refused at the edge.
fn service_constraints(record: &ServiceRecord) -> Vec<PlacementConstraint> {
    record
        .configuration
        .placement_constraints
        .iter()
        .filter_map(|(kind, expression)| PlacementConstraint::from_wire(kind, expression.as_deref()).ok())
        .collect()
}

/// The service's strategy, or ECS's service default (spread across zones, then instances).
fn service_strategy(record: &ServiceRecord) -> Vec<PlacementStrategy> {
    let strategy: Vec<PlacementStrategy> = record
        .configuration
        .placement_strategy
        .iter()
        .filter_map(|(kind, field)| PlacementStrategy::from_wire(kind, field.as_deref()).ok())
        .collect();
    if strategy.is_empty() {
        PlacementStrategy::service_default()
    } else {
        strategy
    }
}

pub(crate) fn service_spec(record: &ServiceRecord) -> ServiceSpec {
    let configuration = &record.configuration;
    let breaker = &configuration.circuit_breaker;
    let threshold = match breaker.threshold_type.as_str() {
        "COUNT" => FailureThreshold::Count(breaker.threshold_value),
        "UNBOUNDED_PERCENT" => FailureThreshold::UnboundedPercent(breaker.threshold_value),
        _ => FailureThreshold::BoundedPercent(breaker.threshold_value),
    };
    // A DRAINING service (DeleteService) only scales in, whatever its strategy: as a replica
    // service of zero tasks the planner stops every task it still has.
    let scheduling_strategy = match (record.status, configuration.scheduling_strategy) {
        (ServiceStatus::Draining, _) | (_, SchedulingStrategy::Replica) => berth_planner::SchedulingStrategy::Replica,
        (_, SchedulingStrategy::Daemon) => berth_planner::SchedulingStrategy::Daemon,
    };
    ServiceSpec {
        name: record.name.clone(),
        desired_count: if record.status == ServiceStatus::Draining { 0 } else { configuration.desired_count },
        scheduling_strategy,
        deployment_configuration: DeploymentConfiguration {
            minimum_healthy_percent: configuration.minimum_healthy_percent,
            maximum_percent: configuration.maximum_percent,
            circuit_breaker: CircuitBreaker {
                enable: breaker.enable,
                rollback: breaker.rollback,
                threshold,
                reset_on_healthy_task: breaker.reset_on_healthy_task,
            },
            alarms: configuration
                .deployment_alarms
                .as_ref()
                .map(|alarms| berth_planner::AlarmRollback { enable: alarms.enable, rollback: alarms.rollback })
                .unwrap_or_default(),
        },
        health_check_grace_period: Duration::from_secs(u64::from(configuration.health_check_grace_period_seconds)),
        task_sets: configuration.is_external().then(|| crate::task_sets::targets(record)),
        hold_previous: record.traffic.holds_previous(),
        hold_launches: record.traffic.holds_launches(),
    }
}

/// The service's deployment alarms now in ALARM, with when each went into it.
fn alarms_in_alarm(state: &State, record: &ServiceRecord) -> Vec<(String, berth_types::Timestamp)> {
    let Some(alarms) = record.configuration.deployment_alarms.as_ref().filter(|alarms| alarms.enable) else {
        return Vec::new();
    };
    alarms
        .alarm_names
        .iter()
        .filter_map(|name| state.alarms.alarms.get(name))
        .filter(|alarm| alarm.state == crate::cloudwatch::alarms::records::AlarmState::Alarm)
        .map(|alarm| (alarm.config.name.clone(), berth_types::Timestamp(alarm.state_transitioned_ms)))
        .collect()
}

/// A different seed every pass (the planner draws new task IDs from it).
fn pass_seed(record: &ServiceRecord) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    ServiceRecord::key(&record.cluster, &record.name).hash(&mut hasher);
    record.progress.revision.hash(&mut hasher);
    record.created_at.hash(&mut hasher);
    hasher.finish()
}

/// Books a placed copy on the working view so later launches of the pass see it.
/// ECS's explanation of an unplaceable task: the closest instance and what it lacks.
fn failure_detail(placements: &[Placement], instances: &[ContainerInstanceId]) -> String {
    let rejections = placements.iter().find_map(|placement| match placement {
        Placement::Unplaceable(rejections) => Some(rejections),
        Placement::Placed(_) => None,
    });
    let Some((index, rejection)) = rejections.and_then(|rejections| rejections.last()) else {
        return "No container instances were found in your cluster.".to_string();
    };
    let what = match rejection {
        Rejection::Memory => "has insufficient memory available",
        Rejection::Cpu => "has insufficient CPU units available",
        Rejection::Ports | Rejection::PortsUdp => "is already using a port required by your task",
        Rejection::AgentDisconnected => "has an agent that is not connected",
        Rejection::NotActive => "is not ACTIVE",
        Rejection::MemberOf => "does not satisfy the memberOf placement constraint",
        Rejection::DistinctInstance => "already runs a task of this service (distinctInstance)",
        Rejection::MissingAttribute => "is missing an attribute required by your task",
    };
    format!(
        "The closest matching (container-instance {}) {what}. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
        instances[*index]
    )
}

/// Runs service passes whenever something changes, when a planner asked to be woken, and at
/// least every `tick`, until the process ends.
pub async fn run_service_reconciler(control: Arc<ControlPlane>, tick: Duration) {
    loop {
        let wake_at = control.reconcile_services().await;
        // Daemons share the loop and its wake-ups (see `daemons::reconciler`).
        let wake_at = match (wake_at, control.reconcile_daemons().await) {
            (Some(services), Some(daemons)) => Some(services.min(daemons)),
            (services, daemons) => services.or(daemons),
        };
        let mut wait = tick;
        if let Some(wake_at) = wake_at {
            let until = Duration::from_millis(wake_at.0.saturating_sub(Timestamp::now().0).max(0) as u64);
            wait = wait.min(until.max(Duration::from_millis(10)));
        }
        tokio::select! {
            _ = control.service_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
