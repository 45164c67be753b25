//! Scalable targets and their tags: each operation turns its request shape into domain values,
//! calls `berth_control::autoscaling` and renders the answer.

use super::{describe_filter, required, seconds, target_key, AutoScalingApiResult};
use crate::Api;
use berth_autoscaling_wire as wire;
use berth_control::autoscaling::records::{ScalableTargetRecord, ECS_DESIRED_COUNT, ECS_NAMESPACE};
use berth_control::autoscaling::targets::{page, parse_resource_id, RegisterTarget};

pub(super) fn namespace() -> Option<wire::ServiceNamespace> {
    wire::ServiceNamespace::parse(ECS_NAMESPACE)
}

pub(super) fn dimension() -> Option<wire::ScalableDimension> {
    wire::ScalableDimension::parse(ECS_DESIRED_COUNT)
}

pub async fn register_scalable_target(
    api: &Api,
    request: wire::RegisterScalableTargetRequest,
) -> AutoScalingApiResult<wire::RegisterScalableTargetResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let suspended = request.suspended_state.unwrap_or_default();
    let register = RegisterTarget {
        min_capacity: request.min_capacity,
        max_capacity: request.max_capacity,
        role_arn: request.role_arn,
        dynamic_in_suspended: suspended.dynamic_scaling_in_suspended,
        dynamic_out_suspended: suspended.dynamic_scaling_out_suspended,
        scheduled_suspended: suspended.scheduled_scaling_suspended,
        tags: request.tags.unwrap_or_default(),
    };
    let arn = api.control.register_scalable_target(key, register).await?;
    Ok(wire::RegisterScalableTargetResponse { scalable_target_arn: Some(arn) })
}

fn render_target(record: ScalableTargetRecord) -> wire::ScalableTarget {
    wire::ScalableTarget {
        service_namespace: namespace(),
        resource_id: Some(record.key.resource_id()),
        scalable_dimension: dimension(),
        min_capacity: Some(record.min_capacity as i32),
        max_capacity: Some(record.max_capacity as i32),
        predicted_capacity: None,
        role_arn: Some(record.role_arn),
        creation_time: Some(seconds(record.created_ms)),
        suspended_state: Some(wire::SuspendedState {
            dynamic_scaling_in_suspended: Some(record.suspended.dynamic_in),
            dynamic_scaling_out_suspended: Some(record.suspended.dynamic_out),
            scheduled_scaling_suspended: Some(record.suspended.scheduled),
        }),
        scalable_target_arn: Some(record.arn),
    }
}

pub async fn describe_scalable_targets(
    api: &Api,
    request: wire::DescribeScalableTargetsRequest,
) -> AutoScalingApiResult<wire::DescribeScalableTargetsResponse> {
    describe_filter(request.service_namespace, None, request.scalable_dimension)?;
    let resource_ids = request.resource_ids.unwrap_or_default();
    if resource_ids.len() > 50 {
        return Err(super::AutoScalingApiError::validation(
            "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let keys = resource_ids.iter().map(|id| parse_resource_id(id)).collect::<Result<Vec<_>, _>>()?;
    let targets = api.control.describe_scalable_targets(&keys);
    let (targets, next_token) = page(targets, request.next_token.as_deref(), request.max_results)?;
    Ok(wire::DescribeScalableTargetsResponse {
        scalable_targets: Some(targets.into_iter().map(render_target).collect()),
        next_token,
    })
}

pub async fn deregister_scalable_target(
    api: &Api,
    request: wire::DeregisterScalableTargetRequest,
) -> AutoScalingApiResult<wire::DeregisterScalableTargetResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    api.control.deregister_scalable_target(key).await?;
    Ok(wire::DeregisterScalableTargetResponse {})
}

pub async fn tag_resource(
    api: &Api,
    request: wire::TagResourceRequest,
) -> AutoScalingApiResult<wire::TagResourceResponse> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    api.control.tag_scalable_target(arn, required(request.tags, "Tags")?).await?;
    Ok(wire::TagResourceResponse {})
}

pub async fn untag_resource(
    api: &Api,
    request: wire::UntagResourceRequest,
) -> AutoScalingApiResult<wire::UntagResourceResponse> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    api.control.untag_scalable_target(arn, required(request.tag_keys, "TagKeys")?).await?;
    Ok(wire::UntagResourceResponse {})
}

pub async fn list_tags_for_resource(
    api: &Api,
    request: wire::ListTagsForResourceRequest,
) -> AutoScalingApiResult<wire::ListTagsForResourceResponse> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    Ok(wire::ListTagsForResourceResponse { tags: Some(api.control.scalable_target_tags(&arn)?) })
}
