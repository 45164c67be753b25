//! The one mapping from the planner's deployments (`ServiceProgress`) to the durable service
//! history: which records a starting deployment writes, how each pass moves an open
//! service-deployment record, and which revision a planner deployment rolls out.
//!
//! Invariant: every function here only computes changes; the caller puts them in the same
//! write as the service change that caused them (CreateService, UpdateService, a reconciler
//! pass, StopServiceDeployment), so history and progress never disagree on disk. A pass over
//! an unchanged world yields no change (`updated_at` moves only with something else).

use super::records::{
    history_id, history_key, service_prefix, BreakerStatus, HistoryStatus, RevisionCounts, RollbackRecord,
    ServiceDeploymentRecord, ServiceRevisionRecord,
};
use crate::service_reconciler::service_spec;
use crate::services::ServiceRecord;
use crate::state::{Change, State};
use crate::task_definitions::find_task_definition;
use berth_planner::{
    circuit_breaker_threshold, Deployment, DeploymentStatus, RolloutState, ServiceProgress, TaskDefinitionKey,
};
use berth_types::Timestamp;

pub const SUPERSEDED_REASON: &str = "Service deployment stopped: a newer service deployment superseded it.";
pub const CIRCUIT_BREAKER_ROLLBACK_REASON: &str =
    "The deployment circuit breaker detected task failures and rolled the service deployment back.";
pub const ALARM_ROLLBACK_REASON: &str =
    "A deployment alarm went into ALARM state and rolled the service deployment back.";

/// The failures after which the service's circuit breaker trips, for `desired` tasks.
fn breaker_threshold(service: &ServiceRecord, desired: u32) -> u32 {
    circuit_breaker_threshold(service_spec(service).deployment_configuration.circuit_breaker.threshold, desired)
}

/// The service's open (not terminal) deployment records.
fn open_records<'a>(state: &'a State, service: &ServiceRecord) -> impl Iterator<Item = &'a ServiceDeploymentRecord> {
    let prefix = service_prefix(&service.cluster, &service.name);
    state
        .service_deployments
        .range(prefix.clone()..)
        .take_while(move |(key, _)| key.starts_with(&prefix))
        .map(|(_, record)| record)
        .filter(|record| !record.status.is_terminal())
}

/// The revision a planner deployment rolls out: its own, or for a rollback the revision its
/// service deployment rolls back to. `None` for deployments older than the history.
pub fn revision_of(state: &State, service: &ServiceRecord, deployment: &Deployment) -> Option<String> {
    if let Some(failed) = &deployment.rollback_of {
        let key = history_key(&service.cluster, &service.name, &history_id(failed));
        return state.service_deployments.get(&key)?.rollback.as_ref()?.revision_id.clone();
    }
    let id = history_id(&deployment.id);
    state.service_revisions.contains_key(&history_key(&service.cluster, &service.name, &id)).then_some(id)
}

/// The newest revision of the service with this task definition, for a rollback target.
pub fn revision_with_task_definition(
    state: &State,
    service: &ServiceRecord,
    sources: &[RevisionCounts],
    task_definition: &TaskDefinitionKey,
) -> Option<String> {
    let key_of = |id: &str| history_key(&service.cluster, &service.name, id);
    let matches = |id: &str| {
        state.service_revisions.get(&key_of(id)).is_some_and(|revision| &revision.task_definition == task_definition)
    };
    if let Some(source) = sources.iter().find(|source| matches(&source.revision_id)) {
        return Some(source.revision_id.clone());
    }
    let prefix = service_prefix(&service.cluster, &service.name);
    state
        .service_revisions
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(_, revision)| revision)
        .filter(|revision| &revision.task_definition == task_definition)
        .max_by_key(|revision| revision.created_at)
        .map(|revision| revision.id.clone())
}

