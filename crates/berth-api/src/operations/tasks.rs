//! RunTask, StartTask, StopTask, DescribeTasks, ListTasks.

use crate::error::{ApiError, ApiResult};
use crate::{parse, placement, render, Api};
use berth_control::tasks::{LaunchOutcome, LaunchRequest, PlacementOptions, Target, TaskFilter};
use berth_ecs_wire as wire;
use berth_types::{Arn, ClusterName, DesiredStatus};

/// The members RunTask and StartTask share, checked the same way.
struct LaunchMembers<'a> {
    cluster: ClusterName,
    task_definition: &'a str,
    overrides: Option<&'a wire::TaskOverride>,
    started_by: Option<&'a String>,
    group: Option<&'a String>,
    tags: Option<&'a Vec<wire::Tag>>,
    enable_execute_command: Option<bool>,
    /// RunTask's `propagateTags` and `enableECSManagedTags` (StartTask has neither).
    propagate_tags: Option<wire::PropagateTags>,
    enable_ecs_managed_tags: bool,
}

/// The tags a new task gets: the request's, then — with `propagateTags: TASK_DEFINITION` —
/// the definition's keys the request did not set, then with `enableECSManagedTags` ECS's own
/// `aws:ecs:clusterName`.
fn task_tags(
    members: &LaunchMembers<'_>,
    definition: &berth_types::records::TaskDefinitionRecord,
) -> ApiResult<Vec<berth_types::Tag>> {
    let mut tags = berth_ecs_convert::parse_tags(members.tags)?;
    match members.propagate_tags {
        Some(wire::PropagateTags::TaskDefinition) => {
            for tag in &definition.tags {
                if !tags.iter().any(|given| given.key == tag.key) {
                    tags.push(tag.clone());
                }
            }
        }
        Some(wire::PropagateTags::Service) => {
            return Err(ApiError::invalid_parameter(
                "propagateTags: SERVICE applies to services' tasks; RunTask takes TASK_DEFINITION or NONE",
            ))
        }
        Some(wire::PropagateTags::None) | None => {}
    }
    if members.enable_ecs_managed_tags {
        tags.push(berth_types::Tag { key: "aws:ecs:clusterName".into(), value: members.cluster.to_string() });
    }
    Ok(tags)
}

async fn launch(
    api: &Api,
    members: LaunchMembers<'_>,
    target: Target,
    idempotency: Option<(String, String)>,
    placement: PlacementOptions,
) -> ApiResult<LaunchOutcome> {
    let context = api.context();
    if let Some(started_by) = members.started_by {
        if started_by.len() > 128 {
            return Err(ApiError::invalid_parameter("startedBy: must be at most 128 characters"));
        }
    }
    if let Some(group) = members.group {
        if group.is_empty() || group.len() > 255 {
            return Err(ApiError::invalid_parameter("group: must be 1 to 255 characters"));
        }
    }
    let (family, revision) = parse::task_definition(members.task_definition, context, "taskDefinition")?;
    let definition = api.control.describe_task_definition(&family, revision)?;
    let (spec, overrides_document) = berth_ecs_convert::apply_overrides(&definition.spec, members.overrides)?;
    let tags = task_tags(&members, &definition)?;
    Ok(api
        .control
        .launch_tasks(LaunchRequest {
            cluster: members.cluster,
            family,
            revision: definition.revision,
            spec,
            overrides_document,
            target,
            started_by: members.started_by.cloned(),
            group: members.group.cloned(),
            tags,
            idempotency,
            placement,
            enable_execute_command: members.enable_execute_command.unwrap_or(false),
        })
        .await?)
}

fn render_outcome(api: &Api, outcome: &LaunchOutcome) -> (Vec<wire::Task>, Vec<wire::Failure>) {
    let context = api.context();
    (
        outcome.tasks.iter().map(|task| render::task(task, context, true)).collect(),
        outcome.failures.iter().map(|failure| render::failure(failure.arn.clone(), &failure.reason)).collect(),
    )
}

fn unsupported(field: &str, present: bool) -> ApiResult<()> {
    if present {
        return Err(ApiError::invalid_parameter(format!("{field}: not supported by this Berth version yet")));
    }
    Ok(())
}

