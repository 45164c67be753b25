//! The mapping from planner deployments to service-deployment records, pass by pass, and the
//! records CreateService, UpdateService and StopServiceDeployment write.

use super::actions::HistoryReference;
use super::mapping::{follow, CIRCUIT_BREAKER_ROLLBACK_REASON, SUPERSEDED_REASON};
use super::records::{history_id, BreakerStatus, HistoryStatus, RevisionCounts, ServiceDeploymentRecord};
use crate::error::ControlError;
use crate::services::{CircuitBreakerSettings, CreateService, ServiceConfiguration, UpdateService};
use crate::testing::{cluster_with_instance, control_plane, name};
use berth_planner::{begin_deployment, begin_rollback, DeploymentId, RolloutState, ServiceProgress, TaskDefinitionKey};
use berth_types::{ServiceName, TaskDefinitionFamily, Timestamp};
use rand::SeedableRng;

fn key(revision: u32) -> TaskDefinitionKey {
    TaskDefinitionKey { family: TaskDefinitionFamily::parse("web").unwrap(), revision }
}

fn deployment_id(seed: u64) -> DeploymentId {
    DeploymentId::generate(&mut rand::rngs::StdRng::seed_from_u64(seed))
}

/// A record following `deployment`, as UpdateService writes it (PENDING), breaker enabled.
fn record_for(deployment: &DeploymentId, source: Option<&DeploymentId>) -> ServiceDeploymentRecord {
    let counts = |id: &DeploymentId| RevisionCounts {
        revision_id: history_id(id),
        deployment_id: id.clone(),
        requested: 3,
        running: 0,
        pending: 0,
    };
    ServiceDeploymentRecord {
        id: history_id(deployment),
        cluster: name("prod"),
        service: ServiceName::parse("web").unwrap(),
        deployment_id: deployment.clone(),
        status: HistoryStatus::Pending,
        status_reason: None,
        created_at: Timestamp(1_000),
        started_at: None,
        finished_at: None,
        stopped_at: None,
        updated_at: Timestamp(1_000),
        source_revisions: source.into_iter().map(counts).collect(),
        target_revision: counts(deployment),
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        circuit_breaker: CircuitBreakerSettings { enable: true, rollback: true, ..Default::default() },
        breaker_status: BreakerStatus::Monitoring,
        breaker_failure_count: 0,
        breaker_threshold: 3,
        rollback: None,
        alarms: None,
        alarm_status: BreakerStatus::Disabled,
        triggered_alarms: vec![],
        lifecycle_stage: None,
        hook_runs: vec![],
    }
}

fn step(record: &ServiceDeploymentRecord, progress: &ServiceProgress, now: i64) -> ServiceDeploymentRecord {
    follow(record, progress, |_| 3, |task_definition| Some(format!("rev-of-{task_definition}")), Timestamp(now))
}

/// Two deployments: `old` COMPLETED, `new` the PRIMARY in progress.
fn two_deployments() -> (ServiceProgress, DeploymentId, DeploymentId) {
    let (old, new) = (deployment_id(1), deployment_id(2));
    let mut progress = ServiceProgress::default();
    begin_deployment(&mut progress, old.clone(), key(1), 3, Timestamp(10));
    progress.deployments[0].rollout_state = RolloutState::Completed;
    begin_deployment(&mut progress, new.clone(), key(2), 3, Timestamp(1_000));
    (progress, old, new)
}

#[test]
fn a_rollout_moves_from_pending_through_in_progress_to_successful() {
    let (mut progress, old, new) = two_deployments();
    let pending = record_for(&new, Some(&old));
    let started = step(&pending, &progress, 2_000);
    assert_eq!(started.status, HistoryStatus::InProgress);
    assert_eq!(started.started_at, Some(Timestamp(2_000)));
    assert_eq!(step(&started, &progress, 3_000), started, "an unchanged world changes nothing");

    progress.deployments[0].running_count = 3;
    progress.deployments[0].rollout_state = RolloutState::Completed;
    progress.deployments[1].running_count = 0;
    let done = step(&started, &progress, 4_000);
    assert_eq!(done.status, HistoryStatus::Successful);
    assert_eq!(done.finished_at, Some(Timestamp(4_000)));
    assert_eq!(done.target_revision.running, 3);
    assert_eq!(done.breaker_status, BreakerStatus::MonitoringComplete);
    assert_eq!(done.stopped_at, None);
    assert_eq!(step(&done, &progress, 9_000), done, "a finished deployment never changes again");
}

