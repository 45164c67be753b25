//! CreateDaemon, UpdateDaemon, DeleteDaemon, DescribeDaemon, ListDaemons,
//! ListDaemonDeployments, DescribeDaemonDeployments and DescribeDaemonRevisions: requests
//! parsed into `berth_control::daemons` values here, records and counts rendered back.
//!
//! Invariant: a malformed member is refused naming its field and changes nothing; a
//! well-formed deployment or revision ARN that names nothing is a `MISSING` failure.

use super::daemon_task_definitions::reference as definition_reference;
use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use berth_control::daemons::actions::{CreateDaemon, DaemonDeploymentFilter, DaemonUpdate};
use berth_control::daemons::counts::RevisionCounts;
use berth_control::daemons::records::{
    DaemonConfiguration, DaemonDeploymentRecord, DaemonDeploymentSettings, DaemonDeploymentStatus, DaemonRecord,
    DaemonRevisionRecord, DaemonStatus,
};
use berth_ecs_wire as wire;
use berth_planner::TaskDefinitionKey;
use berth_types::daemons::{DaemonArn, DaemonHistoryKind};
use berth_types::{Arn, ArnContext, ClusterName, DaemonName, TaskDefinitionFamily, Timestamp};

/// ECS describes at most 20 deployments or revisions per call and pages lists by up to 100.
const MAX_DESCRIBE: usize = 20;
const MAX_PAGE: usize = 100;
/// A week: Berth's bound on `bakeTimeInMinutes` (the model gives none).
const MAX_BAKE_TIME_MINUTES: i32 = 7 * 24 * 60;

fn daemon_arn(cluster: &ClusterName, name: &DaemonName, context: &ArnContext) -> String {
    DaemonArn::Daemon(cluster.clone(), name.clone()).render(context)
}

fn history_arn(
    kind: DaemonHistoryKind,
    cluster: &ClusterName,
    daemon: &DaemonName,
    id: &str,
    context: &ArnContext,
) -> String {
    DaemonArn::History { kind, cluster: cluster.clone(), daemon: daemon.clone(), id: id.to_string() }.render(context)
}

fn deployment_arn(record: &DaemonDeploymentRecord, context: &ArnContext) -> String {
    history_arn(DaemonHistoryKind::Deployment, &record.cluster, &record.daemon, &record.id, context)
}

fn status(status: DaemonStatus) -> wire::DaemonStatus {
    match status {
        DaemonStatus::Active => wire::DaemonStatus::Active,
        DaemonStatus::DeleteInProgress => wire::DaemonStatus::DeleteInProgress,
    }
}

fn deployment_status(status: DaemonDeploymentStatus) -> wire::DaemonDeploymentStatus {
    wire::DaemonDeploymentStatus::parse(status.as_str()).expect("daemon deployment statuses are ECS's")
}

fn seconds(at: Option<Timestamp>) -> Option<f64> {
    at.map(Timestamp::as_epoch_seconds)
}

/// `daemonArn`: the daemon's full ARN.
fn daemon_reference(value: Option<&String>, context: &ArnContext, field: &str) -> ApiResult<(ClusterName, DaemonName)> {
    let value = value.map(String::as_str).unwrap_or_default();
    match DaemonArn::parse(value, context) {
        Ok(DaemonArn::Daemon(cluster, name)) => Ok((cluster, name)),
        Ok(_) => Err(ApiError::invalid_parameter(format!("{field}: {value:?} is not a daemon ARN"))),
        Err(error) => Err(ApiError::invalid_parameter(format!("{field}: {error}"))),
    }
}

