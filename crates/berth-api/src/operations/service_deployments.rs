//! ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
//! StopServiceDeployment and ContinueServiceDeployment: the service history, parsed and
//! rendered here, kept by `berth_control::service_history`.
//!
//! Invariant: a malformed ARN or filter is refused naming its field and changes nothing; a
//! well-formed ARN that names nothing is a `MISSING` failure (describe) or
//! ServiceDeploymentNotFoundException (stop, continue).

use super::services::service_name;
use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::elb::traffic_shift::HookAction;
use berth_control::service_history::actions::{HistoryFilter, HistoryReference};
use berth_control::service_history::records::{
    BreakerStatus, HistoryStatus, RevisionCounts, ServiceDeploymentRecord, ServiceRevisionRecord,
};
use berth_ecs_wire as wire;
use berth_types::{Arn, ArnContext, ClusterName, ServiceName, Timestamp};

/// ECS describes at most 20 service deployments or revisions per call.
const MAX_DESCRIBE: usize = 20;

const DEPLOYMENT_KIND: &str = "service-deployment";
const REVISION_KIND: &str = "service-revision";

fn history_arn(kind: &str, cluster: &ClusterName, service: &ServiceName, id: &str, context: &ArnContext) -> String {
    format!("arn:aws:ecs:{}:{}:{kind}/{cluster}/{service}/{id}", context.region, context.account)
}

/// `arn:aws:ecs:REGION:ACCOUNT:KIND/CLUSTER/SERVICE/ID`, issued under this context.
fn history_reference(value: &str, kind: &str, context: &ArnContext, field: &str) -> ApiResult<HistoryReference> {
    let invalid = || ApiError::invalid_parameter(format!("{field}: {value:?} is not a valid {kind} ARN"));
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("ecs"), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if region != context.region || account != context.account {
        return Err(ApiError::invalid_parameter(format!(
            "{field}: {value:?} does not belong to this region and account"
        )));
    }
    let mut path = resource.split('/');
    let (Some(found_kind), Some(cluster), Some(service), Some(id), None) =
        (path.next(), path.next(), path.next(), path.next(), path.next())
    else {
        return Err(invalid());
    };
    if found_kind != kind || id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return Err(invalid());
    }
    let cluster = ClusterName::parse(cluster).map_err(|_| invalid())?;
    let service = ServiceName::parse(service).map_err(|_| invalid())?;
    Ok(HistoryReference { cluster, service, id: id.to_string() })
}

fn status(status: HistoryStatus) -> wire::ServiceDeploymentStatus {
    wire::ServiceDeploymentStatus::parse(status.as_str()).expect("history statuses are ECS's")
}

/// `None` for STOP_REQUESTED: Berth never stops a deployment without rolling it back, so no
/// deployment is ever in that status.
fn parse_status(status: wire::ServiceDeploymentStatus) -> Option<HistoryStatus> {
    Some(match status {
        wire::ServiceDeploymentStatus::Pending => HistoryStatus::Pending,
        wire::ServiceDeploymentStatus::InProgress => HistoryStatus::InProgress,
        wire::ServiceDeploymentStatus::Successful => HistoryStatus::Successful,
        wire::ServiceDeploymentStatus::Stopped => HistoryStatus::Stopped,
        wire::ServiceDeploymentStatus::RollbackRequested => HistoryStatus::RollbackRequested,
        wire::ServiceDeploymentStatus::RollbackInProgress => HistoryStatus::RollbackInProgress,
        wire::ServiceDeploymentStatus::RollbackSuccessful => HistoryStatus::RollbackSuccessful,
        wire::ServiceDeploymentStatus::RollbackFailed => HistoryStatus::RollbackFailed,
        wire::ServiceDeploymentStatus::StopRequested => return None,
    })
}

fn deployment_arn(record: &ServiceDeploymentRecord, context: &ArnContext) -> String {
    history_arn(DEPLOYMENT_KIND, &record.cluster, &record.service, &record.id, context)
}

fn revision_arn(record: &ServiceDeploymentRecord, id: &str, context: &ArnContext) -> String {
    history_arn(REVISION_KIND, &record.cluster, &record.service, id, context)
}