#[test]
fn a_circuit_breaker_rollback_is_triggered_then_successful() {
    let (mut progress, old, new) = two_deployments();
    let started = step(&record_for(&new, Some(&old)), &progress, 2_000);
    // The breaker trips after 3 failures and rolls back to the COMPLETED deployment.
    progress.deployments[0].failed_tasks = 3;
    progress.deployments[0].rollout_state = RolloutState::Failed;
    let rollback_id = deployment_id(3);
    begin_rollback(&mut progress, &new, rollback_id.clone(), key(1), 3, "rolling back".into(), Timestamp(2_500));
    let rolling = step(&started, &progress, 3_000);
    assert_eq!(rolling.status, HistoryStatus::RollbackInProgress);
    assert_eq!(rolling.breaker_status, BreakerStatus::Triggered);
    assert_eq!(rolling.breaker_failure_count, 3);
    let rollback = rolling.rollback.clone().unwrap();
    assert_eq!(rollback.reason, CIRCUIT_BREAKER_ROLLBACK_REASON);
    assert_eq!(rollback.started_at, Timestamp(2_500));
    assert_eq!(rollback.revision_id.as_deref(), Some("rev-of-web:1"));
    assert_eq!(rollback.deployment_id, Some(rollback_id));

    progress.deployments[0].rollout_state = RolloutState::Completed;
    let rolled_back = step(&rolling, &progress, 5_000);
    assert_eq!(rolled_back.status, HistoryStatus::RollbackSuccessful);
    assert_eq!(rolled_back.finished_at, Some(Timestamp(5_000)));
    assert_eq!(rolled_back.breaker_status, BreakerStatus::Triggered, "the breaker stays TRIGGERED");
}

#[test]
fn a_failed_deployment_pruned_in_the_tripping_pass_still_counts_its_failures() {
    let (mut progress, old, new) = two_deployments();
    let started = step(&record_for(&new, Some(&old)), &progress, 2_000);
    progress.deployments[0].failed_tasks = 2;
    let counted = step(&started, &progress, 2_200);
    assert_eq!(counted.breaker_failure_count, 2);
    // The third failure trips the breaker; the failed deployment has no task left and is gone.
    begin_rollback(&mut progress, &new, deployment_id(3), key(1), 3, "rolling back".into(), Timestamp(2_500));
    progress.deployments.retain(|deployment| deployment.id != new);
    let rolling = step(&counted, &progress, 3_000);
    assert_eq!(rolling.status, HistoryStatus::RollbackInProgress);
    assert_eq!((rolling.breaker_status, rolling.breaker_failure_count), (BreakerStatus::Triggered, 3));
}

#[test]
fn a_failed_deployment_without_rollback_is_stopped() {
    let (mut progress, old, new) = two_deployments();
    let started = step(&record_for(&new, Some(&old)), &progress, 2_000);
    progress.deployments[0].failed_tasks = 4;
    progress.deployments[0].rollout_state = RolloutState::Failed;
    let stopped = step(&started, &progress, 3_000);
    assert_eq!(stopped.status, HistoryStatus::Stopped);
    assert_eq!(stopped.stopped_at, Some(Timestamp(3_000)));
    assert_eq!(stopped.breaker_status, BreakerStatus::Triggered);
    assert_eq!(stopped.breaker_failure_count, 4);
}

#[test]
fn a_disabled_breaker_reports_disabled_throughout() {
    let (mut progress, old, new) = two_deployments();
    let mut record = record_for(&new, Some(&old));
    record.breaker_status = BreakerStatus::Disabled;
    progress.deployments[0].failed_tasks = 2;
    progress.deployments[0].rollout_state = RolloutState::Completed;
    let done = step(&record, &progress, 2_000);
    assert_eq!((done.status, done.breaker_status), (HistoryStatus::Successful, BreakerStatus::Disabled));
    assert_eq!(done.breaker_failure_count, 0);
}

fn configuration(revision: u32) -> ServiceConfiguration {
    ServiceConfiguration::replica(key(revision), 1)
}

