//! CreateTaskSet, DescribeTaskSets, UpdateTaskSet, UpdateServicePrimaryTaskSet, DeleteTaskSet:
//! the EXTERNAL deployment controller's API.

use super::services::{client_token, compute_option, service_name};
use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::task_sets::{CreateTaskSet, TaskSetView};
use berth_ecs_wire as wire;
use berth_planner::{DeploymentId, TaskDefinitionKey};
use berth_types::{ArnContext, ClusterName, ServiceName};

/// The cluster and service every task set operation names.
fn service_of(api: &Api, cluster: Option<&String>, service: Option<&str>) -> ApiResult<(ClusterName, ServiceName)> {
    let cluster = parse::cluster(cluster, api.context())?;
    let service = service_name(service, api, &cluster, "service")?;
    Ok((cluster, service))
}

/// A task set ID (`ecs-svc/…`) or its ARN, which must be of this cluster and service.
fn task_set_id(
    value: Option<&str>,
    cluster: &ClusterName,
    service: &ServiceName,
    context: &ArnContext,
    field: &str,
) -> ApiResult<DeploymentId> {
    let value = value.unwrap_or_default();
    let id = if value.starts_with("arn:") {
        let prefix = render::task_set_arn(cluster, service, "", context);
        value.strip_prefix(&prefix).ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "{field}: {value} is not a task set of service {service} in cluster {cluster}"
            ))
        })?
    } else {
        value
    };
    DeploymentId::parse(id).ok_or_else(|| {
        ApiError::invalid_parameter(format!("{field}: {value:?} is not a task set ID (ecs-svc/ and 19 digits) or ARN"))
    })
}

/// `scale`: a percentage from 0 to 100 (unit PERCENT, the only unit).
fn scale_percent(scale: Option<&wire::Scale>) -> ApiResult<f64> {
    let Some(scale) = scale else { return Ok(100.0) };
    let value = scale.value.unwrap_or(100.0);
    if !(0.0..=100.0).contains(&value) || !value.is_finite() {
        return Err(ApiError::invalid_parameter(format!("scale.value: must be between 0 and 100, got {value}")));
    }
    Ok(value)
}

fn task_definition(api: &Api, reference: &str) -> ApiResult<TaskDefinitionKey> {
    let (family, revision) = parse::task_definition(reference, api.context(), "taskDefinition")?;
    let record = api.control.describe_task_definition(&family, revision)?;
    Ok(TaskDefinitionKey { family: record.family, revision: record.revision })
}

fn rendered(api: &Api, view: &TaskSetView, include_tags: bool) -> wire::TaskSet {
    render::task_set(
        &view.cluster,
        &view.service,
        view.service_desired_count,
        &view.task_set,
        api.context(),
        include_tags,
    )
}

fn refuse_present(field: &str, present: bool, why: &str) -> ApiResult<()> {
    if present {
        return Err(ApiError::invalid_parameter(format!("{field}: {why}")));
    }
    Ok(())
}

pub async fn create_task_set(api: &Api, request: wire::CreateTaskSetRequest) -> ApiResult<wire::CreateTaskSetResponse> {
    let (cluster, service) = service_of(api, request.cluster.as_ref(), request.service.as_deref())?;
    let not_yet = "not supported by this Berth version yet";
    refuse_present("loadBalancers", request.load_balancers.as_ref().is_some_and(|items| !items.is_empty()), not_yet)?;
    refuse_present(
        "serviceRegistries",
        request.service_registries.as_ref().is_some_and(|items| !items.is_empty()),
        not_yet,
    )?;
    refuse_present("networkConfiguration", request.network_configuration.is_some(), not_yet)?;
    refuse_present(
        "platformVersion",
        request.platform_version.is_some(),
        "only tasks on Fargate have a platform version",
    )?;
    if let Some(external_id) = &request.external_id {
        if external_id.is_empty() || external_id.len() > 255 {
            return Err(ApiError::invalid_parameter("externalId: must be 1 to 255 characters"));
        }
    }
    let (launch_type, capacity_provider_strategy) =
        compute_option(request.launch_type, request.capacity_provider_strategy.as_ref())?;
    let client_token = client_token(
        request.client_token.as_ref(),
        &wire::CreateTaskSetRequest { client_token: None, ..request.clone() },
    )?;
    let view = api
        .control
        .create_task_set(CreateTaskSet {
            cluster,
            service,
            external_id: request.external_id.clone(),
            task_definition: task_definition(api, request.task_definition.as_deref().unwrap_or_default())?,
            launch_type,
            capacity_provider_strategy,
            scale_percent: scale_percent(request.scale.as_ref())?,
            tags: berth_ecs_convert::parse_tags(request.tags.as_ref())?,
            client_token,
        })
        .await?;
    Ok(wire::CreateTaskSetResponse { task_set: Some(rendered(api, &view, true)) })
}