fn revision_summary(
    record: &ServiceDeploymentRecord,
    counts: &RevisionCounts,
    context: &ArnContext,
) -> wire::ServiceRevisionSummary {
    wire::ServiceRevisionSummary {
        arn: Some(revision_arn(record, &counts.revision_id, context)),
        requested_task_count: Some(counts.requested as i32),
        running_task_count: Some(counts.running as i32),
        pending_task_count: Some(counts.pending as i32),
        ..Default::default()
    }
}

fn seconds(at: Option<Timestamp>) -> Option<f64> {
    at.map(Timestamp::as_epoch_seconds)
}

fn render_deployment(record: &ServiceDeploymentRecord, context: &ArnContext) -> wire::ServiceDeployment {
    let breaker_status = match record.breaker_status {
        BreakerStatus::Disabled => wire::ServiceDeploymentRollbackMonitorsStatus::Disabled,
        BreakerStatus::Monitoring => wire::ServiceDeploymentRollbackMonitorsStatus::Monitoring,
        BreakerStatus::MonitoringComplete => wire::ServiceDeploymentRollbackMonitorsStatus::MonitoringComplete,
        BreakerStatus::Triggered => wire::ServiceDeploymentRollbackMonitorsStatus::Triggered,
    };
    wire::ServiceDeployment {
        service_deployment_arn: Some(deployment_arn(record, context)),
        service_arn: Some(Arn::Service(record.cluster.clone(), record.service.clone()).render(context)),
        cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
        created_at: Some(record.created_at.as_epoch_seconds()),
        started_at: seconds(record.started_at),
        finished_at: seconds(record.finished_at),
        stopped_at: seconds(record.stopped_at),
        updated_at: Some(record.updated_at.as_epoch_seconds()),
        source_service_revisions: Some(
            record.source_revisions.iter().map(|counts| revision_summary(record, counts, context)).collect(),
        ),
        target_service_revision: Some(revision_summary(record, &record.target_revision, context)),
        status: Some(status(record.status)),
        status_reason: record.status_reason.clone(),
        deployment_configuration: Some(wire::DeploymentConfiguration {
            deployment_circuit_breaker: Some(wire::DeploymentCircuitBreaker {
                enable: Some(record.circuit_breaker.enable),
                rollback: Some(record.circuit_breaker.rollback),
                ..Default::default()
            }),
            maximum_percent: Some(record.maximum_percent as i32),
            minimum_healthy_percent: Some(record.minimum_healthy_percent as i32),
            ..Default::default()
        }),
        rollback: record.rollback.as_ref().map(|rollback| wire::Rollback {
            reason: Some(rollback.reason.clone()),
            started_at: Some(rollback.started_at.as_epoch_seconds()),
            service_revision_arn: rollback.revision_id.as_ref().map(|id| revision_arn(record, id, context)),
        }),
        deployment_circuit_breaker: Some(wire::ServiceDeploymentCircuitBreaker {
            status: Some(breaker_status),
            failure_count: Some(record.breaker_failure_count as i32),
            threshold: Some(record.breaker_threshold as i32),
        }),
        alarms: Some(wire::ServiceDeploymentAlarms {
            status: wire::ServiceDeploymentRollbackMonitorsStatus::parse(record.alarm_status.as_str()),
            alarm_names: record.alarms.as_ref().map(|alarms| alarms.alarm_names.clone()),
            triggered_alarm_names: (!record.triggered_alarms.is_empty()).then(|| record.triggered_alarms.clone()),
        }),
        lifecycle_stage: record.lifecycle_stage.as_deref().and_then(wire::ServiceDeploymentLifecycleStage::parse),
        lifecycle_hook_details: (!record.hook_runs.is_empty()).then(|| {
            record
                .hook_runs
                .iter()
                .map(|run| wire::DeploymentLifecycleHookDetail {
                    hook_id: Some(run.hook_id.clone()),
                    target_type: Some(wire::DeploymentLifecycleHookTargetType::Pause),
                    target_arn: None,
                    status: wire::DeploymentLifecycleHookStatus::parse(run.status.as_str()),
                    expires_at: Some(run.expires_at.as_epoch_seconds()),
                    timeout_action: wire::DeploymentLifecycleHookAction::parse(run.timeout_action.as_str()),
                })
                .collect()
        }),
    }
}