#[tokio::test]
async fn create_and_update_write_revisions_and_deployments_and_stop_rolls_back() {
    let control = control_plane();
    cluster_with_instance(&control, "prod", 1024, 1024).await;
    let family = TaskDefinitionFamily::parse("web").unwrap();
    let spec = crate::testing::task_spec();
    control.register_task_definition(family, spec, serde_json::json!({}), vec![]).await.unwrap();
    let service = ServiceName::parse("api").unwrap();
    control
        .create_service(CreateService {
            cluster: name("prod"),
            name: service.clone(),
            configuration: configuration(1),
            tags: vec![],
            client_token: None,
        })
        .await
        .unwrap();
    let update = UpdateService { task_definition: Some(key(2)), ..Default::default() };
    control.update_service(&name("prod"), &service, update).await.unwrap();

    let history = control.list_service_deployments(&name("prod"), &service, &Default::default()).unwrap();
    assert_eq!(history.len(), 2);
    let (second, first) = (&history[0], &history[1]);
    assert_eq!(second.status, HistoryStatus::Pending, "newest first, not yet picked up by a pass");
    assert_eq!(first.status, HistoryStatus::Stopped);
    assert_eq!(first.status_reason.as_deref(), Some(SUPERSEDED_REASON));
    assert!(first.source_revisions.is_empty(), "CreateService has nothing to move from");
    assert_eq!(second.source_revisions.len(), 1);
    assert_eq!(second.source_revisions[0].revision_id, first.target_revision.revision_id);
    let revision_of = |id: &str| HistoryReference { cluster: name("prod"), service: service.clone(), id: id.into() };
    let revisions = control.describe_service_revisions(&[
        revision_of(&first.target_revision.revision_id),
        revision_of(&second.target_revision.revision_id),
        revision_of("404"),
    ]);
    assert_eq!(revisions[0].as_ref().unwrap().task_definition, key(1));
    assert_eq!(revisions[1].as_ref().unwrap().task_definition, key(2));
    assert_eq!(
        revisions[1].as_ref().unwrap().container_images,
        vec![("web".to_string(), "berth-test/busybox:latest".to_string())]
    );
    assert!(revisions[2].is_none());

    // A finished deployment cannot be stopped; an unknown one is not found.
    let stop_first = control.stop_service_deployment(&revision_of(&first.id)).await;
    assert!(matches!(stop_first, Err(ControlError::Conflict { .. })), "{stop_first:?}");
    let unknown = control.stop_service_deployment(&revision_of("1234")).await;
    assert!(matches!(unknown, Err(ControlError::ServiceDeploymentNotFound)), "{unknown:?}");

    // Stopping the open one starts a rollback to the source revision's task definition.
    control.stop_service_deployment(&revision_of(&second.id)).await.unwrap();
    let stopped = &control.describe_service_deployments(&[revision_of(&second.id)])[0].clone().unwrap();
    assert_eq!(stopped.status, HistoryStatus::RollbackRequested);
    let rollback = stopped.rollback.as_ref().unwrap();
    assert_eq!(rollback.revision_id.as_deref(), Some(first.target_revision.revision_id.as_str()));
    let (summaries, _) = control.describe_services(&name("prod"), std::slice::from_ref(&service)).unwrap();
    let primary = summaries[0].record.progress.primary().unwrap().clone();
    assert_eq!(primary.task_definition, key(1));
    assert_eq!(primary.rollback_of.as_ref(), Some(&second.deployment_id));
    assert_eq!(Some(&primary.id), rollback.deployment_id.as_ref());
    // Asking again while the rollback runs changes nothing.
    control.stop_service_deployment(&revision_of(&second.id)).await.unwrap();
    let (again, _) = control.describe_services(&name("prod"), std::slice::from_ref(&service)).unwrap();
    assert_eq!(again[0].record.progress.primary().unwrap().id, primary.id);

    // Deleting the service deletes its history once the service is gone (INACTIVE).
    control.delete_service(&name("prod"), &service, true).await.unwrap();
    control.reconcile_services().await;
    let (gone, _) = control.describe_services(&name("prod"), std::slice::from_ref(&service)).unwrap();
    assert_eq!(gone[0].record.status, crate::services::ServiceStatus::Inactive);
    assert!(control.list_service_deployments(&name("prod"), &service, &Default::default()).unwrap().is_empty());
    let after = control.describe_service_revisions(&[revision_of(&first.target_revision.revision_id)]);
    assert!(after[0].is_none());
}
