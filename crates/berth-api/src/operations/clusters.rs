//! CreateCluster, DescribeClusters, ListClusters, UpdateCluster, UpdateClusterSettings,
//! DeleteCluster.

use crate::error::{ApiError, ApiResult};
use crate::render::{self, Include};
use crate::{parse, Api};
use berth_ecs_wire as wire;
use std::collections::BTreeMap;

fn settings(settings: Option<&Vec<wire::ClusterSetting>>) -> ApiResult<BTreeMap<String, String>> {
    let mut parsed = BTreeMap::new();
    for (index, setting) in settings.into_iter().flatten().enumerate() {
        let name =
            setting.name.ok_or_else(|| ApiError::invalid_parameter(format!("settings[{index}].name: required")))?;
        let value = setting.value.clone().unwrap_or_default();
        if !matches!(value.as_str(), "enabled" | "disabled" | "enhanced") {
            return Err(ApiError::invalid_parameter(format!(
                "settings[{index}].value: containerInsights must be enabled, disabled or enhanced, got {value:?}"
            )));
        }
        parsed.insert(name.as_str().to_string(), value);
    }
    Ok(parsed)
}

fn include(values: Option<&Vec<wire::ClusterField>>) -> Include {
    let values = values.map(Vec::as_slice).unwrap_or(&[]);
    Include {
        tags: values.contains(&wire::ClusterField::Tags),
        statistics: values.contains(&wire::ClusterField::Statistics),
        settings: values.contains(&wire::ClusterField::Settings),
    }
}

const ALL: Include = Include { tags: true, statistics: false, settings: true };

pub async fn create_cluster(api: &Api, request: wire::CreateClusterRequest) -> ApiResult<wire::CreateClusterResponse> {
    let name = parse::cluster(request.cluster_name.as_ref(), api.context())?;
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let settings = settings(request.settings.as_ref())?;
    let summary = api.control.create_cluster(name, tags, settings).await?;
    Ok(wire::CreateClusterResponse { cluster: Some(render::cluster(&summary, api.context(), ALL)) })
}

pub async fn describe_clusters(
    api: &Api,
    request: wire::DescribeClustersRequest,
) -> ApiResult<wire::DescribeClustersResponse> {
    let context = api.context();
    let references = parse::bounded(request.clusters.as_ref(), 100, "clusters", false)?;
    let mut names = Vec::new();
    if references.is_empty() {
        names.push(berth_types::ClusterName::default_cluster());
    }
    for reference in references {
        names.push(parse::cluster(Some(reference), context)?);
    }
    let (found, missing) = api.control.describe_clusters(&names);
    let include = include(request.include.as_ref());
    Ok(wire::DescribeClustersResponse {
        clusters: Some(found.iter().map(|summary| render::cluster(summary, context, include)).collect()),
        failures: Some(
            missing
                .into_iter()
                .map(|name| render::failure(Some(berth_types::Arn::Cluster(name).render(context)), "MISSING"))
                .collect(),
        ),
    })
}

pub async fn list_clusters(api: &Api, request: wire::ListClustersRequest) -> ApiResult<wire::ListClustersResponse> {
    let context = api.context();
    let arns: Vec<String> =
        api.control.list_clusters().into_iter().map(|name| berth_types::Arn::Cluster(name).render(context)).collect();
    let (page, next_token) = parse::page(&arns, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListClustersResponse { cluster_arns: Some(page), next_token })
}

pub async fn update_cluster(api: &Api, request: wire::UpdateClusterRequest) -> ApiResult<wire::UpdateClusterResponse> {
    let name = parse::cluster(request.cluster.as_ref(), api.context())?;
    let settings = settings(request.settings.as_ref())?;
    let summary = api.control.update_cluster_settings(&name, settings).await?;
    Ok(wire::UpdateClusterResponse { cluster: Some(render::cluster(&summary, api.context(), ALL)) })
}

pub async fn update_cluster_settings(
    api: &Api,
    request: wire::UpdateClusterSettingsRequest,
) -> ApiResult<wire::UpdateClusterSettingsResponse> {
    let name = parse::cluster(request.cluster.as_ref(), api.context())?;
    let settings = settings(request.settings.as_ref())?;
    let summary = api.control.update_cluster_settings(&name, settings).await?;
    Ok(wire::UpdateClusterSettingsResponse { cluster: Some(render::cluster(&summary, api.context(), ALL)) })
}

pub async fn delete_cluster(api: &Api, request: wire::DeleteClusterRequest) -> ApiResult<wire::DeleteClusterResponse> {
    let name = parse::cluster(request.cluster.as_ref(), api.context())?;
    let summary = api.control.delete_cluster(&name).await?;
    Ok(wire::DeleteClusterResponse { cluster: Some(render::cluster(&summary, api.context(), ALL)) })
}
