//! Service scheduling speed: a service of N tasks from CreateService to steady state, then a
//! rolling update (min 100 %, max 200 %) of all N to COMPLETED — side by side with the same
//! containers started (and, for the update, replaced) through the Docker Engine API back to
//! back. Figures only; the lower-is-better ratio is the scheduler's overhead.

use crate::ecs_client::EcsClient;
use anyhow::{bail, Context};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use bollard::Docker;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct ServiceOptions {
    pub endpoint: String,
    pub cluster: String,
    pub image: String,
    pub tasks: usize,
}

/// How long either phase may take before the benchmark gives up.
const PHASE_DEADLINE: Duration = Duration::from_secs(600);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const BENCH_LABEL: &str = "dev.berth.bench";
/// A container that exits promptly on SIGTERM, so that replacing it costs no stop timeout.
const COMMAND: [&str; 3] = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

pub async fn run(options: ServiceOptions) -> anyhow::Result<()> {
    let docker = Docker::connect_with_local_defaults().context("connecting to the Docker Engine")?;
    let ecs = EcsClient::new(&options.endpoint)?;
    let (docker_start, docker_replace) = docker_baseline(&docker, &options).await?;
    let name = format!("berth-bench-service-{}", std::process::id());
    ecs.call(
        "RegisterTaskDefinition",
        &json!({
            "family": name,
            "containerDefinitions": [{
                "name": "app", "image": options.image, "memory": 16, "essential": true,
                "command": COMMAND, "stopTimeout": 2
            }]
        }),
    )
    .await?;
    let started = Instant::now();
    ecs.call(
        "CreateService",
        &json!({
            "cluster": options.cluster, "serviceName": name, "taskDefinition": name,
            "desiredCount": options.tasks,
            "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200}
        }),
    )
    .await?;
    let steady = wait(&ecs, &options.cluster, &name, started, |service| stable(service, options.tasks)).await?;
    let first_completed =
        wait(&ecs, &options.cluster, &name, started, |service| completed(service, options.tasks)).await?;
    let update_started = Instant::now();
    ecs.call("UpdateService", &json!({"cluster": options.cluster, "service": name, "forceNewDeployment": true}))
        .await?;
    let rolled =
        wait(&ecs, &options.cluster, &name, update_started, |service| completed(service, options.tasks)).await?;
    ecs.call("UpdateService", &json!({"cluster": options.cluster, "service": name, "desiredCount": 0})).await?;
    ecs.call("DeleteService", &json!({"cluster": options.cluster, "service": name})).await?;

    let seconds = |duration: Duration| duration.as_secs_f64();
    let overhead = |berth: Duration, docker: Duration| (berth.as_secs_f64() / docker.as_secs_f64() - 1.0) * 100.0;
    println!("service benchmark: {} tasks of {}", options.tasks, options.image);
    println!("  docker: {} containers created+started back to back     {:7.2} s", options.tasks, seconds(docker_start));
    println!(
        "  berth: CreateService -> steady (services-stable)        {:7.2} s   ({:+.0} %)",
        seconds(steady),
        overhead(steady, docker_start)
    );
    println!("  berth: CreateService -> deployment COMPLETED           {:7.2} s", seconds(first_completed));
    println!(
        "  docker: {} containers replaced one by one (start new, stop old) {:7.2} s",
        options.tasks,
        seconds(docker_replace)
    );
    println!(
        "  berth: rolling update (100/200) -> COMPLETED           {:7.2} s   ({:+.0} %)",
        seconds(rolled),
        overhead(rolled, docker_replace)
    );
    Ok(())
}

/// `aws ecs wait services-stable`'s condition: one deployment, running == desired.
fn stable(service: &Value, tasks: usize) -> bool {
    service["deployments"].as_array().map(Vec::len) == Some(1) && service["runningCount"].as_u64() == Some(tasks as u64)
}

fn completed(service: &Value, tasks: usize) -> bool {
    stable(service, tasks) && service["deployments"][0]["rolloutState"] == "COMPLETED"
}

async fn wait(
    ecs: &EcsClient,
    cluster: &str,
    name: &str,
    started: Instant,
    done: impl Fn(&Value) -> bool,
) -> anyhow::Result<Duration> {
    loop {
        let described = ecs.call("DescribeServices", &json!({"cluster": cluster, "services": [name]})).await?;
        if done(&described["services"][0]) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > PHASE_DEADLINE {
            bail!(
                "service {name} did not get there within {PHASE_DEADLINE:?}: {}",
                described["services"][0]["events"][0]
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Times `tasks` creates+starts back to back, then replacing each (start new, stop and remove
/// old) back to back, and removes everything it made.
async fn docker_baseline(docker: &Docker, options: &ServiceOptions) -> anyhow::Result<(Duration, Duration)> {
    let labels = HashMap::from([(BENCH_LABEL.to_string(), "service".to_string())]);
    let body = ContainerCreateBody {
        image: Some(options.image.clone()),
        cmd: Some(COMMAND.iter().map(|part| part.to_string()).collect()),
        labels: Some(labels),
        host_config: Some(HostConfig { memory: Some(16 * 1024 * 1024), ..Default::default() }),
        ..Default::default()
    };
    let start = |generation: usize, index: usize| {
        let docker = docker.clone();
        let body = body.clone();
        async move {
            let name = format!("berth-bench-service-{}-{generation}-{index}", std::process::id());
            let options = CreateContainerOptionsBuilder::new().name(&name).build();
            let created = docker.create_container(Some(options), body).await?;
            docker.start_container(&created.id, None::<bollard::query_parameters::StartContainerOptions>).await?;
            anyhow::Ok(created.id)
        }
    };
    let started = Instant::now();
    let mut current = Vec::new();
    for index in 0..options.tasks {
        current.push(start(0, index).await?);
    }
    let start_time = started.elapsed();
    let replaced = Instant::now();
    for (index, old) in current.iter().enumerate() {
        start(1, index).await?;
        docker.stop_container(old, Some(StopContainerOptionsBuilder::new().t(2).build())).await?;
    }
    let replace_time = replaced.elapsed();
    let filters = HashMap::from([("label", vec![format!("{BENCH_LABEL}=service")])]);
    let listing = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    for container in docker.list_containers(Some(listing)).await.unwrap_or_default() {
        if let Some(id) = container.id {
            let _ = docker.remove_container(&id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await;
        }
    }
    Ok((start_time, replace_time))
}
