//! Task actions: RunTask (placement chooses), StartTask (the caller chooses), StopTask,
//! DescribeTasks and ListTasks, with RunTask's client-token idempotency.

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, IdempotencyRecord, State};
use crate::task_definitions::find_task_definition;
use crate::ControlPlane;
use berth_scheduler::{
    place, split_by_strategy, Expression, InstanceView, Placement, PlacementConstraint, PlacementRequest,
    PlacementStrategy, ProviderShare,
};
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::records::{ContainerState, TaskRecord};
use berth_types::spec::TaskSpec;
use berth_types::{
    Arn, ClusterName, ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, HealthStatus, Tag,
    TaskDefinitionFamily, TaskDefinitionStatus, TaskId, TaskStatus, TaskStopCode, Timestamp,
};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::Duration;

/// How long a RunTask client token is remembered (ECS: 24 hours).
pub const CLIENT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Where new tasks go.
#[derive(Debug, Clone)]
pub enum Target {
    /// RunTask: placement picks an instance for each copy.
    Placement { count: usize },
    /// StartTask: one copy on each named instance.
    Instances(Vec<ContainerInstanceId>),
}

/// A validated RunTask or StartTask.
#[derive(Debug, Clone)]
pub struct LaunchRequest {
    pub cluster: ClusterName,
    pub family: String,
    pub revision: u32,
    /// The definition's spec with overrides applied.
    pub spec: TaskSpec,
    pub overrides_document: serde_json::Value,
    pub target: Target,
    pub started_by: Option<String>,
    pub group: Option<String>,
    pub tags: Vec<Tag>,
    /// The client token and a fingerprint of every other parameter.
    pub idempotency: Option<(String, String)>,
    pub placement: PlacementOptions,
    /// `enableExecuteCommand`: the tasks accept ExecuteCommand.
    pub enable_execute_command: bool,
}

/// How RunTask asked for its tasks to be placed.
#[derive(Debug, Clone, Default)]
pub struct PlacementOptions {
    pub strategy: Vec<PlacementStrategy>,
    pub constraints: Vec<PlacementConstraint>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// A launch type was named, which rules out the cluster's default provider strategy.
    pub launch_type_given: bool,
}

/// The capacity provider strategy a launch uses: its own, else the cluster's default when it
/// named no launch type; every provider in it must be associated with the cluster.
pub(crate) fn effective_provider_strategy(
    state: &State,
    cluster: &ClusterName,
    requested: &[CapacityProviderStrategyItem],
    launch_type_given: bool,
) -> ControlResult<Vec<CapacityProviderStrategyItem>> {
    let cluster = active_cluster(state, cluster)?;
    let strategy = if !requested.is_empty() {
        requested.to_vec()
    } else if !launch_type_given {
        cluster.default_capacity_provider_strategy.clone()
    } else {
        vec![]
    };
    for item in &strategy {
        if !cluster.capacity_providers.contains(&item.capacity_provider) {
            return Err(ControlError::InvalidParameter(format!(
                "capacityProviderStrategy: the capacity provider {} is not associated with cluster {}.",
                item.capacity_provider, cluster.name
            )));
        }
    }
    Ok(strategy)
}

/// Places `request.count` copies, split across a capacity provider strategy when there is one
/// (`already` counts the group's live tasks per provider, so shares hold across calls). Each
/// placement carries the provider it launched through; indexes refer to `views`.
pub(crate) fn place_copies(
    views: &[InstanceView],
    request: &PlacementRequest,
    provider_strategy: &[CapacityProviderStrategyItem],
    already: &[u32],
    seed: u64,
) -> ControlResult<Vec<(Placement, Option<String>)>> {
    let invalid = |error: berth_scheduler::PlacementRequestError| ControlError::InvalidParameter(error.to_string());
    if provider_strategy.is_empty() {
        return Ok(place(views, request, seed)
            .map_err(invalid)?
            .into_iter()
            .map(|placement| (placement, None))
            .collect());
    }
    let shares: Vec<ProviderShare> =
        provider_strategy.iter().map(|item| ProviderShare { weight: item.weight, base: item.base }).collect();
    let split = split_by_strategy(&shares, already, request.count);
    let mut placements = Vec::with_capacity(request.count);
    for (item, copies) in provider_strategy.iter().zip(split).filter(|(_, copies)| *copies > 0) {
        // Instances outside the provider are not candidates at all; indexes map back.
        let members: Vec<usize> = (0..views.len())
            .filter(|index| views[*index].capacity_provider.as_deref() == Some(item.capacity_provider.as_str()))
            .collect();
        let member_views: Vec<InstanceView> = members.iter().map(|index| views[*index].clone()).collect();
        let member_request = PlacementRequest { count: copies, ..request.clone() };
        for placement in place(&member_views, &member_request, seed).map_err(invalid)? {
            let placement = match placement {
                Placement::Placed(index) => Placement::Placed(members[index]),
                Placement::Unplaceable(rejections) => Placement::Unplaceable(
                    rejections.into_iter().map(|(index, rejection)| (members[index], rejection)).collect(),
                ),
            };
            placements.push((placement, Some(item.capacity_provider.clone())));
        }
    }
    Ok(placements)
}