/// What CreateService or UpdateService writes beside the service when it begins a deployment:
/// the open deployments become STOPPED (superseded), and the new PRIMARY gets its revision
/// and its deployment record, PENDING until the first pass. `previous` is the progress before
/// `begin_deployment`; `service` already holds the new PRIMARY.
pub fn started_deployment_changes(
    state: &State,
    service: &ServiceRecord,
    previous: &ServiceProgress,
    now: Timestamp,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for open in open_records(state, service) {
        let mut stopped = open.clone();
        stopped.status = HistoryStatus::Stopped;
        stopped.status_reason = Some(SUPERSEDED_REASON.to_string());
        stopped.stopped_at = Some(now);
        stopped.finished_at = Some(now);
        stopped.updated_at = now;
        complete_monitors(&mut stopped);
        changes.push(Change::PutServiceDeployment(Box::new(stopped)));
    }
    let Some(primary) = service.progress.primary() else { return changes };
    let id = history_id(&primary.id);
    // Newest first must mean something even for updates within one millisecond.
    let prefix = service_prefix(&service.cluster, &service.name);
    let created_at = state
        .service_deployments
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(_, record)| Timestamp(record.created_at.0 + 1))
        .fold(now, Timestamp::max);
    let configuration = &service.configuration;
    let container_images =
        find_task_definition(state, primary.task_definition.family.as_str(), Some(primary.task_definition.revision))
            .map(|definition| definition.spec.container_images())
            .unwrap_or_default();
    let launch_type = configuration
        .capacity_provider_strategy
        .is_empty()
        .then(|| configuration.launch_type.clone().unwrap_or_else(|| "EC2".to_string()));
    changes.push(Change::PutServiceRevision(Box::new(ServiceRevisionRecord {
        id: id.clone(),
        cluster: service.cluster.clone(),
        service: service.name.clone(),
        task_definition: primary.task_definition.clone(),
        capacity_provider_strategy: configuration.capacity_provider_strategy.clone(),
        launch_type,
        container_images,
        created_at: now,
        load_balancers: configuration.load_balancers.clone(),
        gateway_connectors: configuration.gateway_connectors.clone(),
    })));
    let counts = |revision_id: String, deployment: &Deployment| RevisionCounts {
        revision_id,
        deployment_id: deployment.id.clone(),
        requested: deployment.desired_count,
        running: deployment.running_count,
        pending: deployment.pending_count,
    };
    // The previous PRIMARY first (it is first in the progress), then the others still serving.
    let source_revisions = previous
        .visible_deployments()
        .filter_map(|deployment| Some(counts(revision_of(state, service, deployment)?, deployment)))
        .collect();
    let breaker = configuration.circuit_breaker.clone();
    changes.push(Change::PutServiceDeployment(Box::new(ServiceDeploymentRecord {
        id: id.clone(),
        cluster: service.cluster.clone(),
        service: service.name.clone(),
        deployment_id: primary.id.clone(),
        status: HistoryStatus::Pending,
        status_reason: None,
        created_at,
        started_at: None,
        finished_at: None,
        stopped_at: None,
        updated_at: created_at,
        source_revisions,
        target_revision: counts(id, primary),
        minimum_healthy_percent: configuration.minimum_healthy_percent,
        maximum_percent: configuration.maximum_percent,
        breaker_status: if breaker.enable { BreakerStatus::Monitoring } else { BreakerStatus::Disabled },
        breaker_failure_count: 0,
        breaker_threshold: breaker_threshold(service, primary.desired_count),
        circuit_breaker: breaker,
        rollback: None,
        alarm_status: match &configuration.deployment_alarms {
            Some(alarms) if alarms.enable => BreakerStatus::Monitoring,
            _ => BreakerStatus::Disabled,
        },
        alarms: configuration.deployment_alarms.clone(),
        triggered_alarms: vec![],
        lifecycle_stage: None,
        hook_runs: vec![],
    })));
    changes
}

/// What a service's deletion removes: its whole history, as ECS deletes a deleted service's
/// service deployments. Comes after the pass's own history changes in the same batch.
pub fn deleted_service_changes(state: &State, service: &ServiceRecord) -> Vec<Change> {
    let prefix = service_prefix(&service.cluster, &service.name);
    let deployments = state
        .service_deployments
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(key, _)| Change::DeleteServiceDeployment(key.clone()));
    let revisions = state
        .service_revisions
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(key, _)| Change::DeleteServiceRevision(key.clone()));
    deployments.chain(revisions).collect()
}

/// The records a reconciler pass rewrites: every open deployment of the service whose planner
/// deployments moved. `service` already holds the pass's new progress.
pub fn pass_changes(state: &State, service: &ServiceRecord, now: Timestamp) -> Vec<Change> {
    open_records(state, service)
        .filter_map(|record| {
            let mut next = follow(
                record,
                &service.progress,
                |desired| breaker_threshold(service, desired),
                |task_definition| {
                    revision_with_task_definition(state, service, &record.source_revisions, task_definition)
                },
                now,
            );
            if let Some(shift) = service.traffic.shift.as_ref().filter(|shift| shift.deployment == next.deployment_id) {
                next.lifecycle_stage = Some(shift.lifecycle_stage().to_string());
                next.hook_runs = shift.hook_runs.clone();
            }
            if next.alarm_status == BreakerStatus::Triggered && next.triggered_alarms.is_empty() {
                next.triggered_alarms = alarms_in_alarm(state, &next);
            }
            if &next == record {
                return None;
            }
            next.updated_at = now;
            Some(Change::PutServiceDeployment(Box::new(next)))
        })
        .collect()
}

/// A finished deployment's monitors that were still watching have finished watching.
fn complete_monitors(record: &mut ServiceDeploymentRecord) {
    for status in [&mut record.breaker_status, &mut record.alarm_status] {
        if *status == BreakerStatus::Monitoring {
            *status = BreakerStatus::MonitoringComplete;
        }
    }
}

/// The deployment's alarms now in ALARM: the ones that triggered it.
fn alarms_in_alarm(state: &State, record: &ServiceDeploymentRecord) -> Vec<String> {
    let Some(alarms) = &record.alarms else { return vec![] };
    alarms
        .alarm_names
        .iter()
        .filter(|name| {
            state
                .alarms
                .alarms
                .get(*name)
                .is_some_and(|alarm| alarm.state == crate::cloudwatch::alarms::records::AlarmState::Alarm)
        })
        .cloned()
        .collect()
}

