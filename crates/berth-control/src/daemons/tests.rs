//! Daemons end to end inside the control plane: definitions numbered on their own, one task
//! per instance of the daemon's capacity providers (joining instances included), a roll to a
//! new definition, deletion, and everything surviving a reopen of the store.

use super::actions::{CreateDaemon, DaemonDeploymentFilter, DaemonUpdate};
use super::records::{DaemonConfiguration, DaemonDeploymentStatus, DaemonRecord, DaemonStatus};
use super::task_definitions::{DaemonDefinitionFilter, DaemonDefinitionStatusFilter};
use crate::error::ControlError;
use crate::state::Change;
use crate::testing::{add_instance, name, task_spec};
use crate::{ControlConfig, ControlPlane};
use berth_planner::{PlannerSettings, TaskDefinitionKey};
use berth_store::{EmbeddedStore, MemoryStore, Store};
use berth_types::daemons::DaemonTaskDefinitionStatus;
use berth_types::records::TaskRecord;
use berth_types::{ContainerInstanceId, DaemonName, DesiredStatus, TaskDefinitionFamily, TaskStatus, Timestamp};
use std::sync::Arc;
use std::time::Duration;

fn config() -> ControlConfig {
    ControlConfig {
        planner: PlannerSettings { healthy_after_running: Duration::ZERO, ..Default::default() },
        ..Default::default()
    }
}

fn daemon_name() -> DaemonName {
    DaemonName::parse("log-shipper").unwrap()
}

fn key(revision: u32) -> TaskDefinitionKey {
    TaskDefinitionKey { family: TaskDefinitionFamily::parse("shipper").unwrap(), revision }
}

fn update(revision: u32) -> DaemonUpdate {
    DaemonUpdate {
        task_definition: key(revision),
        capacity_providers: vec!["blue".to_string()],
        deployment: None,
        propagate_tags: None,
        enable_ecs_managed_tags: None,
        enable_execute_command: Some(true),
        critical: None,
    }
}

fn configuration(revision: u32, providers: &[&str]) -> DaemonConfiguration {
    DaemonConfiguration {
        task_definition: key(revision),
        capacity_providers: providers.iter().map(|provider| provider.to_string()).collect(),
        deployment: Default::default(),
        propagate_tags: false,
        enable_ecs_managed_tags: false,
        enable_execute_command: false,
        critical: true,
    }
}

/// A cluster `prod` with providers `blue` and `green` and two daemon definition revisions.
async fn world(store: Arc<dyn Store>) -> Arc<ControlPlane> {
    let control = ControlPlane::open(config(), store).unwrap();
    control.create_cluster(name("prod"), vec![], Default::default()).await.unwrap();
    for provider in ["blue", "green"] {
        control.create_capacity_provider(provider.to_string(), None, vec![]).await.unwrap();
    }
    control.put_cluster_capacity_providers(&name("prod"), vec!["blue".into(), "green".into()], vec![]).await.unwrap();
    let family = TaskDefinitionFamily::parse("shipper").unwrap();
    for _ in 0..2 {
        control
            .register_daemon_task_definition(family.clone(), task_spec(), serde_json::json!({}), vec![])
            .await
            .unwrap();
    }
    control
}

fn daemon_tasks(control: &ControlPlane) -> Vec<TaskRecord> {
    let state = control.read();
    state.tasks_in_group(&name("prod"), &DaemonRecord::group(&daemon_name())).cloned().collect()
}

fn live_on(control: &ControlPlane, instance: &ContainerInstanceId) -> Vec<TaskRecord> {
    daemon_tasks(control)
        .into_iter()
        .filter(|task| &task.container_instance == instance && task.desired_status == DesiredStatus::Running)
        .collect()
}

/// Plays the agents: every task asked to run is RUNNING, every task asked to stop is STOPPED.
async fn agents_converge(control: &ControlPlane) {
    control
        .mutate(|state| {
            let changes = state
                .tasks
                .values()
                .filter_map(|task| {
                    let mut moved = task.clone();
                    match task.desired_status {
                        DesiredStatus::Running if task.last_status != TaskStatus::Running => {
                            moved.last_status = TaskStatus::Running;
                            moved.started_at = Some(Timestamp::now());
                        }
                        DesiredStatus::Stopped if task.last_status != TaskStatus::Stopped => {
                            moved.last_status = TaskStatus::Stopped;
                            moved.stopped_at = Some(Timestamp::now());
                        }
                        _ => return None,
                    }
                    moved.version += 1;
                    Some(Change::PutTask(moved))
                })
                .collect();
            Ok((changes, ()))
        })
        .await
        .unwrap();
}

