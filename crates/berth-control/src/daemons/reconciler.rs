//! The daemon pass: for each daemon, the same pure planner as a DAEMON service
//! (`berth_planner::plan`) over the cluster's instances — only those that joined one of the
//! daemon's capacity providers satisfy its constraints — then the plan executed in one
//! durable write: launches on the instances the planner named, stops, the planner's progress,
//! and the daemon's deployments moved to their new status.
//!
//! It runs inside the service reconciler's loop (`run_service_reconciler`), so it wakes on the
//! same changes (instances joining, task reports) without a second wake-up channel.
//!
//! Invariant: as for services, a pass takes no hints and a pass over an unchanged world writes
//! nothing. A deleted daemon is planned as a service scaled to zero; once none of its tasks is
//! left, its deletion deployment succeeds and the daemon record goes in the same write.

use super::records::{DaemonDeploymentStatus, DaemonRecord, DaemonStatus};
use super::task_definitions::find_daemon_task_definition;
use super::DaemonChange;
use crate::error::ControlResult;
use crate::placement_views::ClusterViews;
use crate::state::{Change, State};
use crate::tasks::{new_task_record, required_attributes, stopped_record, NewTask};
use crate::ControlPlane;
use berth_planner::{
    CircuitBreaker, DeploymentConfiguration, DeploymentStatus, Plan, RolloutState, SchedulingStrategy, ServiceSpec,
    Snapshot, TaskView,
};
use berth_scheduler::{place, Placement, PlacementRequest};
use berth_types::{ClusterName, DaemonName, DesiredStatus, ServiceName, Timestamp};
use std::hash::{Hash, Hasher};
use std::time::Duration;

