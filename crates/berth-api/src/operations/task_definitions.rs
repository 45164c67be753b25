//! RegisterTaskDefinition, DescribeTaskDefinition, DeregisterTaskDefinition,
//! DeleteTaskDefinitions, ListTaskDefinitions, ListTaskDefinitionFamilies.

use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::task_definitions::StatusFilter;
use berth_ecs_wire as wire;
use berth_types::records::TaskDefinitionRecord;
use berth_types::{Arn, TaskDefinitionFamily, TaskDefinitionStatus};

fn rendered(api: &Api, record: &TaskDefinitionRecord) -> wire::TaskDefinition {
    let arn = Arn::TaskDefinition(record.family.clone(), record.revision).render(api.context());
    berth_ecs_convert::render_task_definition(record, arn)
}

pub async fn register_task_definition(
    api: &Api,
    request: wire::RegisterTaskDefinitionRequest,
) -> ApiResult<wire::RegisterTaskDefinitionResponse> {
    let parsed = berth_ecs_convert::parse_register_task_definition(&request)?;
    let document = berth_ecs_convert::document_to_value(&parsed.document);
    let record = api.control.register_task_definition(parsed.family, parsed.spec, document, parsed.tags).await?;
    Ok(wire::RegisterTaskDefinitionResponse {
        task_definition: Some(rendered(api, &record)),
        tags: Some(render::tags(&record.tags)),
    })
}

pub async fn describe_task_definition(
    api: &Api,
    request: wire::DescribeTaskDefinitionRequest,
) -> ApiResult<wire::DescribeTaskDefinitionResponse> {
    let reference = request.task_definition.as_deref().unwrap_or_default();
    let (family, revision) = parse::task_definition(reference, api.context(), "taskDefinition")?;
    let record = api.control.describe_task_definition(&family, revision)?;
    let include_tags = request.include.unwrap_or_default().contains(&wire::TaskDefinitionField::Tags);
    Ok(wire::DescribeTaskDefinitionResponse {
        task_definition: Some(rendered(api, &record)),
        tags: Some(if include_tags { render::tags(&record.tags) } else { vec![] }),
    })
}

fn with_revision(api: &Api, reference: &str, field: &str) -> ApiResult<(String, u32)> {
    match parse::task_definition(reference, api.context(), field)? {
        (family, Some(revision)) => Ok((family, revision)),
        (_, None) => Err(ApiError::client_exception(format!(
            "{field}: a revision is required (family:revision or a full ARN), got {reference:?}"
        ))),
    }
}

pub async fn deregister_task_definition(
    api: &Api,
    request: wire::DeregisterTaskDefinitionRequest,
) -> ApiResult<wire::DeregisterTaskDefinitionResponse> {
    let (family, revision) =
        with_revision(api, request.task_definition.as_deref().unwrap_or_default(), "taskDefinition")?;
    let record = api.control.deregister_task_definition(&family, revision).await?;
    Ok(wire::DeregisterTaskDefinitionResponse { task_definition: Some(rendered(api, &record)) })
}

pub async fn delete_task_definitions(
    api: &Api,
    request: wire::DeleteTaskDefinitionsRequest,
) -> ApiResult<wire::DeleteTaskDefinitionsResponse> {
    let references = parse::bounded(request.task_definitions.as_ref(), 10, "taskDefinitions", true)?;
    let parsed = references
        .iter()
        .enumerate()
        .map(|(index, reference)| with_revision(api, reference, &format!("taskDefinitions[{index}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    let (deleted, failures) = api.control.delete_task_definitions(&parsed).await?;
    let context = api.context();
    Ok(wire::DeleteTaskDefinitionsResponse {
        task_definitions: Some(deleted.iter().map(|record| rendered(api, record)).collect()),
        failures: Some(
            failures
                .into_iter()
                .map(|((family, revision), reason)| {
                    let arn = TaskDefinitionFamily::parse(&family)
                        .map(|family| Arn::TaskDefinition(family, revision).render(context))
                        .ok();
                    render::failure(arn, &reason)
                })
                .collect(),
        ),
    })
}

pub async fn list_task_definitions(
    api: &Api,
    request: wire::ListTaskDefinitionsRequest,
) -> ApiResult<wire::ListTaskDefinitionsResponse> {
    let status = match request.status {
        None | Some(wire::TaskDefinitionStatus::Active) => TaskDefinitionStatus::Active,
        Some(wire::TaskDefinitionStatus::Inactive) => TaskDefinitionStatus::Inactive,
        Some(wire::TaskDefinitionStatus::DeleteInProgress) => TaskDefinitionStatus::DeleteInProgress,
    };
    let mut found = api.control.list_task_definitions(request.family_prefix.as_deref(), StatusFilter::Only(status));
    if request.sort == Some(wire::SortOrder::Desc) {
        found.reverse();
    }
    let context = api.context();
    let arns: Vec<String> = found
        .into_iter()
        .filter_map(|(family, revision)| {
            TaskDefinitionFamily::parse(&family)
                .ok()
                .map(|family| Arn::TaskDefinition(family, revision).render(context))
        })
        .collect();
    let (page, next_token) = parse::page(&arns, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListTaskDefinitionsResponse { task_definition_arns: Some(page), next_token })
}

pub async fn list_task_definition_families(
    api: &Api,
    request: wire::ListTaskDefinitionFamiliesRequest,
) -> ApiResult<wire::ListTaskDefinitionFamiliesResponse> {
    let status = match request.status {
        None | Some(wire::TaskDefinitionFamilyStatus::Active) => StatusFilter::Only(TaskDefinitionStatus::Active),
        Some(wire::TaskDefinitionFamilyStatus::Inactive) => StatusFilter::Only(TaskDefinitionStatus::Inactive),
        Some(wire::TaskDefinitionFamilyStatus::All) => StatusFilter::All,
    };
    let families = api.control.list_task_definition_families(request.family_prefix.as_deref(), status);
    let (page, next_token) = parse::page(&families, request.max_results, request.next_token.as_ref(), 100, 100)?;
    Ok(wire::ListTaskDefinitionFamiliesResponse { families: Some(page), next_token })
}