/// Capacity providers by ARN or name.
fn capacity_providers(
    values: Option<&Vec<String>>,
    context: &ArnContext,
    field: &str,
    required: bool,
) -> ApiResult<Vec<String>> {
    let values = parse::bounded(values, MAX_PAGE, field, required)?;
    let mut names: Vec<String> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let name = if value.starts_with("arn:") {
            match Arn::parse(value, context) {
                Ok(Arn::CapacityProvider(name)) => name,
                _ => {
                    return Err(ApiError::invalid_parameter(format!(
                        "{field}[{index}]: {value:?} is not a capacity provider ARN"
                    )))
                }
            }
        } else {
            value.clone()
        };
        if name.is_empty() {
            return Err(ApiError::invalid_parameter(format!("{field}[{index}]: a capacity provider name is required")));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

fn deployment_settings(
    configuration: Option<&wire::DaemonDeploymentConfiguration>,
) -> ApiResult<DaemonDeploymentSettings> {
    let mut settings = DaemonDeploymentSettings::default();
    let Some(configuration) = configuration else { return Ok(settings) };
    if let Some(drain) = configuration.drain_percent {
        if !(0.0..=100.0).contains(&drain) {
            return Err(ApiError::invalid_parameter(format!(
                "deploymentConfiguration.drainPercent: must be between 0.0 and 100.0, got {drain}"
            )));
        }
        settings.drain_percent = drain;
    }
    if let Some(minutes) = configuration.bake_time_in_minutes {
        if !(0..=MAX_BAKE_TIME_MINUTES).contains(&minutes) {
            return Err(ApiError::invalid_parameter(format!(
                "deploymentConfiguration.bakeTimeInMinutes: must be between 0 and {MAX_BAKE_TIME_MINUTES}, got {minutes}"
            )));
        }
        settings.bake_time_in_minutes = minutes as u32;
    }
    if let Some(alarms) = &configuration.alarms {
        if alarms.enable == Some(true) {
            return Err(ApiError::invalid_parameter(
                "deploymentConfiguration.alarms.enable: CloudWatch alarm rollbacks are not supported by Berth yet.",
            ));
        }
        settings.alarm_names = alarms.alarm_names.clone().unwrap_or_default();
    }
    Ok(settings)
}

/// The members CreateDaemon and UpdateDaemon share.
struct ConfigurationMembers<'a> {
    task_definition: Option<&'a String>,
    capacity_providers: Option<&'a Vec<String>>,
    deployment: Option<&'a wire::DaemonDeploymentConfiguration>,
    propagate_tags: Option<wire::DaemonPropagateTags>,
    enable_ecs_managed_tags: Option<bool>,
    enable_execute_command: Option<bool>,
    critical: Option<bool>,
}

/// The members parsed; those left out stay `None` (UpdateDaemon keeps the current value).
fn update(members: ConfigurationMembers, context: &ArnContext) -> ApiResult<DaemonUpdate> {
    let value = members.task_definition.map(String::as_str).unwrap_or_default();
    let task_definition = match definition_reference(value, context, "daemonTaskDefinitionArn")? {
        (family, Some(revision)) => {
            TaskDefinitionKey { family: TaskDefinitionFamily::parse(&family).map_err(ApiError::from)?, revision }
        }
        (family, None) => {
            return Err(ApiError::invalid_parameter(format!(
                "daemonTaskDefinitionArn: a revision is required (a full ARN or {family}:REVISION), got {value:?}"
            )))
        }
    };
    Ok(DaemonUpdate {
        task_definition,
        capacity_providers: capacity_providers(members.capacity_providers, context, "capacityProviderArns", true)?,
        deployment: members.deployment.map(|deployment| deployment_settings(Some(deployment))).transpose()?,
        propagate_tags: members.propagate_tags.map(|propagate| propagate == wire::DaemonPropagateTags::Daemon),
        enable_ecs_managed_tags: members.enable_ecs_managed_tags,
        enable_execute_command: members.enable_execute_command,
        critical: members.critical,
    })
}

/// CreateDaemon's configuration: ECS's defaults for what is left out.
fn configuration(members: ConfigurationMembers, context: &ArnContext) -> ApiResult<DaemonConfiguration> {
    let update = update(members, context)?;
    Ok(DaemonConfiguration {
        task_definition: update.task_definition,
        capacity_providers: update.capacity_providers,
        deployment: update.deployment.unwrap_or_default(),
        propagate_tags: update.propagate_tags.unwrap_or(false),
        enable_ecs_managed_tags: update.enable_ecs_managed_tags.unwrap_or(false),
        enable_execute_command: update.enable_execute_command.unwrap_or(false),
        critical: update.critical.unwrap_or(true),
    })
}

fn client_token(token: Option<&String>) -> ApiResult<Option<String>> {
    match token {
        None => Ok(None),
        Some(token)
            if !token.is_empty() && token.len() <= 36 && token.bytes().all(|byte| (33..=126).contains(&byte)) =>
        {
            Ok(Some(token.clone()))
        }
        Some(_) => {
            Err(ApiError::invalid_parameter("clientToken: must be 1 to 36 ASCII characters in the range 33-126"))
        }
    }
}

pub async fn create_daemon(api: &Api, request: wire::CreateDaemonRequest) -> ApiResult<wire::CreateDaemonResponse> {
    let context = api.context();
    let name = DaemonName::parse(request.daemon_name.as_deref().unwrap_or_default())
        .map_err(|error| ApiError::invalid_parameter(format!("daemonName: {error}")))?;
    let cluster = parse::cluster(request.cluster_arn.as_ref(), context)?;
    let configuration = configuration(
        ConfigurationMembers {
            task_definition: request.daemon_task_definition_arn.as_ref(),
            capacity_providers: request.capacity_provider_arns.as_ref(),
            deployment: request.deployment_configuration.as_ref(),
            propagate_tags: request.propagate_tags,
            enable_ecs_managed_tags: request.enable_ecs_managed_tags,
            enable_execute_command: request.enable_execute_command,
            critical: request.critical,
        },
        context,
    )?;
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let client_token = client_token(request.client_token.as_ref())?;
    let record = api.control.create_daemon(CreateDaemon { cluster, name, configuration, tags, client_token }).await?;
    Ok(wire::CreateDaemonResponse {
        daemon_arn: Some(daemon_arn(&record.cluster, &record.name, context)),
        status: Some(status(record.status)),
        created_at: Some(record.created_at.as_epoch_seconds()),
        deployment_arn: Some(current_deployment_arn(&record, context)),
    })
}

fn current_deployment_arn(record: &DaemonRecord, context: &ArnContext) -> String {
    history_arn(DaemonHistoryKind::Deployment, &record.cluster, &record.name, &record.deployment_id, context)
}

pub async fn update_daemon(api: &Api, request: wire::UpdateDaemonRequest) -> ApiResult<wire::UpdateDaemonResponse> {
    let context = api.context();
    let (cluster, name) = daemon_reference(request.daemon_arn.as_ref(), context, "daemonArn")?;
    let update = update(
        ConfigurationMembers {
            task_definition: request.daemon_task_definition_arn.as_ref(),
            capacity_providers: request.capacity_provider_arns.as_ref(),
            deployment: request.deployment_configuration.as_ref(),
            propagate_tags: request.propagate_tags,
            enable_ecs_managed_tags: request.enable_ecs_managed_tags,
            enable_execute_command: request.enable_execute_command,
            critical: request.critical,
        },
        context,
    )?;
    let record = api.control.update_daemon(&cluster, &name, update).await?;
    Ok(wire::UpdateDaemonResponse {
        daemon_arn: Some(daemon_arn(&record.cluster, &record.name, context)),
        status: Some(status(record.status)),
        created_at: Some(record.created_at.as_epoch_seconds()),
        updated_at: Some(record.updated_at.as_epoch_seconds()),
        deployment_arn: Some(current_deployment_arn(&record, context)),
    })
}

pub async fn delete_daemon(api: &Api, request: wire::DeleteDaemonRequest) -> ApiResult<wire::DeleteDaemonResponse> {
    let context = api.context();
    let (cluster, name) = daemon_reference(request.daemon_arn.as_ref(), context, "daemonArn")?;
    let record = api.control.delete_daemon(&cluster, &name).await?;
    Ok(wire::DeleteDaemonResponse {
        daemon_arn: Some(daemon_arn(&record.cluster, &record.name, context)),
        status: Some(status(record.status)),
        created_at: Some(record.created_at.as_epoch_seconds()),
        updated_at: Some(record.updated_at.as_epoch_seconds()),
        deployment_arn: Some(current_deployment_arn(&record, context)),
    })
}

fn revision_detail(
    counts: &RevisionCounts,
    cluster: &ClusterName,
    daemon: &DaemonName,
    context: &ArnContext,
) -> wire::DaemonRevisionDetail {
    wire::DaemonRevisionDetail {
        arn: Some(history_arn(DaemonHistoryKind::Revision, cluster, daemon, &counts.revision_id, context)),
        capacity_providers: Some(
            counts
                .providers
                .iter()
                .map(|provider| wire::DaemonCapacityProvider {
                    arn: Some(Arn::CapacityProvider(provider.capacity_provider.clone()).render(context)),
                    running_count: Some(provider.running as i32),
                    without_daemon_count: Some(provider.without_daemon as i32),
                })
                .collect(),
        ),
        total_running_count: Some(counts.total_running() as i32),
        total_without_daemon_count: Some(counts.total_without_daemon() as i32),
    }
}

pub async fn describe_daemon(
    api: &Api,
    request: wire::DescribeDaemonRequest,
) -> ApiResult<wire::DescribeDaemonResponse> {
    let context = api.context();
    let (cluster, name) = daemon_reference(request.daemon_arn.as_ref(), context, "daemonArn")?;
    let record = api.control.describe_daemon(&cluster, &name)?;
    let revisions = api.control.daemon_current_revisions(&record);
    Ok(wire::DescribeDaemonResponse {
        daemon: Some(wire::DaemonDetail {
            daemon_arn: Some(daemon_arn(&record.cluster, &record.name, context)),
            cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
            status: Some(status(record.status)),
            current_revisions: Some(
                revisions
                    .iter()
                    .map(|counts| revision_detail(counts, &record.cluster, &record.name, context))
                    .collect(),
            ),
            deployment_arn: Some(current_deployment_arn(&record, context)),
            created_at: Some(record.created_at.as_epoch_seconds()),
            updated_at: Some(record.updated_at.as_epoch_seconds()),
        }),
    })
}

pub async fn list_daemons(api: &Api, request: wire::ListDaemonsRequest) -> ApiResult<wire::ListDaemonsResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster_arn.as_ref(), context)?;
    let providers =
        capacity_providers(request.capacity_provider_arns.as_ref(), context, "capacityProviderArns", false)?;
    let records = api.control.list_daemons(&cluster, &providers)?;
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListDaemonsResponse {
        daemon_summaries_list: Some(
            page.iter()
                .map(|record| wire::DaemonSummary {
                    daemon_arn: Some(daemon_arn(&record.cluster, &record.name, context)),
                    status: Some(status(record.status)),
                    created_at: Some(record.created_at.as_epoch_seconds()),
                    updated_at: Some(record.updated_at.as_epoch_seconds()),
                })
                .collect(),
        ),
        next_token,
    })
}