/// Passes and agent rounds until nothing changes any more.
async fn settle(control: &ControlPlane) {
    for _ in 0..10 {
        control.reconcile_daemons().await;
        agents_converge(control).await;
    }
}

#[tokio::test]
async fn daemon_definitions_have_their_own_numbering_and_lifecycle() {
    let control = world(Arc::new(MemoryStore::default())).await;
    let ordinary = TaskDefinitionFamily::parse("shipper").unwrap();
    let first = control.register_task_definition(ordinary, task_spec(), serde_json::json!({}), vec![]).await.unwrap();
    assert_eq!(first.revision, 1, "ordinary definitions of the same family count on their own");
    let latest = control.describe_daemon_task_definition("shipper", None).unwrap();
    assert_eq!((latest.revision, latest.spec.revision), (2, 2));

    let deleted = control.delete_daemon_task_definition("shipper", 2).await.unwrap();
    assert_eq!(deleted.status, DaemonTaskDefinitionStatus::Deleted, "no daemon uses it");
    assert!(deleted.delete_requested_at.is_some());
    assert!(matches!(control.delete_daemon_task_definition("shipper", 2).await, Err(ControlError::Client(_))));
    assert_eq!(control.describe_daemon_task_definition("shipper", None).unwrap().revision, 1);
    let active = control.list_daemon_task_definitions(&DaemonDefinitionFilter::default());
    assert_eq!(active.iter().map(|record| record.revision).collect::<Vec<_>>(), vec![1]);
    let all = control.list_daemon_task_definitions(&DaemonDefinitionFilter {
        status: Some(DaemonDefinitionStatusFilter::All),
        descending: true,
        ..Default::default()
    });
    assert_eq!(all.iter().map(|record| record.revision).collect::<Vec<_>>(), vec![2, 1]);

    control
        .create_daemon(CreateDaemon {
            cluster: name("prod"),
            name: daemon_name(),
            configuration: configuration(1, &["blue"]),
            tags: vec![],
            client_token: None,
        })
        .await
        .unwrap();
    let in_use = control.delete_daemon_task_definition("shipper", 1).await.unwrap();
    assert_eq!(in_use.status, DaemonTaskDefinitionStatus::DeleteInProgress, "a daemon still runs it");
    control.delete_daemon(&name("prod"), &daemon_name()).await.unwrap();
    settle(&control).await;
    let finished = control.describe_daemon_task_definition("shipper", Some(1)).unwrap();
    assert_eq!(finished.status, DaemonTaskDefinitionStatus::Deleted, "nothing uses it once the daemon is gone");
}

