//! PutAttributes, DeleteAttributes, ListAttributes. `targetType` has one value in ECS's model
//! (`container-instance`), so decoding already refuses any other.

use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use berth_control::attributes::TargetedAttribute;
use berth_ecs_wire as wire;
use berth_types::{Arn, Attribute, ClusterName};

/// ECS takes at most this many attributes per PutAttributes/DeleteAttributes call.
const MAX_ATTRIBUTES_PER_CALL: usize = 10;

fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.chars().all(|character| character.is_ascii_alphanumeric() || "-_/\\.".contains(character))
}

fn valid_value(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && value.chars().all(|character| character.is_ascii_alphanumeric() || "-_.@/\\: ".contains(character))
}

fn targeted(
    api: &Api,
    cluster: &ClusterName,
    attributes: &[wire::Attribute],
    with_values: bool,
) -> ApiResult<Vec<TargetedAttribute>> {
    if attributes.is_empty() || attributes.len() > MAX_ATTRIBUTES_PER_CALL {
        return Err(ApiError::invalid_parameter(format!(
            "attributes: between 1 and {MAX_ATTRIBUTES_PER_CALL} attributes are required per call, got {}",
            attributes.len()
        )));
    }
    attributes
        .iter()
        .enumerate()
        .map(|(index, attribute)| {
            let field = format!("attributes[{index}]");
            let name = attribute.name.clone().unwrap_or_default();
            if !valid_name(&name) {
                return Err(ApiError::invalid_parameter(format!(
                    "{field}.name: 1 to 128 letters, numbers, hyphens, underscores, slashes, back slashes or periods, got {name:?}"
                )));
            }
            if let Some(value) = attribute.value.as_deref().filter(|_| with_values) {
                if !valid_value(value) {
                    return Err(ApiError::invalid_parameter(format!(
                        "{field}.value: 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, back slashes, colons or inner spaces, got {value:?}"
                    )));
                }
            }
            let target = attribute
                .target_id
                .as_deref()
                .ok_or_else(|| ApiError::invalid_parameter(format!("{field}.targetId: required")))?;
            let instance = parse::container_instance(target, cluster, api.context(), &format!("{field}.targetId"))?;
            Ok(TargetedAttribute { instance, attribute: Attribute { name, value: attribute.value.clone().filter(|_| with_values) } })
        })
        .collect()
}

fn render(api: &Api, cluster: &ClusterName, attributes: Vec<TargetedAttribute>) -> Vec<wire::Attribute> {
    attributes
        .into_iter()
        .map(|targeted| wire::Attribute {
            name: Some(targeted.attribute.name),
            value: targeted.attribute.value,
            target_type: Some(wire::TargetType::ContainerInstance),
            target_id: Some(Arn::ContainerInstance(cluster.clone(), targeted.instance).render(api.context())),
        })
        .collect()
}

pub async fn put_attributes(api: &Api, request: wire::PutAttributesRequest) -> ApiResult<wire::PutAttributesResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let attributes = targeted(api, &cluster, request.attributes.as_deref().unwrap_or_default(), true)?;
    api.control.put_attributes(&cluster, attributes.clone()).await?;
    Ok(wire::PutAttributesResponse { attributes: Some(render(api, &cluster, attributes)) })
}

pub async fn delete_attributes(
    api: &Api,
    request: wire::DeleteAttributesRequest,
) -> ApiResult<wire::DeleteAttributesResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let attributes = targeted(api, &cluster, request.attributes.as_deref().unwrap_or_default(), false)?;
    api.control.delete_attributes(&cluster, attributes.clone()).await?;
    Ok(wire::DeleteAttributesResponse { attributes: Some(render(api, &cluster, attributes)) })
}

pub async fn list_attributes(
    api: &Api,
    request: wire::ListAttributesRequest,
) -> ApiResult<wire::ListAttributesResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    if request.attribute_value.is_some() && request.attribute_name.is_none() {
        return Err(ApiError::invalid_parameter("attributeValue: can only be given with attributeName"));
    }
    let found =
        api.control.list_attributes(&cluster, request.attribute_name.as_deref(), request.attribute_value.as_deref())?;
    let rendered = render(api, &cluster, found);
    let (page, next_token) = parse::page(&rendered, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListAttributesResponse { attributes: Some(page), next_token })
}