/// The attributes an instance must have to take the task: its definition's platform, with
/// those values, and the agent capabilities its `requiresAttributes` names, with any value.
pub(crate) fn required_attributes(spec: &TaskSpec) -> Vec<(String, Option<String>)> {
    let platform = spec.platform_attributes.iter().map(|(name, value)| (name.clone(), Some(value.clone())));
    platform.chain(spec.capability_attributes.iter().map(|name| (name.clone(), None))).collect()
}

/// A task that could not be launched, as ECS's `failures[]` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchFailure {
    pub arn: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct LaunchOutcome {
    pub tasks: Vec<TaskRecord>,
    pub failures: Vec<LaunchFailure>,
}

/// ListTasks filters; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub family: Option<String>,
    pub container_instance: Option<ContainerInstanceId>,
    pub started_by: Option<String>,
    pub group: Option<String>,
    pub desired_status: Option<DesiredStatus>,
    pub launch_type: Option<String>,
}

impl ControlPlane {
    pub async fn launch_tasks(&self, request: LaunchRequest) -> ControlResult<LaunchOutcome> {
        let seed: u64 = rand::random();
        let context = self.arn_context().clone();
        self.mutate(|state| {
            let _timer = self.metrics().placement("run_task");
            plan_launch(state, request, seed, &context)
        })
        .await
    }

    /// Asks the task's agent to stop it. Stopping a stopped task changes nothing.
    pub async fn stop_task(
        &self,
        cluster: &ClusterName,
        id: &TaskId,
        reason: Option<String>,
    ) -> ControlResult<TaskRecord> {
        self.mutate(|state| {
            active_cluster(state, cluster)?;
            let task = find_task(state, cluster, id)?;
            if task.desired_status == DesiredStatus::Stopped {
                return Ok((vec![], task.clone()));
            }
            let record = stopped_record(
                state,
                task,
                TaskStopCode::UserInitiated,
                reason.unwrap_or_else(|| "Task stopped by user".to_string()),
            );
            Ok((vec![Change::PutTask(record.clone())], record))
        })
        .await
    }

    pub fn list_tasks(&self, cluster: &ClusterName, filter: &TaskFilter) -> ControlResult<Vec<TaskId>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let desired = filter.desired_status.unwrap_or(DesiredStatus::Running);
        let candidates: Box<dyn Iterator<Item = &TaskRecord>> = match &filter.container_instance {
            Some(instance) => Box::new(state.tasks_on_instance(instance)),
            None => Box::new(state.tasks.values()),
        };
        Ok(candidates
            .filter(|task| &task.cluster == cluster && task.desired_status == desired)
            .filter(|task| filter.family.as_deref().is_none_or(|family| task.family.as_str() == family))
            .filter(|task| filter.started_by.as_deref().is_none_or(|by| task.started_by.as_deref() == Some(by)))
            .filter(|task| filter.group.as_deref().is_none_or(|group| task.group == group))
            .filter(|task| filter.launch_type.as_deref().is_none_or(|launch_type| task.launch_type == launch_type))
            .map(|task| task.id.clone())
            .collect())
    }

    pub async fn set_task_tags(&self, id: &TaskId, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = state.tasks.get(id).ok_or(ControlError::ResourceNotFound)?.clone();
            record.tags = tags;
            Ok((vec![Change::PutTask(record)], ()))
        })
        .await
    }
}