/// One open record moved along by the planner's progress; returned unchanged (`updated_at`
/// included) when nothing it shows has changed.
pub fn follow(
    record: &ServiceDeploymentRecord,
    progress: &ServiceProgress,
    threshold: impl Fn(u32) -> u32,
    rollback_revision: impl Fn(&TaskDefinitionKey) -> Option<String>,
    now: Timestamp,
) -> ServiceDeploymentRecord {
    let mut next = record.clone();
    if next.status.is_terminal() {
        return next;
    }
    let refresh = |counts: &mut RevisionCounts| {
        if let Some(deployment) = progress.deployment(&counts.deployment_id) {
            counts.requested = deployment.desired_count;
            counts.running = deployment.running_count;
            counts.pending = deployment.pending_count;
        }
    };
    refresh(&mut next.target_revision);
    next.source_revisions.iter_mut().for_each(refresh);
    let target = progress.deployment(&next.deployment_id);
    if let Some(target) = target {
        if next.breaker_status != BreakerStatus::Disabled {
            next.breaker_failure_count = next.breaker_failure_count.max(target.failed_tasks);
            if target.status == DeploymentStatus::Primary {
                next.breaker_threshold = threshold(target.desired_count);
            }
        }
    }
    let rollback =
        progress.deployments.iter().find(|deployment| deployment.rollback_of.as_ref() == Some(&next.deployment_id));
    let finish = |next: &mut ServiceDeploymentRecord, status: HistoryStatus, reason: &str| {
        next.status = status;
        next.status_reason = Some(reason.to_string());
        next.started_at.get_or_insert(now);
        if status.is_terminal() {
            next.finished_at = Some(now);
            complete_monitors(next);
        }
    };
    if let Some(rollback) = rollback {
        let by_alarm = rollback.rollout_state_reason.starts_with(berth_planner::DEPLOYMENT_ALARMS);
        if next.rollback.is_none() && by_alarm {
            // Nobody asked for it: a deployment alarm went into ALARM.
            next.alarm_status = BreakerStatus::Triggered;
            next.rollback = Some(RollbackRecord {
                reason: ALARM_ROLLBACK_REASON.to_string(),
                started_at: rollback.created_at,
                revision_id: rollback_revision(&rollback.task_definition),
                deployment_id: Some(rollback.id.clone()),
            });
        }
        if next.rollback.is_none() {
            // Nobody asked for it: the circuit breaker rolled the deployment back.
            if next.breaker_status != BreakerStatus::Disabled {
                next.breaker_status = BreakerStatus::Triggered;
                // The breaker trips exactly when the failures reach the threshold; a failed
                // deployment without tasks left is pruned in that same pass, before its last
                // count could be read here.
                if target.is_none() {
                    next.breaker_failure_count = next.breaker_failure_count.max(next.breaker_threshold);
                }
            }
            next.rollback = Some(RollbackRecord {
                reason: CIRCUIT_BREAKER_ROLLBACK_REASON.to_string(),
                started_at: rollback.created_at,
                revision_id: rollback_revision(&rollback.task_definition),
                deployment_id: Some(rollback.id.clone()),
            });
        }
        let reason = next.rollback.as_ref().map(|rollback| rollback.reason.clone()).unwrap_or_default();
        match rollback.rollout_state {
            RolloutState::InProgress if next.status != HistoryStatus::RollbackInProgress => {
                finish(&mut next, HistoryStatus::RollbackInProgress, &reason)
            }
            RolloutState::InProgress => {}
            RolloutState::Completed => {
                finish(&mut next, HistoryStatus::RollbackSuccessful, &rollback.rollout_state_reason)
            }
            RolloutState::Failed => finish(&mut next, HistoryStatus::RollbackFailed, &rollback.rollout_state_reason),
        }
        return next;
    }
    let Some(target) = target else { return next };
    match target.rollout_state {
        RolloutState::InProgress if next.status == HistoryStatus::Pending => {
            finish(&mut next, HistoryStatus::InProgress, &target.rollout_state_reason)
        }
        RolloutState::InProgress => {}
        RolloutState::Completed => finish(&mut next, HistoryStatus::Successful, &target.rollout_state_reason),
        RolloutState::Failed => {
            // Failed without a rollback: the circuit breaker or an alarm stopped it where it
            // stood.
            if target.rollout_state_reason.starts_with(berth_planner::DEPLOYMENT_ALARMS) {
                next.alarm_status = BreakerStatus::Triggered;
            } else if next.breaker_status != BreakerStatus::Disabled {
                next.breaker_status = BreakerStatus::Triggered;
            }
            next.stopped_at = Some(now);
            finish(&mut next, HistoryStatus::Stopped, &target.rollout_state_reason);
        }
    }
    next
}