fn render_brief(record: &ServiceDeploymentRecord, context: &ArnContext) -> wire::ServiceDeploymentBrief {
    wire::ServiceDeploymentBrief {
        service_deployment_arn: Some(deployment_arn(record, context)),
        service_arn: Some(Arn::Service(record.cluster.clone(), record.service.clone()).render(context)),
        cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
        started_at: seconds(record.started_at),
        created_at: Some(record.created_at.as_epoch_seconds()),
        finished_at: seconds(record.finished_at),
        target_service_revision_arn: Some(revision_arn(record, &record.target_revision.revision_id, context)),
        status: Some(status(record.status)),
        status_reason: record.status_reason.clone(),
    }
}

fn render_revision(api: &Api, revision: &ServiceRevisionRecord, context: &ArnContext) -> wire::ServiceRevision {
    let strategy = render::capacity_provider_strategy(&revision.capacity_provider_strategy);
    let routes: Vec<&str> = revision.load_balancers.iter().filter_map(|entry| entry.gateway_route.as_deref()).collect();
    let connections = super::gateways::connections(&api.control.routes_with_gateways(&routes));
    wire::ServiceRevision {
        service_revision_arn: Some(history_arn(
            REVISION_KIND,
            &revision.cluster,
            &revision.service,
            &revision.id,
            context,
        )),
        service_arn: Some(Arn::Service(revision.cluster.clone(), revision.service.clone()).render(context)),
        cluster_arn: Some(Arn::Cluster(revision.cluster.clone()).render(context)),
        task_definition: Some(
            Arn::TaskDefinition(revision.task_definition.family.clone(), revision.task_definition.revision)
                .render(context),
        ),
        capacity_provider_strategy: (!strategy.is_empty()).then_some(strategy),
        launch_type: revision.launch_type.as_deref().and_then(wire::LaunchType::parse),
        load_balancers: Some(
            revision
                .load_balancers
                .iter()
                .filter(|entry| entry.gateway_route.is_none())
                .map(render::load_balancer)
                .collect(),
        ),
        gateway_connectors: (!revision.gateway_connectors.is_empty())
            .then(|| revision.gateway_connectors.iter().map(super::gateways::render_connector).collect()),
        ecs_managed_resources: (!connections.is_empty())
            .then(|| wire::ECSManagedResources { gateway_connections: Some(connections), ..Default::default() }),
        service_registries: Some(vec![]),
        container_images: Some(
            revision
                .container_images
                .iter()
                .map(|(name, image)| wire::ContainerImage {
                    container_name: Some(name.clone()),
                    image: Some(image.clone()),
                    image_digest: None,
                })
                .collect(),
        ),
        guard_duty_enabled: Some(false),
        created_at: Some(revision.created_at.as_epoch_seconds()),
        ..Default::default()
    }
}

pub async fn list_service_deployments(
    api: &Api,
    request: wire::ListServiceDeploymentsRequest,
) -> ApiResult<wire::ListServiceDeploymentsResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let service = service_name(request.service.as_deref(), api, &cluster, "service")?;
    let wanted = request.status.unwrap_or_default();
    let statuses: Vec<HistoryStatus> = wanted.iter().copied().filter_map(parse_status).collect();
    // Only statuses no deployment can have: nothing matches (an empty list means "any").
    let matches_nothing = !wanted.is_empty() && statuses.is_empty();
    let created = request.created_at.unwrap_or_default();
    let instant = |value: Option<f64>, field: &str| -> ApiResult<Option<Timestamp>> {
        match value {
            Some(seconds) if !seconds.is_finite() || seconds < 0.0 => {
                Err(ApiError::invalid_parameter(format!("{field}: must be a time after 1970")))
            }
            other => Ok(other.map(Timestamp::from_epoch_seconds)),
        }
    };
    let filter = HistoryFilter {
        statuses,
        created_before: instant(created.before, "createdAt.before")?,
        created_after: instant(created.after, "createdAt.after")?,
    };
    let briefs: Vec<wire::ServiceDeploymentBrief> = api
        .control
        .list_service_deployments(&cluster, &service, &filter)?
        .iter()
        .filter(|_| !matches_nothing)
        .map(|record| render_brief(record, context))
        .collect();
    let (page, next_token) = parse::page(&briefs, request.max_results, request.next_token.as_ref(), 20, 100)?;
    Ok(wire::ListServiceDeploymentsResponse { service_deployments: Some(page), next_token })
}