pub async fn list_daemon_deployments(
    api: &Api,
    request: wire::ListDaemonDeploymentsRequest,
) -> ApiResult<wire::ListDaemonDeploymentsResponse> {
    let context = api.context();
    let (cluster, name) = daemon_reference(request.daemon_arn.as_ref(), context, "daemonArn")?;
    let statuses = request
        .status
        .iter()
        .flatten()
        .map(|status| DaemonDeploymentStatus::parse(status.as_str()).expect("the wire's statuses are the model's"))
        .collect();
    let created = request.created_at.as_ref();
    let filter = DaemonDeploymentFilter {
        statuses,
        created_after: created.and_then(|created| created.after).map(Timestamp::from_epoch_seconds),
        created_before: created.and_then(|created| created.before).map(Timestamp::from_epoch_seconds),
    };
    let records = api.control.list_daemon_deployments(&cluster, &name, &filter)?;
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListDaemonDeploymentsResponse {
        next_token,
        daemon_deployments: Some(
            page.iter()
                .map(|record| wire::DaemonDeploymentSummary {
                    daemon_deployment_arn: Some(deployment_arn(record, context)),
                    daemon_arn: Some(daemon_arn(&record.cluster, &record.daemon, context)),
                    cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
                    status: Some(deployment_status(record.status)),
                    status_reason: Some(record.status_reason.clone()),
                    target_daemon_revision_arn: record.target_revision.as_ref().map(|id| {
                        history_arn(DaemonHistoryKind::Revision, &record.cluster, &record.daemon, id, context)
                    }),
                    created_at: Some(record.created_at.as_epoch_seconds()),
                    started_at: seconds(record.started_at),
                    stopped_at: seconds(record.stopped_at),
                    finished_at: seconds(record.finished_at),
                })
                .collect(),
        ),
    })
}