fn find_task<'a>(state: &'a State, cluster: &ClusterName, id: &TaskId) -> ControlResult<&'a TaskRecord> {
    state
        .tasks
        .get(id)
        .filter(|task| &task.cluster == cluster)
        .ok_or_else(|| ControlError::InvalidParameter("The referenced task was not found.".to_string()))
}

/// What a new task is made of; everything else starts at its initial value.
pub(crate) struct NewTask {
    pub id: TaskId,
    pub cluster: ClusterName,
    pub family: TaskDefinitionFamily,
    pub revision: u32,
    pub container_instance: ContainerInstanceId,
    pub spec: TaskSpec,
    pub overrides: serde_json::Value,
    pub started_by: Option<String>,
    pub group: String,
    pub capacity_provider: Option<String>,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
}

/// A freshly placed task: PROVISIONING, desired RUNNING, every container PENDING, version 1.
pub(crate) fn new_task_record(task: NewTask) -> TaskRecord {
    let containers = task
        .spec
        .containers
        .iter()
        .map(|container| ContainerState::new(container.name.clone(), TaskStatus::Pending))
        .collect();
    TaskRecord {
        id: task.id,
        cluster: task.cluster,
        family: task.family,
        revision: task.revision,
        container_instance: task.container_instance,
        demand: task.spec.resource_demand(),
        spec: task.spec,
        overrides: task.overrides,
        last_status: TaskStatus::Provisioning,
        desired_status: DesiredStatus::Running,
        started_by: task.started_by,
        group: task.group,
        launch_type: "EC2".to_string(),
        capacity_provider: task.capacity_provider,
        containers,
        health_status: HealthStatus::Unknown,
        created_at: task.created_at,
        pull_started_at: None,
        pull_stopped_at: None,
        started_at: None,
        stopping_at: None,
        stopped_at: None,
        execution_stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        version: 1,
        tags: task.tags,
        // Stamped when the launch is committed (see `agents::stamp_desired_generations`).
        desired_generation: 0,
        enable_execute_command: false,
        protected_until: None,
        deactivating_until: None,
        load_balancer_targets: vec![],
    }
}

/// The task asked to stop. Committing it also moves its instance's desired generation, so the
/// agent hears of it at once (`agents::stamp_desired_generations`).
pub(crate) fn stopped_record(state: &State, task: &TaskRecord, code: TaskStopCode, reason: String) -> TaskRecord {
    let now = Timestamp::now();
    let mut record = task.clone();
    record.desired_status = DesiredStatus::Stopped;
    record.stopping_at.get_or_insert(now);
    record.stop_code.get_or_insert(code);
    record.stopped_reason.get_or_insert(reason);
    let instance = state.instances.get(&task.container_instance);
    if instance.is_none_or(|instance| instance.status == ContainerInstanceStatus::Inactive) {
        // No agent will ever report on this task again: it is stopped as far as anyone can tell.
        record.last_status = TaskStatus::Stopped;
        record.stopped_at = Some(now);
    }
    record.version += 1;
    record
}

