//! TagResource, UntagResource, ListTagsForResource.

use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::Api;
use berth_ecs_wire as wire;
use berth_types::Arn;

fn resource(api: &Api, arn: Option<&String>) -> ApiResult<Arn> {
    let arn = arn.ok_or_else(|| ApiError::invalid_parameter("resourceArn: required"))?;
    Arn::parse(arn, api.context()).map_err(|error| ApiError::invalid_parameter(format!("resourceArn: {error}")))
}

pub async fn tag_resource(api: &Api, request: wire::TagResourceRequest) -> ApiResult<wire::TagResourceResponse> {
    let arn = resource(api, request.resource_arn.as_ref())?;
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    api.control.tag_resource(&arn, tags).await?;
    Ok(wire::TagResourceResponse::default())
}

pub async fn untag_resource(api: &Api, request: wire::UntagResourceRequest) -> ApiResult<wire::UntagResourceResponse> {
    let arn = resource(api, request.resource_arn.as_ref())?;
    let keys = request.tag_keys.unwrap_or_default();
    api.control.untag_resource(&arn, &keys).await?;
    Ok(wire::UntagResourceResponse::default())
}

pub async fn list_tags_for_resource(
    api: &Api,
    request: wire::ListTagsForResourceRequest,
) -> ApiResult<wire::ListTagsForResourceResponse> {
    let arn = resource(api, request.resource_arn.as_ref())?;
    let tags = api.control.list_tags(&arn)?;
    Ok(wire::ListTagsForResourceResponse { tags: Some(render::tags(&tags)) })
}