impl ControlPlane {
    /// One pass over every daemon; returns the earliest time a planner asked to be woken at.
    pub async fn reconcile_daemons(&self) -> Option<Timestamp> {
        let _timer = self.metrics().reconciler_pass("daemon");
        let daemons: Vec<(ClusterName, DaemonName)> = {
            let state = self.read();
            state.daemons.daemons.values().map(|record| (record.cluster.clone(), record.name.clone())).collect()
        };
        let mut earliest: Option<Timestamp> = None;
        for (cluster, name) in daemons {
            match self.reconcile_daemon(&cluster, &name).await {
                Ok(Some(wake_at)) => earliest = Some(earliest.map_or(wake_at, |current| current.min(wake_at))),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%cluster, daemon = %name, %error, "daemon pass failed; the next one retries")
                }
            }
        }
        let deletions =
            self.mutate_with(false, |state| Ok((super::task_definitions::finished_deletions(state), ()))).await;
        if let Err(error) = deletions {
            tracing::warn!(%error, "finishing daemon task definition deletions failed; the next pass retries");
        }
        earliest
    }

    async fn reconcile_daemon(&self, cluster: &ClusterName, name: &DaemonName) -> ControlResult<Option<Timestamp>> {
        let key = DaemonRecord::key(cluster, name);
        self.mutate_with(false, |state| {
            let Some(record) = state.daemons.daemons.get(&key) else { return Ok((vec![], None)) };
            Ok(self.daemon_pass(state, record))
        })
        .await
    }

    fn daemon_pass(&self, state: &State, record: &DaemonRecord) -> (Vec<Change>, Option<Timestamp>) {
        let now = Timestamp::now();
        let group = DaemonRecord::group(&record.name);
        let tasks: Vec<TaskView> = state
            .tasks_in_group(&record.cluster, &group)
            .filter_map(crate::service_reconciler::planner_task_view)
            // Daemons, like DAEMON services, ignore scale-in protection.
            .map(|view| TaskView { protected_until: None, ..view })
            .collect();
        let no_instances = ClusterViews::default();
        let cluster_views = state.views_of(&record.cluster).unwrap_or(&no_instances);
        let providers = &record.configuration.capacity_providers;
        let instances = cluster_views
            .ids
            .iter()
            .zip(&cluster_views.views)
            .map(|(id, view)| berth_planner::InstanceView {
                id: id.clone(),
                status: view.status,
                agent_connected: view.agent_connected,
                lost: self.instance_lost(state, id),
                satisfies_constraints: state
                    .instances
                    .get(id)
                    .and_then(|instance| instance.capacity_provider.as_ref())
                    .is_some_and(|provider| providers.contains(provider)),
            })
            .collect();
        let snapshot = Snapshot {
            service: daemon_spec(record),
            progress: record.progress.clone(),
            tasks,
            instances,
            placement_failure: None,
            alarms_in_alarm: Vec::new(),
            now,
            seed: pass_seed(record),
            settings: self.config().planner,
        };
        let plan = berth_planner::plan(&snapshot);
        let wake_at = plan.wake_at;
        (self.execute_daemon_plan(state, record, plan, cluster_views, now), wake_at)
    }

    fn execute_daemon_plan(
        &self,
        state: &State,
        record: &DaemonRecord,
        plan: Plan,
        cluster_views: &ClusterViews,
        now: Timestamp,
    ) -> Vec<Change> {
        let group = DaemonRecord::group(&record.name);
        let mut changes = Vec::new();
        for launch in &plan.launches {
            // The DAEMON planner always names the instance; nothing else is launched.
            let Some(index) = launch.instance.as_ref().and_then(|instance| cluster_views.position(instance)) else {
                continue;
            };
            let key = &launch.task_definition;
            let Ok(definition) = find_daemon_task_definition(state, key.family.as_str(), Some(key.revision)) else {
                continue;
            };
            let demand = definition.spec.resource_demand();
            let request = PlacementRequest {
                demand,
                count: 1,
                group: group.clone(),
                constraints: vec![],
                strategy: vec![],
                required_attributes: required_attributes(&definition.spec),
            };
            let fits = matches!(
                place(std::slice::from_ref(&cluster_views.views[index]), &request, 0).as_deref(),
                Ok([Placement::Placed(_)])
            );
            if !fits {
                continue;
            }
            let instance = &cluster_views.ids[index];
            let configuration = &record.configuration;
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
                capacity_provider: state
                    .instances
                    .get(instance)
                    .and_then(|instance| instance.capacity_provider.clone()),
                tags: if configuration.propagate_tags { record.tags.clone() } else { vec![] },
                created_at: now,
            });
            task.enable_execute_command = configuration.enable_execute_command;
            changes.push(Change::PutTask(task));
        }
        for stop in &plan.stops {
            if let Some(task) =
                state.tasks.get(&stop.task_id).filter(|task| task.desired_status == DesiredStatus::Running)
            {
                changes.push(Change::PutTask(stopped_record(state, task, stop.reason.code(), stop.reason.text())));
            }
        }
        let mut unchanged_progress = plan.progress.clone();
        unchanged_progress.revision = record.progress.revision;
        let progress_moved = unchanged_progress != record.progress;
        let mut updated = record.clone();
        updated.progress = plan.progress;
        changes.extend(self.moved_deployments(state, &updated, now));
        let live = state.tasks_in_group(&record.cluster, &group).any(|task| task.holds_resources());
        if record.status == DaemonStatus::DeleteInProgress && !live && plan.launches.is_empty() {
            changes.push(Change::Daemon(DaemonChange::DeleteDaemon(DaemonRecord::key(&record.cluster, &record.name))));
        } else if progress_moved || !changes.is_empty() {
            changes.push(Change::Daemon(DaemonChange::PutDaemon(Box::new(updated))));
        }
        changes
    }

    /// The daemon's open deployments, moved on: a rollout the planner completed is SUCCESSFUL;
    /// a deletion is SUCCESSFUL once no task of the daemon is left.
    fn moved_deployments(&self, state: &State, daemon: &DaemonRecord, now: Timestamp) -> Vec<Change> {
        let group = DaemonRecord::group(&daemon.name);
        // A deletion plans no launches, so the tasks already in the state are all there are.
        let live = state.tasks_in_group(&daemon.cluster, &group).any(|task| task.holds_resources());
        let mut changes = Vec::new();
        for deployment in state.daemons.deployments_of(daemon).filter(|deployment| deployment.status.is_open()) {
            let finished = match &deployment.target_revision {
                None => !live,
                Some(_) => deployment.planner_id().is_some_and(|id| {
                    daemon.progress.deployments.iter().any(|planned| {
                        planned.id == id
                            && planned.status == DeploymentStatus::Primary
                            && planned.rollout_state == RolloutState::Completed
                    })
                }),
            };
            if finished {
                let mut moved = deployment.clone();
                moved.status = DaemonDeploymentStatus::Successful;
                moved.status_reason = match &deployment.target_revision {
                    Some(_) => format!("ECS deployment ecs-svc/{} completed.", deployment.id),
                    None => "The daemon's tasks have stopped; the daemon is deleted.".to_string(),
                };
                moved.finished_at = Some(now);
                changes.push(Change::Daemon(DaemonChange::PutDeployment(Box::new(moved))));
            }
        }
        changes
    }
}

/// The daemon as the planner sees a service: DAEMON while ACTIVE, a replica service of zero
/// tasks while it is being deleted. `drainPercent` bounds how many instances roll at once.
fn daemon_spec(record: &DaemonRecord) -> ServiceSpec {
    let deleting = record.status == DaemonStatus::DeleteInProgress;
    let drain = record.configuration.deployment.drain_percent.clamp(0.0, 100.0);
    ServiceSpec {
        name: ServiceName::parse(record.name.as_str()).expect("daemon names follow the same rules as service names"),
        desired_count: 0,
        scheduling_strategy: if deleting { SchedulingStrategy::Replica } else { SchedulingStrategy::Daemon },
        deployment_configuration: DeploymentConfiguration {
            minimum_healthy_percent: (100.0 - drain).floor() as u32,
            maximum_percent: 100,
            circuit_breaker: CircuitBreaker::default(),
            alarms: Default::default(),
        },
        health_check_grace_period: Duration::ZERO,
        task_sets: None,
        hold_previous: false,
        hold_launches: false,
    }
}

/// A different seed every pass (the planner draws new task IDs from it).
fn pass_seed(record: &DaemonRecord) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    "daemon".hash(&mut hasher);
    DaemonRecord::key(&record.cluster, &record.name).hash(&mut hasher);
    record.progress.revision.hash(&mut hasher);
    record.created_at.hash(&mut hasher);
    hasher.finish()
}
