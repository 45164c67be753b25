//! Reconciler cost: one full service pass over 500 services and 5,000 tasks, all steady, on
//! an in-memory store. Prints timings; asserts nothing (`cargo bench -p berth-control`).

use berth_agent_protocol::{StateReport, TaskReport};
use berth_control::container_instances::RegisterInstance;
use berth_control::services::{CreateService, ServiceConfiguration};
use berth_control::{ControlConfig, ControlPlane};
use berth_planner::TaskDefinitionKey;
use berth_store::MemoryStore;
use berth_types::records::ContainerState;
use berth_types::spec::{ContainerSpec, TaskSpec};
use berth_types::{ClusterName, Resources, ServiceName, TaskDefinitionFamily, TaskStatus, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVICES: usize = 500;
const TASKS_PER_SERVICE: u32 = 10;
const INSTANCES: usize = 100;

fn spec() -> TaskSpec {
    TaskSpec::new("bench", 0, vec![ContainerSpec { cpu: 1, memory: Some(8), ..ContainerSpec::new("app", "none") }])
}

/// Reports every non-stopped task of every instance RUNNING, as hollow agents would.
async fn report_all_running(control: &ControlPlane, cluster: &ClusterName) {
    let instances = control.list_container_instances(cluster, None, None).unwrap();
    for instance in instances {
        let document = control.desired_document(&instance, None);
        let tasks = document
            .tasks
            .iter()
            .filter(|task| task.last_status < TaskStatus::Running)
            .map(|task| TaskReport {
                task_arn: task.task_arn.clone(),
                last_status: TaskStatus::Running,
                containers: vec![ContainerState::new("app", TaskStatus::Running)],
                pull_started_at: None,
                pull_stopped_at: None,
                started_at: Some(Timestamp::now()),
                execution_stopped_at: None,
                stop_code: None,
                stopped_reason: None,
            })
            .collect();
        control.apply_report(cluster, &instance, StateReport { tasks }).await.unwrap().unwrap();
    }
}

#[tokio::main]
async fn main() {
    let mut config = ControlConfig::default();
    config.planner.healthy_after_running = Duration::ZERO;
    let control = ControlPlane::open(config, Arc::new(MemoryStore::default())).unwrap();
    let cluster = ClusterName::parse("bench").unwrap();
    control.create_cluster(cluster.clone(), vec![], Default::default()).await.unwrap();
    for index in 0..INSTANCES {
        control
            .register_container_instance(RegisterInstance {
                cluster: cluster.clone(),
                ec2_instance_id: format!("i-bench{index:05}"),
                previous_id: None,
                registered: Resources { cpu: 1 << 20, memory: 1 << 20, ..Default::default() },
                attributes: vec![],
                version_info: Default::default(),
                tags: vec![],
                capacity_provider: None,
            })
            .await
            .unwrap();
    }
    let family = TaskDefinitionFamily::parse("bench").unwrap();
    let definition =
        control.register_task_definition(family.clone(), spec(), serde_json::json!({}), vec![]).await.unwrap();
    for index in 0..SERVICES {
        control
            .create_service(CreateService {
                cluster: cluster.clone(),
                name: ServiceName::parse(&format!("svc{index:04}")).unwrap(),
                configuration: ServiceConfiguration::replica(
                    TaskDefinitionKey { family: family.clone(), revision: definition.revision },
                    TASKS_PER_SERVICE,
                ),
                tags: vec![],
                client_token: None,
            })
            .await
            .unwrap();
    }
    let started = Instant::now();
    control.reconcile_services().await;
    println!(
        "first pass (launches {} tasks): {:.1} ms",
        SERVICES as u32 * TASKS_PER_SERVICE,
        started.elapsed().as_secs_f64() * 1e3
    );
    report_all_running(&control, &cluster).await;
    // Passes until every deployment has completed, then time passes over the steady world.
    for _ in 0..3 {
        control.reconcile_services().await;
    }
    let mut samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        control.reconcile_services().await;
        samples.push(started.elapsed());
    }
    samples.sort();
    let tasks = control.list_tasks(&cluster, &Default::default()).unwrap().len();
    println!(
        "steady pass over {SERVICES} services / {tasks} running tasks: median {:.1} ms, max {:.1} ms",
        samples[samples.len() / 2].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}