fn plan_launch(
    state: &State,
    request: LaunchRequest,
    seed: u64,
    context: &berth_types::ArnContext,
) -> ControlResult<(Vec<Change>, LaunchOutcome)> {
    active_cluster(state, &request.cluster)?;
    if let Some((token, fingerprint)) = &request.idempotency {
        if let Some(previous) = state.idempotency.get(&IdempotencyRecord::key(&request.cluster, token)) {
            let fresh = Timestamp::now().since(previous.created_at) < CLIENT_TOKEN_LIFETIME;
            if fresh {
                let task_arns: Vec<String> = previous
                    .task_ids
                    .iter()
                    .map(|id| Arn::Task(request.cluster.clone(), id.clone()).render(context))
                    .collect();
                if &previous.request_fingerprint != fingerprint {
                    return Err(ControlError::Conflict {
                        message: "The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical.".to_string(),
                        resource_ids: task_arns,
                    });
                }
                let tasks = previous.task_ids.iter().filter_map(|id| state.tasks.get(id).cloned()).collect();
                let failures = previous
                    .failures
                    .iter()
                    .map(|(arn, reason)| LaunchFailure {
                        arn: Some(arn.clone()).filter(|arn| !arn.is_empty()),
                        reason: reason.clone(),
                    })
                    .collect();
                return Ok((vec![], LaunchOutcome { tasks, failures }));
            }
        }
    }
    let definition = find_task_definition(state, &request.family, Some(request.revision))?;
    if definition.status != TaskDefinitionStatus::Active {
        return Err(ControlError::Client(format!(
            "TaskDefinition is inactive: {}:{}",
            request.family, request.revision
        )));
    }
    // Placement reads the cluster's maintained views; StartTask's few named instances are
    // copied out so that indexes refer to the caller's list.
    let cluster_views = state.views_of(&request.cluster).filter(|views| !views.ids.is_empty()).ok_or_else(|| {
        ControlError::InvalidParameter("No Container Instances were found in your cluster.".to_string())
    })?;
    let (ids, views): (Cow<[ContainerInstanceId]>, Cow<[InstanceView]>) = match &request.target {
        Target::Placement { .. } => (Cow::Borrowed(&cluster_views.ids), Cow::Borrowed(&cluster_views.views)),
        Target::Instances(requested) => {
            let mut views = Vec::with_capacity(requested.len());
            for id in requested {
                let position = cluster_views.position(id).ok_or_else(|| {
                    ControlError::InvalidParameter(format!(
                        "containerInstances: {id} is not a container instance of this cluster."
                    ))
                })?;
                views.push(cluster_views.views[position].clone());
            }
            (Cow::Owned(requested.clone()), Cow::Owned(views))
        }
    };
    let demand = request.spec.resource_demand();
    let group = request.group.clone().unwrap_or_else(|| format!("family:{}", definition.family));
    // Each entry: the placement of one copy and the capacity provider it launched through.
    let mut placements: Vec<(Placement, Option<String>)> = Vec::new();
    match &request.target {
        Target::Placement { count } => {
            let mut constraints = request.placement.constraints.clone();
            for expression in &request.spec.placement_constraints {
                let parsed = Expression::parse(expression).map_err(|error| {
                    ControlError::InvalidParameter(format!("task definition placementConstraints: {error}"))
                })?;
                constraints.push(PlacementConstraint::MemberOf(parsed));
            }
            let placement_request = |count: usize| PlacementRequest {
                demand: demand.clone(),
                count,
                group: group.clone(),
                constraints: constraints.clone(),
                strategy: request.placement.strategy.clone(),
                required_attributes: required_attributes(&request.spec),
            };
            let provider_strategy = effective_provider_strategy(
                state,
                &request.cluster,
                &request.placement.capacity_provider_strategy,
                request.placement.launch_type_given,
            )?;
            let already = vec![0; provider_strategy.len()];
            placements = place_copies(&views, &placement_request(*count), &provider_strategy, &already, seed)?;
        }
        Target::Instances(_) => {
            // StartTask: the caller chose the instances; only feasibility is checked.
            for (index, view) in views.iter().enumerate() {
                let single = PlacementRequest {
                    demand: demand.clone(),
                    count: 1,
                    group: group.clone(),
                    constraints: vec![],
                    strategy: vec![],
                    required_attributes: required_attributes(&request.spec),
                };
                let placed = place(std::slice::from_ref(view), &single, seed)
                    .map_err(|error| ControlError::InvalidParameter(error.to_string()))?;
                let placement = match placed.into_iter().next() {
                    Some(Placement::Placed(_)) => Placement::Placed(index),
                    Some(Placement::Unplaceable(rejections)) => Placement::Unplaceable(
                        rejections.into_iter().map(|(_, rejection)| (index, rejection)).collect(),
                    ),
                    None => Placement::Unplaceable(vec![]),
                };
                placements.push((placement, None));
            }
        }
    }
    let now = Timestamp::now();
    let mut changes = Vec::new();
    let mut tasks = Vec::new();
    let mut failures = Vec::new();
    let mut rejected_instances = BTreeSet::new();
    for (placement, capacity_provider) in placements {
        match placement {
            Placement::Placed(index) => {
                let instance = &ids[index];
                let mut task = new_task_record(NewTask {
                    id: TaskId::generate(),
                    cluster: request.cluster.clone(),
                    family: definition.family.clone(),
                    revision: definition.revision,
                    container_instance: instance.clone(),
                    spec: crate::account_settings::with_default_log_driver_mode(state, request.spec.clone()),
                    overrides: request.overrides_document.clone(),
                    started_by: request.started_by.clone(),
                    group: group.clone(),
                    capacity_provider,
                    tags: request.tags.clone(),
                    created_at: now,
                });
                task.enable_execute_command = request.enable_execute_command;
                changes.push(Change::PutTask(task.clone()));
                tasks.push(task);
            }
            Placement::Unplaceable(rejections) => {
                for (index, rejection) in rejections {
                    let instance = &ids[index];
                    if rejected_instances.insert(instance.clone()) {
                        failures.push(LaunchFailure {
                            arn: Some(
                                Arn::ContainerInstance(request.cluster.clone(), instance.clone()).render(context),
                            ),
                            reason: rejection.reason().to_string(),
                        });
                    }
                }
            }
        }
    }
    if let Some((token, fingerprint)) = request.idempotency {
        changes.push(Change::PutIdempotency(IdempotencyRecord {
            cluster: request.cluster.clone(),
            token,
            request_fingerprint: fingerprint,
            task_ids: tasks.iter().map(|task| task.id.clone()).collect(),
            failures: failures
                .iter()
                .map(|failure| (failure.arn.clone().unwrap_or_default(), failure.reason.clone()))
                .collect(),
            created_at: now,
        }));
    }
    Ok((changes, LaunchOutcome { tasks, failures }))
}

