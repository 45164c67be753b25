//! A hollow agent: registers an instance through the real API and plays an agent's part —
//! every task it is given is reported RUNNING at once, every stop STOPPED — without Docker.
//! It lets API benchmarks hold many tasks without starting containers.

use berth_agent::client::{instance_id_from_arn, ServerClient};
use berth_agent_protocol::{StateReport, TaskReport};
use berth_ecs_wire::{RegisterContainerInstanceRequest, Resource};
use berth_types::records::ContainerState;
use berth_types::{DesiredStatus, HealthStatus, TaskStatus, Timestamp};
use tokio::task::JoinHandle;

/// Registers a hollow instance in `cluster` and serves it until the returned handle is aborted.
pub async fn spawn(endpoint: &str, cluster: &str, identity: &str) -> anyhow::Result<JoinHandle<()>> {
    let client = ServerClient::new(endpoint, cluster).map_err(anyhow::Error::msg)?;
    let integer = |name: &str, value: i32| Resource {
        name: Some(name.to_string()),
        r#type: Some("INTEGER".to_string()),
        integer_value: Some(value),
        ..Default::default()
    };
    let request = RegisterContainerInstanceRequest {
        cluster: Some(cluster.to_string()),
        instance_identity_document: Some(serde_json::json!({ "instanceId": identity }).to_string()),
        total_resources: Some(vec![integer("CPU", 1024 * 1024), integer("MEMORY", 1024 * 1024)]),
        ..Default::default()
    };
    let arn = client.register(&request).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    let instance = instance_id_from_arn(&arn).to_string();
    Ok(tokio::spawn(async move {
        let mut generation = 0;
        loop {
            let Ok(document) = client.poll_desired(&instance, generation).await else {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            generation = document.generation;
            let now = Timestamp::now();
            let tasks: Vec<TaskReport> = document
                .tasks
                .iter()
                .filter_map(|task| {
                    let status = match task.desired_status {
                        DesiredStatus::Running if task.last_status < TaskStatus::Running => TaskStatus::Running,
                        DesiredStatus::Stopped if task.last_status < TaskStatus::Stopped => TaskStatus::Stopped,
                        _ => return None,
                    };
                    Some(TaskReport {
                        task_arn: task.task_arn.clone(),
                        last_status: status,
                        containers: task
                            .spec
                            .containers
                            .iter()
                            .map(|container| ContainerState {
                                name: container.name.clone(),
                                runtime_id: None,
                                last_status: status,
                                exit_code: (status == TaskStatus::Stopped).then_some(0),
                                reason: None,
                                network_bindings: vec![],
                                health_status: HealthStatus::Unknown,
                                image_digest: None,
                            })
                            .collect(),
                        pull_started_at: None,
                        pull_stopped_at: None,
                        started_at: Some(now),
                        execution_stopped_at: (status == TaskStatus::Stopped).then_some(now),
                        stop_code: None,
                        stopped_reason: None,
                    })
                })
                .collect();
            if !tasks.is_empty() {
                let _ = client.report(&instance, &StateReport { tasks }).await;
            }
        }
    }))
}
