//! RegisterContainerInstance (what agents call), DeregisterContainerInstance,
//! DescribeContainerInstances, ListContainerInstances, UpdateContainerInstancesState.

use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::container_instances::RegisterInstance;
use berth_ecs_wire as wire;
use berth_types::records::VersionInfo;
use berth_types::{Arn, Attribute, ContainerInstanceStatus, Resources};

fn total_resources(resources: &[wire::Resource]) -> ApiResult<Resources> {
    let mut total = Resources::default();
    for (index, resource) in resources.iter().enumerate() {
        let field = format!("totalResources[{index}]");
        let ports = || -> ApiResult<std::collections::BTreeSet<u16>> {
            resource
                .string_set_value
                .iter()
                .flatten()
                .map(|port| {
                    port.parse::<u16>().map_err(|_| {
                        ApiError::invalid_parameter(format!("{field}.stringSetValue: {port:?} is not a port"))
                    })
                })
                .collect()
        };
        let integer = || -> i64 {
            resource
                .integer_value
                .map(i64::from)
                .or(resource.long_value)
                .unwrap_or(resource.double_value.unwrap_or(0.0) as i64)
        };
        match resource.name.as_deref() {
            Some("CPU") => total.cpu = integer(),
            Some("MEMORY") => total.memory = integer(),
            Some("PORTS") => total.ports_tcp = ports()?,
            Some("PORTS_UDP") => total.ports_udp = ports()?,
            _ => {}
        }
    }
    Ok(total)
}

pub async fn register_container_instance(
    api: &Api,
    request: wire::RegisterContainerInstanceRequest,
) -> ApiResult<wire::RegisterContainerInstanceResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let identity: serde_json::Value = match request.instance_identity_document.as_deref() {
        Some(document) => serde_json::from_str(document).map_err(|error| {
            ApiError::invalid_parameter(format!("instanceIdentityDocument: not a JSON document: {error}"))
        })?,
        None => serde_json::Value::Null,
    };
    let previous_id = match request.container_instance_arn.as_deref() {
        Some(arn) => match Arn::parse(arn, context) {
            Ok(Arn::ContainerInstance(_, id)) => Some(id),
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "containerInstanceArn: {arn} is not a container instance ARN"
                )))
            }
        },
        None => None,
    };
    let ec2_instance_id = identity
        .get("instanceId")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .or_else(|| previous_id.as_ref().map(|id| format!("berth-{id}")))
        .ok_or_else(|| ApiError::invalid_parameter("instanceIdentityDocument: instanceId is required"))?;
    // Berth's agents name the capacity provider they join in the identity document, the one
    // free-form document RegisterContainerInstance carries.
    let capacity_provider = identity
        .get("capacityProvider")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let registered = total_resources(request.total_resources.as_deref().unwrap_or(&[]))?;
    let attributes = request
        .attributes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|attribute| attribute.name.map(|name| Attribute { name, value: attribute.value }))
        .collect();
    let version_info = request
        .version_info
        .map(|info| VersionInfo {
            agent_version: info.agent_version,
            agent_hash: info.agent_hash,
            docker_version: info.docker_version,
        })
        .unwrap_or_default();
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let summary = api
        .control
        .register_container_instance(RegisterInstance {
            cluster,
            ec2_instance_id,
            previous_id,
            registered,
            attributes,
            version_info,
            tags,
            capacity_provider,
        })
        .await?;
    Ok(wire::RegisterContainerInstanceResponse {
        container_instance: Some(render::container_instance(&summary, context, true)),
    })
}

pub async fn deregister_container_instance(
    api: &Api,
    request: wire::DeregisterContainerInstanceRequest,
) -> ApiResult<wire::DeregisterContainerInstanceResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let reference = request.container_instance.as_deref().unwrap_or_default();
    let id = parse::container_instance(reference, &cluster, context, "containerInstance")?;
    let summary = api.control.deregister_container_instance(&cluster, &id, request.force.unwrap_or(false)).await?;
    Ok(wire::DeregisterContainerInstanceResponse {
        container_instance: Some(render::container_instance(&summary, context, false)),
    })
}

pub async fn describe_container_instances(
    api: &Api,
    request: wire::DescribeContainerInstancesRequest,
) -> ApiResult<wire::DescribeContainerInstancesResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let ids =
        parse::container_instances(request.container_instances.as_ref(), 100, &cluster, context, "containerInstances")?;
    let (found, missing) = api.control.describe_container_instances(&cluster, &ids)?;
    let include_tags = request.include.unwrap_or_default().contains(&wire::ContainerInstanceField::Tags);
    Ok(wire::DescribeContainerInstancesResponse {
        container_instances: Some(
            found.iter().map(|summary| render::container_instance(summary, context, include_tags)).collect(),
        ),
        failures: Some(
            missing
                .into_iter()
                .map(|id| render::failure(Some(Arn::ContainerInstance(cluster.clone(), id).render(context)), "MISSING"))
                .collect(),
        ),
    })
}

pub async fn list_container_instances(
    api: &Api,
    request: wire::ListContainerInstancesRequest,
) -> ApiResult<wire::ListContainerInstancesResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let filter = request
        .filter
        .as_deref()
        .map(berth_scheduler::Expression::parse)
        .transpose()
        .map_err(|error| ApiError::invalid_parameter(format!("filter: {error}")))?;
    let status = request.status.map(|status| {
        ContainerInstanceStatus::parse(status.as_str()).expect("the wire enum is a subset of Berth's statuses")
    });
    let arns: Vec<String> = api
        .control
        .list_container_instances(&cluster, status, filter.as_ref())?
        .into_iter()
        .map(|id| Arn::ContainerInstance(cluster.clone(), id).render(context))
        .collect();
    let (page, next_token) = parse::page(&arns, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListContainerInstancesResponse { container_instance_arns: Some(page), next_token })
}

pub async fn update_container_instances_state(
    api: &Api,
    request: wire::UpdateContainerInstancesStateRequest,
) -> ApiResult<wire::UpdateContainerInstancesStateResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let ids =
        parse::container_instances(request.container_instances.as_ref(), 10, &cluster, context, "containerInstances")?;
    let status = request
        .status
        .and_then(|status| ContainerInstanceStatus::parse(status.as_str()))
        .ok_or_else(|| ApiError::invalid_parameter("status: required"))?;
    let (updated, failures) = api.control.update_container_instances_state(&cluster, &ids, status).await?;
    Ok(wire::UpdateContainerInstancesStateResponse {
        container_instances: Some(
            updated.iter().map(|summary| render::container_instance(summary, context, false)).collect(),
        ),
        failures: Some(
            failures
                .into_iter()
                .map(|(id, reason)| {
                    render::failure(Some(Arn::ContainerInstance(cluster.clone(), id).render(context)), &reason)
                })
                .collect(),
        ),
    })
}