#[tokio::test]
async fn one_task_per_instance_of_the_capacity_providers_rolled_and_deleted() {
    let control = world(Arc::new(MemoryStore::default())).await;
    let blue = add_instance(&control, "prod", "i-blue-1", &[], Some("blue")).await;
    let green = add_instance(&control, "prod", "i-green-1", &[], Some("green")).await;
    let created = control
        .create_daemon(CreateDaemon {
            cluster: name("prod"),
            name: daemon_name(),
            configuration: configuration(1, &["blue"]),
            tags: vec![],
            client_token: Some("token".into()),
        })
        .await
        .unwrap();
    let again = control
        .create_daemon(CreateDaemon {
            cluster: name("prod"),
            name: daemon_name(),
            configuration: configuration(1, &["blue"]),
            tags: vec![],
            client_token: Some("token".into()),
        })
        .await
        .unwrap();
    assert_eq!(again.deployment_id, created.deployment_id, "a retried create is idempotent");

    settle(&control).await;
    let on_blue = live_on(&control, &blue);
    assert_eq!(on_blue.len(), 1, "one task on the provider's instance");
    assert_eq!(on_blue[0].last_status, TaskStatus::Running);
    assert_eq!(on_blue[0].started_by.as_deref(), Some(format!("ecs-svc/{}", created.deployment_id).as_str()));
    assert!(live_on(&control, &green).is_empty(), "none on another provider's instance");
    let deployments = control.list_daemon_deployments(&name("prod"), &daemon_name(), &Default::default()).unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].status, DaemonDeploymentStatus::Successful);
    let daemon = control.describe_daemon(&name("prod"), &daemon_name()).unwrap();
    let revisions = control.daemon_current_revisions(&daemon);
    assert_eq!((revisions[0].total_running(), revisions[0].total_without_daemon()), (1, 0));

    // A joining instance of the provider gets its task.
    let joined = add_instance(&control, "prod", "i-blue-2", &[], Some("blue")).await;
    settle(&control).await;
    assert_eq!(live_on(&control, &joined).len(), 1);
    assert_eq!(live_on(&control, &blue).len(), 1, "still one per instance");

    // A new definition rolls every instance.
    let updated = control.update_daemon(&name("prod"), &daemon_name(), update(2)).await.unwrap();
    assert_ne!(updated.revision_id, created.revision_id);
    assert!(
        updated.configuration.enable_execute_command && updated.configuration.critical,
        "left out members are kept"
    );
    settle(&control).await;
    for instance in [&blue, &joined] {
        let live = live_on(&control, instance);
        assert_eq!(live.len(), 1);
        assert_eq!((live[0].revision, live[0].last_status), (2, TaskStatus::Running));
        assert!(live[0].enable_execute_command, "the new revision's tasks take its settings");
    }
    let deployments = control.list_daemon_deployments(&name("prod"), &daemon_name(), &Default::default()).unwrap();
    assert_eq!(deployments.len(), 2);
    assert_eq!(deployments[0].id, updated.deployment_id, "newest first");
    assert_eq!(deployments[0].status, DaemonDeploymentStatus::Successful);
    assert_eq!(deployments[0].source_revisions, vec![created.revision_id.clone()]);
    let successful_only =
        DaemonDeploymentFilter { statuses: vec![DaemonDeploymentStatus::Stopped], ..Default::default() };
    assert!(control.list_daemon_deployments(&name("prod"), &daemon_name(), &successful_only).unwrap().is_empty());

    // Deletion stops every task, then the daemon is gone; its history stays.
    let deleting = control.delete_daemon(&name("prod"), &daemon_name()).await.unwrap();
    assert_eq!(deleting.status, DaemonStatus::DeleteInProgress);
    assert!(matches!(
        control.update_daemon(&name("prod"), &daemon_name(), update(2)).await,
        Err(ControlError::DaemonNotActive(_))
    ));
    settle(&control).await;
    assert!(daemon_tasks(&control).iter().all(|task| task.last_status == TaskStatus::Stopped));
    assert!(matches!(control.describe_daemon(&name("prod"), &daemon_name()), Err(ControlError::DaemonNotFound)));
    let history = control.find_daemon_deployment(&name("prod"), &daemon_name(), &deleting.deployment_id).unwrap();
    assert_eq!(history.status, DaemonDeploymentStatus::Successful);
}

#[tokio::test]
async fn configuration_is_checked_against_the_cluster() {
    let control = world(Arc::new(MemoryStore::default())).await;
    let create = |configuration| CreateDaemon {
        cluster: name("prod"),
        name: daemon_name(),
        configuration,
        tags: vec![],
        client_token: None,
    };
    let missing_provider = control.create_daemon(create(configuration(1, &["blue", "purple"]))).await;
    assert!(
        matches!(missing_provider, Err(ControlError::InvalidParameter(message)) if message.starts_with("capacityProviderArns[1]"))
    );
    let missing_definition = control.create_daemon(create(configuration(9, &["blue"]))).await;
    assert!(
        matches!(missing_definition, Err(ControlError::Client(message)) if message.starts_with("daemonTaskDefinitionArn"))
    );
    let unknown_cluster =
        control.create_daemon(CreateDaemon { cluster: name("nowhere"), ..create(configuration(1, &["blue"])) }).await;
    assert!(matches!(unknown_cluster, Err(ControlError::ClusterNotFound)));
    assert!(matches!(
        control.update_daemon(&name("prod"), &daemon_name(), update(1)).await,
        Err(ControlError::DaemonNotFound)
    ));
}

#[tokio::test]
async fn daemons_and_their_definitions_survive_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("berth.redb");
    let created = {
        let control = world(Arc::new(EmbeddedStore::open(&path).unwrap())).await;
        add_instance(&control, "prod", "i-blue-1", &[], Some("blue")).await;
        let created = control
            .create_daemon(CreateDaemon {
                cluster: name("prod"),
                name: daemon_name(),
                configuration: configuration(2, &["blue"]),
                tags: vec![],
                client_token: None,
            })
            .await
            .unwrap();
        control.reconcile_daemons().await;
        created
    };
    let reopened = ControlPlane::open(config(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
    assert_eq!(reopened.describe_daemon_task_definition("shipper", None).unwrap().revision, 2);
    let daemon = reopened.describe_daemon(&name("prod"), &daemon_name()).unwrap();
    assert_eq!(daemon.deployment_id, created.deployment_id);
    assert!(reopened.find_daemon_revision(&name("prod"), &daemon_name(), &created.revision_id).is_some());
    assert_eq!(daemon_tasks(&reopened).len(), 1, "the daemon's task is durable too");
}
