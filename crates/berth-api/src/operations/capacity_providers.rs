//! CreateCapacityProvider, UpdateCapacityProvider, DeleteCapacityProvider,
//! DescribeCapacityProviders, PutClusterCapacityProviders.

use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::capacity_providers::RESERVED_NAMES;
use berth_ecs_wire as wire;
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::Arn;

/// A capacity provider name, or the last component of its ARN.
fn provider_name(value: &str, api: &Api, field: &str) -> ApiResult<String> {
    if value.starts_with("arn:") {
        return match Arn::parse(value, api.context())? {
            Arn::CapacityProvider(name) => Ok(name),
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value} is not a capacity provider ARN"))),
        };
    }
    Ok(value.to_string())
}

fn validate_new_name(name: &str) -> ApiResult<()> {
    let valid_characters = name.chars().all(|character| character.is_ascii_alphanumeric() || "-_".contains(character));
    if name.is_empty() || name.len() > 255 || !valid_characters {
        return Err(ApiError::invalid_parameter(
            "name: 1 to 255 letters, numbers, underscores and hyphens are allowed",
        ));
    }
    let lowered = name.to_ascii_lowercase();
    if RESERVED_NAMES.contains(&name) || ["aws", "ecs", "fargate"].iter().any(|prefix| lowered.starts_with(prefix)) {
        return Err(ApiError::invalid_parameter(format!(
            "name: {name} is reserved; a capacity provider name cannot start with \"aws\", \"ecs\" or \"fargate\""
        )));
    }
    Ok(())
}

fn group_provider<T: serde::Serialize>(provider: Option<&T>) -> Option<serde_json::Value> {
    provider.map(|provider| serde_json::to_value(provider).expect("shapes always serialise"))
}

pub async fn create_capacity_provider(
    api: &Api,
    request: wire::CreateCapacityProviderRequest,
) -> ApiResult<wire::CreateCapacityProviderResponse> {
    let name = request.name.clone().unwrap_or_default();
    validate_new_name(&name)?;
    if request.managed_instances_provider.is_some() {
        return Err(ApiError::invalid_parameter("managedInstancesProvider: not supported by Berth"));
    }
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let record = api
        .control
        .create_capacity_provider(name, group_provider(request.auto_scaling_group_provider.as_ref()), tags)
        .await?;
    Ok(wire::CreateCapacityProviderResponse {
        capacity_provider: Some(render::capacity_provider(&record, api.context(), true)),
    })
}

pub async fn update_capacity_provider(
    api: &Api,
    request: wire::UpdateCapacityProviderRequest,
) -> ApiResult<wire::UpdateCapacityProviderResponse> {
    let name = provider_name(request.name.as_deref().unwrap_or_default(), api, "name")?;
    let record = api
        .control
        .update_capacity_provider(&name, group_provider(request.auto_scaling_group_provider.as_ref()))
        .await?;
    Ok(wire::UpdateCapacityProviderResponse {
        capacity_provider: Some(render::capacity_provider(&record, api.context(), false)),
    })
}

pub async fn delete_capacity_provider(
    api: &Api,
    request: wire::DeleteCapacityProviderRequest,
) -> ApiResult<wire::DeleteCapacityProviderResponse> {
    let name = provider_name(request.capacity_provider.as_deref().unwrap_or_default(), api, "capacityProvider")?;
    let record = api.control.delete_capacity_provider(&name).await?;
    Ok(wire::DeleteCapacityProviderResponse {
        capacity_provider: Some(render::capacity_provider(&record, api.context(), false)),
    })
}

pub async fn describe_capacity_providers(
    api: &Api,
    request: wire::DescribeCapacityProvidersRequest,
) -> ApiResult<wire::DescribeCapacityProvidersResponse> {
    let references = parse::bounded(request.capacity_providers.as_ref(), 100, "capacityProviders", false)?;
    let names = references
        .iter()
        .enumerate()
        .map(|(index, reference)| provider_name(reference, api, &format!("capacityProviders[{index}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    let include_tags = request.include.unwrap_or_default().contains(&wire::CapacityProviderField::Tags);
    let (found, missing) = api.control.describe_capacity_providers(&names);
    let rendered: Vec<wire::CapacityProvider> =
        found.iter().map(|record| render::capacity_provider(record, api.context(), include_tags)).collect();
    let (page, next_token) = parse::page(&rendered, request.max_results, request.next_token.as_ref(), 10, 10)?;
    Ok(wire::DescribeCapacityProvidersResponse {
        capacity_providers: Some(page),
        failures: Some(
            missing
                .into_iter()
                .map(|name| render::failure(Some(Arn::CapacityProvider(name).render(api.context())), "MISSING"))
                .collect(),
        ),
        next_token,
    })
}

/// A capacity provider strategy as RunTask, CreateService and PutClusterCapacityProviders take
/// it: at most 20 items, weights 0–1000, bases 0–100000, a base on one item at most.
pub fn strategy(
    items: Option<&Vec<wire::CapacityProviderStrategyItem>>,
    field: &str,
) -> ApiResult<Vec<CapacityProviderStrategyItem>> {
    let items = parse::bounded(items, 20, field, false)?;
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let name = item.capacity_provider.clone().unwrap_or_default();
        let weight = item.weight.unwrap_or(0);
        let base = item.base.unwrap_or(0);
        if !(0..=1000).contains(&weight) {
            return Err(ApiError::invalid_parameter(format!("{field}[{index}].weight: must be between 0 and 1000")));
        }
        if !(0..=100_000).contains(&base) {
            return Err(ApiError::invalid_parameter(format!("{field}[{index}].base: must be between 0 and 100000")));
        }
        if RESERVED_NAMES.contains(&name.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "{field}[{index}].capacityProvider: {name} is not available in this Berth version"
            )));
        }
        if parsed.iter().any(|existing: &CapacityProviderStrategyItem| existing.capacity_provider == name) {
            return Err(ApiError::invalid_parameter(format!("{field}: {name} is listed more than once")));
        }
        parsed.push(CapacityProviderStrategyItem { capacity_provider: name, weight: weight as u32, base: base as u32 });
    }
    if parsed.iter().filter(|item| item.base > 0).count() > 1 {
        return Err(ApiError::invalid_parameter(format!(
            "{field}: only one capacity provider can have a base defined"
        )));
    }
    if !parsed.is_empty() && parsed.iter().all(|item| item.weight == 0) {
        return Err(ApiError::invalid_parameter(format!(
            "{field}: at least one capacity provider must have a weight greater than 0"
        )));
    }
    Ok(parsed)
}

pub async fn put_cluster_capacity_providers(
    api: &Api,
    request: wire::PutClusterCapacityProvidersRequest,
) -> ApiResult<wire::PutClusterCapacityProvidersResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let providers = request
        .capacity_providers
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, reference)| provider_name(reference, api, &format!("capacityProviders[{index}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    for (index, provider) in providers.iter().enumerate() {
        if RESERVED_NAMES.contains(&provider.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "capacityProviders[{index}]: {provider} is not available in this Berth version"
            )));
        }
    }
    let default_strategy =
        strategy(request.default_capacity_provider_strategy.as_ref(), "defaultCapacityProviderStrategy")?;
    let summary = api.control.put_cluster_capacity_providers(&cluster, providers, default_strategy).await?;
    let include = render::Include { tags: true, statistics: false, settings: true };
    Ok(wire::PutClusterCapacityProvidersResponse { cluster: Some(render::cluster(&summary, api.context(), include)) })
}