fn references(arns: &[String], kind: &str, context: &ArnContext, field: &str) -> ApiResult<Vec<HistoryReference>> {
    arns.iter()
        .enumerate()
        .map(|(index, arn)| history_reference(arn, kind, context, &format!("{field}[{index}]")))
        .collect()
}

pub async fn describe_service_deployments(
    api: &Api,
    request: wire::DescribeServiceDeploymentsRequest,
) -> ApiResult<wire::DescribeServiceDeploymentsResponse> {
    let context = api.context();
    let field = "serviceDeploymentArns";
    let arns = parse::bounded(request.service_deployment_arns.as_ref(), MAX_DESCRIBE, field, true)?;
    let found = api.control.describe_service_deployments(&references(arns, DEPLOYMENT_KIND, context, field)?);
    let (mut deployments, mut failures) = (Vec::new(), Vec::new());
    for (arn, record) in arns.iter().zip(found) {
        match record {
            Some(record) => deployments.push(render_deployment(&record, context)),
            None => failures.push(render::failure(Some(arn.clone()), "MISSING")),
        }
    }
    Ok(wire::DescribeServiceDeploymentsResponse { service_deployments: Some(deployments), failures: Some(failures) })
}

pub async fn describe_service_revisions(
    api: &Api,
    request: wire::DescribeServiceRevisionsRequest,
) -> ApiResult<wire::DescribeServiceRevisionsResponse> {
    let context = api.context();
    let field = "serviceRevisionArns";
    let arns = parse::bounded(request.service_revision_arns.as_ref(), MAX_DESCRIBE, field, true)?;
    let found = api.control.describe_service_revisions(&references(arns, REVISION_KIND, context, field)?);
    let (mut revisions, mut failures) = (Vec::new(), Vec::new());
    for (arn, revision) in arns.iter().zip(found) {
        match revision {
            Some(revision) => revisions.push(render_revision(api, &revision, context)),
            None => failures.push(render::failure(Some(arn.clone()), "MISSING")),
        }
    }
    Ok(wire::DescribeServiceRevisionsResponse { service_revisions: Some(revisions), failures: Some(failures) })
}

pub async fn stop_service_deployment(
    api: &Api,
    request: wire::StopServiceDeploymentRequest,
) -> ApiResult<wire::StopServiceDeploymentResponse> {
    let arn = request.service_deployment_arn.unwrap_or_default();
    let reference = history_reference(&arn, DEPLOYMENT_KIND, api.context(), "serviceDeploymentArn")?;
    // The model lists ABORT, but ECS documents ROLLBACK as the only stop type it performs.
    if request.stop_type == Some(wire::StopServiceDeploymentStopType::Abort) {
        return Err(ApiError::invalid_parameter("stopType: ABORT is not supported; the valid value is ROLLBACK"));
    }
    api.control.stop_service_deployment(&reference).await?;
    Ok(wire::StopServiceDeploymentResponse { service_deployment_arn: Some(arn) })
}

/// Resolves the PAUSE hook the deployment waits at: CONTINUE (the default) moves it on,
/// ROLLBACK rolls it back as StopServiceDeployment does.
pub async fn continue_service_deployment(
    api: &Api,
    request: wire::ContinueServiceDeploymentRequest,
) -> ApiResult<wire::ContinueServiceDeploymentResponse> {
    let arn = request.service_deployment_arn.unwrap_or_default();
    let reference = history_reference(&arn, DEPLOYMENT_KIND, api.context(), "serviceDeploymentArn")?;
    let hook = request.hook_id.unwrap_or_default();
    let action = match request.action {
        Some(wire::DeploymentLifecycleHookAction::Rollback) => HookAction::Rollback,
        _ => HookAction::Continue,
    };
    api.control.continue_service_deployment(&reference, &hook, action).await?;
    Ok(wire::ContinueServiceDeploymentResponse { service_deployment_arn: Some(arn) })
}