/// The history items a describe call names, each as its ARN text and parsed reference.
/// Each referenced history record rendered, or a MISSING failure for its ARN.
fn found_and_missing<T>(
    references: Vec<(String, ClusterName, DaemonName, String)>,
    find: impl Fn(&ClusterName, &DaemonName, &str) -> Option<T>,
) -> (Vec<T>, Vec<wire::Failure>) {
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for (arn, cluster, daemon, id) in references {
        match find(&cluster, &daemon, &id) {
            Some(rendered) => found.push(rendered),
            None => failures.push(missing(arn)),
        }
    }
    (found, failures)
}

fn history_references(
    values: Option<&Vec<String>>,
    kind: DaemonHistoryKind,
    context: &ArnContext,
    field: &str,
) -> ApiResult<Vec<(String, ClusterName, DaemonName, String)>> {
    let values = parse::bounded(values, MAX_DESCRIBE, field, true)?;
    values
        .iter()
        .enumerate()
        .map(|(index, value)| match DaemonArn::parse(value, context) {
            Ok(DaemonArn::History { kind: found, cluster, daemon, id }) if found == kind => {
                Ok((value.clone(), cluster, daemon, id))
            }
            _ => Err(ApiError::invalid_parameter(format!(
                "{field}[{index}]: {value:?} is not a valid {} ARN",
                match kind {
                    DaemonHistoryKind::Deployment => "daemon deployment",
                    DaemonHistoryKind::Revision => "daemon revision",
                }
            ))),
        })
        .collect()
}