/// What RunTask checks of a request before it reads the cluster or the task definition;
/// EventBridge Scheduler checks a schedule's target with it when the schedule is written.
pub(crate) fn check_static(request: &wire::RunTaskRequest, context: &berth_types::ArnContext) -> ApiResult<()> {
    let count = request.count.unwrap_or(1);
    if !(1..=10).contains(&count) {
        return Err(ApiError::invalid_parameter(format!("count: must be between 1 and 10, got {count}")));
    }
    if let Some(launch_type) = request.launch_type {
        if !matches!(launch_type, wire::LaunchType::Ec2 | wire::LaunchType::External) {
            return Err(ApiError::invalid_parameter(format!(
                "launchType: {launch_type} is not available on this cluster; use EC2"
            )));
        }
    }
    unsupported("networkConfiguration", request.network_configuration.is_some())?;
    placement_options(request)?;
    parse::task_definition(request.task_definition.as_deref().unwrap_or_default(), context, "taskDefinition")?;
    if request.group.as_ref().is_some_and(|group| group.is_empty() || group.len() > 255) {
        return Err(ApiError::invalid_parameter("group: must be 1 to 255 characters"));
    }
    berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    Ok(())
}

/// RunTask's placement members: strategies (at most 5), constraints (at most 10) and a capacity
/// provider strategy, which excludes a launch type.
fn placement_options(request: &wire::RunTaskRequest) -> ApiResult<PlacementOptions> {
    let strategy =
        placement::strategies(request.placement_strategy.as_ref())?.into_iter().map(|(_, parsed)| parsed).collect();
    let constraints =
        placement::constraints(request.placement_constraints.as_ref())?.into_iter().map(|(_, parsed)| parsed).collect();
    let capacity_provider_strategy =
        super::capacity_providers::strategy(request.capacity_provider_strategy.as_ref(), "capacityProviderStrategy")?;
    if request.launch_type.is_some() && !capacity_provider_strategy.is_empty() {
        return Err(ApiError::invalid_parameter("launchType and capacityProviderStrategy cannot both be specified"));
    }
    Ok(PlacementOptions {
        strategy,
        constraints,
        capacity_provider_strategy,
        launch_type_given: request.launch_type.is_some(),
    })
}