impl ControlPlane {
    /// Like [`ControlPlane::describe_tasks`] but lends the records to `render` under the read
    /// lock instead of cloning them: DescribeTasks is the hottest read, and a task record with
    /// its spec is not cheap to copy.
    pub fn with_described_tasks<R>(
        &self,
        cluster: &ClusterName,
        ids: &[TaskId],
        render: impl FnOnce(&[&TaskRecord], &[TaskId]) -> R,
    ) -> ControlResult<R> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match state.tasks.get(id).filter(|task| &task.cluster == cluster) {
                Some(task) => found.push(task),
                None => missing.push(id.clone()),
            }
        }
        Ok(render(&found, &missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{add_instance, cluster_with_instance, control_plane, name, run_web};
    use berth_types::records::CapacityProviderStrategyItem;

    #[tokio::test]
    async fn run_task_places_until_memory_runs_out_and_says_why() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 4096, 200).await;
        let outcome = control.launch_tasks(run_web("prod", 4, None)).await.unwrap();
        assert_eq!(outcome.tasks.len(), 3, "64 MiB each fits three times in 200 MiB");
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].reason, "RESOURCE:MEMORY");
        let task = &outcome.tasks[0];
        assert_eq!(task.last_status, TaskStatus::Provisioning);
        assert_eq!(task.desired_status, DesiredStatus::Running);
        assert_eq!(task.group, "family:web");
        let (described, _) =
            control.describe_container_instances(&name("prod"), std::slice::from_ref(&instance.record.id)).unwrap();
        assert_eq!(described[0].remaining.memory, 200 - 3 * 64);
        assert_eq!(described[0].remaining.cpu, 4096 - 3 * 128);
        assert_eq!(described[0].pending_tasks, 3);
    }

    #[tokio::test]
    async fn client_token_replays_and_conflicts() {
        let control = control_plane();
        cluster_with_instance(&control, "prod", 4096, 4096).await;
        let first = control.launch_tasks(run_web("prod", 2, Some(("token-1", "a")))).await.unwrap();
        let replay = control.launch_tasks(run_web("prod", 2, Some(("token-1", "a")))).await.unwrap();
        let ids = |outcome: &LaunchOutcome| outcome.tasks.iter().map(|task| task.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&replay), "same token and parameters: the same tasks, none new");
        assert_eq!(control.list_tasks(&name("prod"), &TaskFilter::default()).unwrap().len(), 2);
        match control.launch_tasks(run_web("prod", 2, Some(("token-1", "b")))).await {
            Err(ControlError::Conflict { resource_ids, .. }) => assert_eq!(resource_ids.len(), 2),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn stop_task_records_the_user_and_wakes_the_agent() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 4096, 4096).await;
        let task = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks.remove(0);
        let before = control.desired_document(&instance.record.id, None).generation;
        let stopped = control.stop_task(&name("prod"), &task.id, None).await.unwrap();
        assert_eq!(stopped.desired_status, DesiredStatus::Stopped);
        assert_eq!(stopped.stop_code, Some(TaskStopCode::UserInitiated));
        assert_eq!(stopped.stopped_reason.as_deref(), Some("Task stopped by user"));
        assert!(stopped.version > task.version);
        assert!(control.desired_document(&instance.record.id, None).generation > before);
        let filter = TaskFilter { desired_status: Some(DesiredStatus::Stopped), ..Default::default() };
        assert_eq!(control.list_tasks(&name("prod"), &filter).unwrap(), vec![task.id]);
    }

    #[tokio::test]
    async fn draining_instances_take_nothing_new() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 4096, 4096).await;
        control
            .update_container_instances_state(
                &name("prod"),
                std::slice::from_ref(&instance.record.id),
                ContainerInstanceStatus::Draining,
            )
            .await
            .unwrap();
        let outcome = control.launch_tasks(run_web("prod", 1, None)).await.unwrap();
        assert!(outcome.tasks.is_empty());
        assert_eq!(outcome.failures[0].reason, "INACTIVE");
    }

    #[tokio::test]
    async fn member_of_and_spread_steer_placement() {
        let control = control_plane();
        let first = cluster_with_instance(&control, "prod", 4096, 4096).await.record.id;
        let blue = add_instance(&control, "prod", "i-blue", &[("stack", "blue")], None).await;
        let mut request = run_web("prod", 3, None);
        request.placement.constraints =
            vec![PlacementConstraint::MemberOf(Expression::parse("attribute:stack == blue").unwrap())];
        let outcome = control.launch_tasks(request).await.unwrap();
        assert!(outcome.tasks.iter().all(|task| task.container_instance == blue));

        let mut spread = run_web("prod", 4, None);
        spread.placement.strategy = vec![PlacementStrategy::from_wire("spread", Some("instanceId")).unwrap()];
        spread.group = Some("spread-group".into());
        let outcome = control.launch_tasks(spread).await.unwrap();
        let on_first = outcome.tasks.iter().filter(|task| task.container_instance == first).count();
        assert_eq!(on_first, 2, "spread puts two of four on each instance");

        let mut nowhere = run_web("prod", 1, None);
        nowhere.placement.constraints =
            vec![PlacementConstraint::MemberOf(Expression::parse("attribute:stack == red").unwrap())];
        let outcome = control.launch_tasks(nowhere).await.unwrap();
        assert!(outcome.tasks.is_empty());
        assert!(outcome.failures.iter().all(|failure| failure.reason == "MemberOf placement constraint unsatisfied"));
    }

    #[tokio::test]
    async fn capacity_provider_strategy_splits_base_then_weight() {
        let control = control_plane();
        cluster_with_instance(&control, "prod", 4096, 4096).await;
        let on_demand = add_instance(&control, "prod", "i-od", &[], Some("on-demand")).await;
        let spot = add_instance(&control, "prod", "i-spot", &[], Some("spot")).await;
        for provider in ["on-demand", "spot"] {
            control.create_capacity_provider(provider.into(), None, vec![]).await.unwrap();
        }
        let strategy = vec![
            CapacityProviderStrategyItem { capacity_provider: "on-demand".into(), weight: 1, base: 1 },
            CapacityProviderStrategyItem { capacity_provider: "spot".into(), weight: 4, base: 0 },
        ];
        let mut request = run_web("prod", 6, None);
        request.placement.capacity_provider_strategy = strategy.clone();
        assert!(control.launch_tasks(request.clone()).await.is_err(), "providers must be associated with the cluster");
        control
            .put_cluster_capacity_providers(&name("prod"), vec!["on-demand".into(), "spot".into()], vec![])
            .await
            .unwrap();
        let outcome = control.launch_tasks(request).await.unwrap();
        let count = |instance: &ContainerInstanceId| {
            outcome.tasks.iter().filter(|task| &task.container_instance == instance).count()
        };
        assert_eq!((count(&on_demand), count(&spot)), (2, 4));
        assert!(outcome.tasks.iter().all(|task| task.capacity_provider.is_some()));
    }
}