pub async fn describe_task_sets(
    api: &Api,
    request: wire::DescribeTaskSetsRequest,
) -> ApiResult<wire::DescribeTaskSetsResponse> {
    let (cluster, service) = service_of(api, request.cluster.as_ref(), request.service.as_deref())?;
    let context = api.context();
    let wanted = match &request.task_sets {
        None => None,
        Some(references) => Some(
            references
                .iter()
                .enumerate()
                .map(|(index, reference)| {
                    task_set_id(Some(reference), &cluster, &service, context, &format!("taskSets[{index}]"))
                        .map(|id| id.to_string())
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
    };
    let include_tags = request.include.unwrap_or_default().contains(&wire::TaskSetField::Tags);
    let (found, missing) = api.control.describe_task_sets(&cluster, &service, wanted.as_deref())?;
    Ok(wire::DescribeTaskSetsResponse {
        task_sets: Some(found.iter().map(|view| rendered(api, view, include_tags)).collect()),
        failures: Some(
            missing
                .iter()
                .map(|id| render::failure(Some(render::task_set_arn(&cluster, &service, id, context)), "MISSING"))
                .collect(),
        ),
    })
}

pub async fn update_task_set(api: &Api, request: wire::UpdateTaskSetRequest) -> ApiResult<wire::UpdateTaskSetResponse> {
    let (cluster, service) = service_of(api, request.cluster.as_ref(), request.service.as_deref())?;
    let id = task_set_id(request.task_set.as_deref(), &cluster, &service, api.context(), "taskSet")?;
    let scale = scale_percent(request.scale.as_ref())?;
    let view = api.control.update_task_set(&cluster, &service, &id, scale).await?;
    Ok(wire::UpdateTaskSetResponse { task_set: Some(rendered(api, &view, false)) })
}

pub async fn update_service_primary_task_set(
    api: &Api,
    request: wire::UpdateServicePrimaryTaskSetRequest,
) -> ApiResult<wire::UpdateServicePrimaryTaskSetResponse> {
    let (cluster, service) = service_of(api, request.cluster.as_ref(), request.service.as_deref())?;
    let id = task_set_id(request.primary_task_set.as_deref(), &cluster, &service, api.context(), "primaryTaskSet")?;
    let view = api.control.update_service_primary_task_set(&cluster, &service, &id).await?;
    Ok(wire::UpdateServicePrimaryTaskSetResponse { task_set: Some(rendered(api, &view, false)) })
}

pub async fn delete_task_set(api: &Api, request: wire::DeleteTaskSetRequest) -> ApiResult<wire::DeleteTaskSetResponse> {
    let (cluster, service) = service_of(api, request.cluster.as_ref(), request.service.as_deref())?;
    let id = task_set_id(request.task_set.as_deref(), &cluster, &service, api.context(), "taskSet")?;
    let view = api.control.delete_task_set(&cluster, &service, &id, request.force.unwrap_or(false)).await?;
    Ok(wire::DeleteTaskSetResponse { task_set: Some(rendered(api, &view, false)) })
}