pub async fn run_task(api: &Api, request: wire::RunTaskRequest) -> ApiResult<wire::RunTaskResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let count = request.count.unwrap_or(1);
    if !(1..=10).contains(&count) {
        return Err(ApiError::invalid_parameter(format!("count: must be between 1 and 10, got {count}")));
    }
    if let Some(launch_type) = request.launch_type {
        if !matches!(launch_type, wire::LaunchType::Ec2 | wire::LaunchType::External) {
            return Err(ApiError::invalid_parameter(format!(
                "launchType: {launch_type} is not available on this cluster; use EC2"
            )));
        }
    }
    unsupported("networkConfiguration", request.network_configuration.is_some())?;
    let placement = placement_options(&request)?;
    let idempotency = match &request.client_token {
        Some(token) => {
            if token.is_empty() || token.len() > 64 || !token.bytes().all(|byte| (33..=126).contains(&byte)) {
                return Err(ApiError::invalid_parameter(
                    "clientToken: must be 1 to 64 ASCII characters in the range 33-126",
                ));
            }
            let fingerprint = serde_json::to_string(&wire::RunTaskRequest { client_token: None, ..request.clone() })
                .expect("requests always serialise");
            Some((token.clone(), fingerprint))
        }
        None => None,
    };
    let task_definition = request.task_definition.as_deref().unwrap_or_default();
    let members = LaunchMembers {
        cluster,
        task_definition,
        overrides: request.overrides.as_ref(),
        started_by: request.started_by.as_ref(),
        group: request.group.as_ref(),
        tags: request.tags.as_ref(),
        enable_execute_command: request.enable_execute_command,
        propagate_tags: request.propagate_tags,
        enable_ecs_managed_tags: request.enable_ecs_managed_tags.unwrap_or(false),
    };
    let outcome = launch(api, members, Target::Placement { count: count as usize }, idempotency, placement).await?;
    let (tasks, failures) = render_outcome(api, &outcome);
    Ok(wire::RunTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn start_task(api: &Api, request: wire::StartTaskRequest) -> ApiResult<wire::StartTaskResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    unsupported("networkConfiguration", request.network_configuration.is_some())?;
    let instances =
        parse::container_instances(request.container_instances.as_ref(), 10, &cluster, context, "containerInstances")?;
    let task_definition = request.task_definition.as_deref().unwrap_or_default();
    let members = LaunchMembers {
        cluster,
        task_definition,
        overrides: request.overrides.as_ref(),
        started_by: request.started_by.as_ref(),
        group: request.group.as_ref(),
        tags: request.tags.as_ref(),
        enable_execute_command: request.enable_execute_command,
        propagate_tags: request.propagate_tags,
        enable_ecs_managed_tags: request.enable_ecs_managed_tags.unwrap_or(false),
    };
    let outcome = launch(api, members, Target::Instances(instances), None, PlacementOptions::default()).await?;
    let (tasks, failures) = render_outcome(api, &outcome);
    Ok(wire::StartTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn stop_task(api: &Api, request: wire::StopTaskRequest) -> ApiResult<wire::StopTaskResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let id = parse::task(request.task.as_deref().unwrap_or_default(), &cluster, context, "task")?;
    if request.reason.as_ref().is_some_and(|reason| reason.len() > 255) {
        return Err(ApiError::invalid_parameter("reason: must be at most 255 characters"));
    }
    let task = api.control.stop_task(&cluster, &id, request.reason).await?;
    Ok(wire::StopTaskResponse { task: Some(render::task(&task, context, false)) })
}

/// DescribeTasks answers with bytes: each task's rendering is cached per version (see
/// [`crate::task_cache`]), so the hottest read never re-renders an unchanged task.
pub async fn describe_tasks(api: &Api, request: wire::DescribeTasksRequest) -> ApiResult<Vec<u8>> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let references = parse::bounded(request.tasks.as_ref(), 100, "tasks", true)?;
    let ids = references
        .iter()
        .enumerate()
        .map(|(index, reference)| parse::task(reference, &cluster, context, &format!("tasks[{index}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    let include_tags = request.include.unwrap_or_default().contains(&wire::TaskField::Tags);
    Ok(api.control.with_described_tasks(&cluster, &ids, |found, missing| {
        let failures: Vec<wire::Failure> = missing
            .iter()
            .map(|id| render::failure(Some(Arn::Task(cluster.clone(), id.clone()).render(context)), "MISSING"))
            .collect();
        let mut body = Vec::with_capacity(64 + found.len() * 1536);
        body.extend_from_slice(b"{\"tasks\":[");
        for (index, task) in found.iter().enumerate() {
            if index > 0 {
                body.push(b',');
            }
            if include_tags {
                serde_json::to_writer(&mut body, &render::task(task, context, true)).expect("tasks always serialise");
            } else {
                body.extend_from_slice(&api.task_cache.rendered(task, context));
            }
        }
        body.extend_from_slice(b"],\"failures\":");
        serde_json::to_writer(&mut body, &failures).expect("failures always serialise");
        body.push(b'}');
        body
    })?)
}

pub async fn list_tasks(api: &Api, request: wire::ListTasksRequest) -> ApiResult<wire::ListTasksResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    if request.family.is_some() && request.service_name.is_some() {
        return Err(ApiError::invalid_parameter("family and serviceName cannot be given together"));
    }
    let container_instance = request
        .container_instance
        .as_deref()
        .map(|reference| parse::container_instance(reference, &cluster, context, "containerInstance"))
        .transpose()?;
    let desired_status = match request.desired_status {
        None => None,
        Some(wire::DesiredStatus::Running) => Some(DesiredStatus::Running),
        Some(wire::DesiredStatus::Stopped) => Some(DesiredStatus::Stopped),
        // ECS accepts PENDING but never sets it, so nothing matches.
        Some(wire::DesiredStatus::Pending) => {
            return Ok(wire::ListTasksResponse { task_arns: Some(vec![]), next_token: None });
        }
    };
    let filter = TaskFilter {
        family: request.family.clone(),
        container_instance,
        started_by: request.started_by.clone(),
        group: request.service_name.as_ref().map(|name| format!("service:{name}")),
        desired_status,
        launch_type: request.launch_type.map(|launch_type| launch_type.as_str().to_string()),
    };
    let arns: Vec<String> = api
        .control
        .list_tasks(&cluster, &filter)?
        .into_iter()
        .map(|id| Arn::Task(cluster.clone(), id).render(context))
        .collect();
    let (page, next_token) = parse::page(&arns, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListTasksResponse { task_arns: Some(page), next_token })
}