fn missing(arn: String) -> wire::Failure {
    wire::Failure { arn: Some(arn), reason: Some("MISSING".to_string()), detail: None }
}

fn deployment_revision_detail(
    counts: &RevisionCounts,
    record: &DaemonDeploymentRecord,
    context: &ArnContext,
) -> wire::DaemonDeploymentRevisionDetail {
    wire::DaemonDeploymentRevisionDetail {
        arn: Some(history_arn(
            DaemonHistoryKind::Revision,
            &record.cluster,
            &record.daemon,
            &counts.revision_id,
            context,
        )),
        capacity_providers: Some(
            counts
                .providers
                .iter()
                .map(|provider| wire::DaemonDeploymentCapacityProvider {
                    arn: Some(Arn::CapacityProvider(provider.capacity_provider.clone()).render(context)),
                    running_instance_count: Some(provider.running as i32),
                    without_daemon_instance_count: Some(provider.without_daemon as i32),
                    draining_instance_count: Some(provider.draining as i32),
                })
                .collect(),
        ),
        total_running_instance_count: Some(counts.total_running() as i32),
        total_without_daemon_instance_count: Some(counts.total_without_daemon() as i32),
        total_draining_instance_count: Some(counts.total_draining() as i32),
    }
}

fn render_deployment(api: &Api, record: &DaemonDeploymentRecord) -> wire::DaemonDeployment {
    let context = api.context();
    let current = api
        .control
        .describe_daemon(&record.cluster, &record.daemon)
        .ok()
        .filter(|daemon| daemon.deployment_id == record.id)
        .map(|daemon| daemon.revision_id);
    let target = record.target_revision.iter().cloned().collect::<Vec<_>>();
    let target_counts =
        api.control.daemon_revision_counts(&record.cluster, &record.daemon, &target, current.as_deref());
    let source_counts =
        api.control.daemon_revision_counts(&record.cluster, &record.daemon, &record.source_revisions, None);
    let settings = &record.settings;
    wire::DaemonDeployment {
        daemon_deployment_arn: Some(deployment_arn(record, context)),
        cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
        status: Some(deployment_status(record.status)),
        status_reason: Some(record.status_reason.clone()),
        target_daemon_revision: target_counts.first().map(|counts| deployment_revision_detail(counts, record, context)),
        source_daemon_revisions: Some(
            source_counts.iter().map(|counts| deployment_revision_detail(counts, record, context)).collect(),
        ),
        circuit_breaker: Some(wire::DaemonCircuitBreaker {
            failure_count: Some(0),
            status: Some(wire::DaemonDeploymentRollbackMonitorsStatus::Disabled),
            threshold: Some(0),
        }),
        alarms: Some(wire::DaemonDeploymentAlarms {
            status: Some(wire::DaemonDeploymentRollbackMonitorsStatus::Disabled),
            alarm_names: Some(settings.alarm_names.clone()),
            triggered_alarm_names: Some(vec![]),
        }),
        rollback: None,
        deployment_configuration: Some(wire::DaemonDeploymentConfiguration {
            drain_percent: Some(settings.drain_percent),
            alarms: Some(wire::DaemonAlarmConfiguration {
                alarm_names: Some(settings.alarm_names.clone()),
                enable: Some(false),
            }),
            bake_time_in_minutes: Some(settings.bake_time_in_minutes as i32),
        }),
        created_at: Some(record.created_at.as_epoch_seconds()),
        started_at: seconds(record.started_at),
        stopped_at: seconds(record.stopped_at),
        finished_at: seconds(record.finished_at),
    }
}

