//! RegisterDaemonTaskDefinition, DescribeDaemonTaskDefinition, ListDaemonTaskDefinitions and
//! DeleteDaemonTaskDefinition. Validation is `berth_ecs_convert`'s; storage and numbering are
//! `berth_control::daemons::task_definitions`'.

use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use berth_control::daemons::task_definitions::{DaemonDefinitionFilter, DaemonDefinitionStatusFilter};
use berth_ecs_wire as wire;
use berth_types::daemons::{DaemonArn, DaemonTaskDefinitionRecord, DaemonTaskDefinitionStatus};
use berth_types::{ArnContext, TaskDefinitionFamily};

/// ECS lists up to 100 items per page.
const MAX_PAGE: usize = 100;

fn status(status: DaemonTaskDefinitionStatus) -> wire::DaemonTaskDefinitionStatus {
    match status {
        DaemonTaskDefinitionStatus::Active => wire::DaemonTaskDefinitionStatus::Active,
        DaemonTaskDefinitionStatus::DeleteInProgress => wire::DaemonTaskDefinitionStatus::DeleteInProgress,
        DaemonTaskDefinitionStatus::Deleted => wire::DaemonTaskDefinitionStatus::Deleted,
    }
}

pub(crate) fn definition_arn(record: &DaemonTaskDefinitionRecord, context: &ArnContext) -> String {
    DaemonArn::TaskDefinition(record.family.clone(), record.revision).render(context)
}

fn rendered(record: &DaemonTaskDefinitionRecord, context: &ArnContext) -> wire::DaemonTaskDefinition {
    let mut document: wire::DaemonTaskDefinition = serde_json::from_value(record.document.clone()).unwrap_or_default();
    document.daemon_task_definition_arn = Some(definition_arn(record, context));
    document.family = Some(record.family.to_string());
    document.revision = Some(record.revision as i32);
    document.status = Some(status(record.status));
    document.registered_at = Some(record.registered_at.as_epoch_seconds());
    document.registered_by = Some(record.registered_by.clone());
    document.delete_requested_at = record.delete_requested_at.map(|at| at.as_epoch_seconds());
    document
}

/// `family`, `family:revision` or a daemon task definition ARN.
pub(crate) fn reference(value: &str, context: &ArnContext, field: &str) -> ApiResult<(String, Option<u32>)> {
    if value.starts_with("arn:") {
        return match DaemonArn::parse(value, context) {
            Ok(DaemonArn::TaskDefinition(family, revision)) => Ok((family.to_string(), Some(revision))),
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value:?} is not a daemon task definition ARN"))),
        };
    }
    let (family, revision) = match value.rsplit_once(':') {
        Some((family, revision)) => {
            let revision = revision
                .parse::<u32>()
                .ok()
                .filter(|revision| *revision > 0)
                .ok_or_else(|| ApiError::invalid_parameter(format!("{field}: invalid revision in {value:?}")))?;
            (family, Some(revision))
        }
        None => (value, None),
    };
    TaskDefinitionFamily::parse(family).map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))?;
    Ok((family.to_string(), revision))
}

pub async fn register_daemon_task_definition(
    api: &Api,
    request: wire::RegisterDaemonTaskDefinitionRequest,
) -> ApiResult<wire::RegisterDaemonTaskDefinitionResponse> {
    let parsed = berth_ecs_convert::parse_register_daemon_task_definition(&request)?;
    let document = serde_json::to_value(&parsed.document).expect("wire shapes always serialise");
    let record = api.control.register_daemon_task_definition(parsed.family, parsed.spec, document, parsed.tags).await?;
    Ok(wire::RegisterDaemonTaskDefinitionResponse {
        daemon_task_definition_arn: Some(definition_arn(&record, api.context())),
    })
}

pub async fn describe_daemon_task_definition(
    api: &Api,
    request: wire::DescribeDaemonTaskDefinitionRequest,
) -> ApiResult<wire::DescribeDaemonTaskDefinitionResponse> {
    let value = request.daemon_task_definition.as_deref().unwrap_or_default();
    let (family, revision) = reference(value, api.context(), "daemonTaskDefinition")?;
    let record = api.control.describe_daemon_task_definition(&family, revision)?;
    Ok(wire::DescribeDaemonTaskDefinitionResponse { daemon_task_definition: Some(rendered(&record, api.context())) })
}

pub async fn delete_daemon_task_definition(
    api: &Api,
    request: wire::DeleteDaemonTaskDefinitionRequest,
) -> ApiResult<wire::DeleteDaemonTaskDefinitionResponse> {
    let value = request.daemon_task_definition.as_deref().unwrap_or_default();
    let (family, revision) = match reference(value, api.context(), "daemonTaskDefinition")? {
        (family, Some(revision)) => (family, revision),
        (_, None) => {
            return Err(ApiError::client_exception(format!(
                "daemonTaskDefinition: a revision is required (family:revision or a full ARN), got {value:?}"
            )))
        }
    };
    let record = api.control.delete_daemon_task_definition(&family, revision).await?;
    Ok(wire::DeleteDaemonTaskDefinitionResponse {
        daemon_task_definition_arn: Some(definition_arn(&record, api.context())),
    })
}

pub async fn list_daemon_task_definitions(
    api: &Api,
    request: wire::ListDaemonTaskDefinitionsRequest,
) -> ApiResult<wire::ListDaemonTaskDefinitionsResponse> {
    for (field, value) in [("family", &request.family), ("familyPrefix", &request.family_prefix)] {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            TaskDefinitionFamily::parse(value)
                .map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))?;
        }
    }
    let filter = DaemonDefinitionFilter {
        family: request.family.clone().filter(|family| !family.is_empty()),
        family_prefix: request.family_prefix.clone().filter(|prefix| !prefix.is_empty()),
        last_registered_only: request.revision == Some(wire::DaemonTaskDefinitionRevisionFilter::LastRegistered),
        status: request.status.map(|status| match status {
            wire::DaemonTaskDefinitionStatusFilter::Active => DaemonDefinitionStatusFilter::Active,
            wire::DaemonTaskDefinitionStatusFilter::DeleteInProgress => DaemonDefinitionStatusFilter::DeleteInProgress,
            wire::DaemonTaskDefinitionStatusFilter::All => DaemonDefinitionStatusFilter::All,
        }),
        descending: request.sort == Some(wire::SortOrder::Desc),
    };
    let records = api.control.list_daemon_task_definitions(&filter);
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListDaemonTaskDefinitionsResponse {
        daemon_task_definitions: Some(
            page.iter()
                .map(|record| wire::DaemonTaskDefinitionSummary {
                    arn: Some(definition_arn(record, api.context())),
                    registered_at: Some(record.registered_at.as_epoch_seconds()),
                    registered_by: Some(record.registered_by.clone()),
                    delete_requested_at: record.delete_requested_at.map(|at| at.as_epoch_seconds()),
                    status: Some(status(record.status)),
                })
                .collect(),
        ),
        next_token,
    })
}