pub async fn describe_daemon_deployments(
    api: &Api,
    request: wire::DescribeDaemonDeploymentsRequest,
) -> ApiResult<wire::DescribeDaemonDeploymentsResponse> {
    let references = history_references(
        request.daemon_deployment_arns.as_ref(),
        DaemonHistoryKind::Deployment,
        api.context(),
        "daemonDeploymentArns",
    )?;
    let (deployments, failures) = found_and_missing(references, |cluster, daemon, id| {
        api.control.find_daemon_deployment(cluster, daemon, id).map(|record| render_deployment(api, &record))
    });
    Ok(wire::DescribeDaemonDeploymentsResponse { failures: Some(failures), daemon_deployments: Some(deployments) })
}

fn render_revision(record: &DaemonRevisionRecord, context: &ArnContext) -> wire::DaemonRevision {
    wire::DaemonRevision {
        daemon_revision_arn: Some(history_arn(
            DaemonHistoryKind::Revision,
            &record.cluster,
            &record.daemon,
            &record.id,
            context,
        )),
        cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
        daemon_arn: Some(daemon_arn(&record.cluster, &record.daemon, context)),
        daemon_task_definition_arn: Some(
            DaemonArn::TaskDefinition(record.task_definition.family.clone(), record.task_definition.revision)
                .render(context),
        ),
        created_at: Some(record.created_at.as_epoch_seconds()),
        container_images: Some(
            record
                .container_images
                .iter()
                .map(|(name, image)| wire::DaemonContainerImage {
                    container_name: Some(name.clone()),
                    image_digest: None,
                    image: Some(image.clone()),
                })
                .collect(),
        ),
        propagate_tags: Some(if record.propagate_tags {
            wire::DaemonPropagateTags::Daemon
        } else {
            wire::DaemonPropagateTags::None
        }),
        enable_ecs_managed_tags: Some(record.enable_ecs_managed_tags),
        enable_execute_command: Some(record.enable_execute_command),
        critical: Some(record.critical),
    }
}

pub async fn describe_daemon_revisions(
    api: &Api,
    request: wire::DescribeDaemonRevisionsRequest,
) -> ApiResult<wire::DescribeDaemonRevisionsResponse> {
    let references = history_references(
        request.daemon_revision_arns.as_ref(),
        DaemonHistoryKind::Revision,
        api.context(),
        "daemonRevisionArns",
    )?;
    let (revisions, failures) = found_and_missing(references, |cluster, daemon, id| {
        api.control.find_daemon_revision(cluster, daemon, id).map(|record| render_revision(&record, api.context()))
    });
    Ok(wire::DescribeDaemonRevisionsResponse { daemon_revisions: Some(revisions), failures: Some(failures) })
}
