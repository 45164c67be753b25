//! Launch latency: RunTask until the task is RUNNING, side by side with creating and starting
//! the same container straight through the Docker Engine API (what `docker run -d` does, minus
//! the CLI's own start-up). Samples alternate between the two so both see the same noise.

use crate::ecs_client::EcsClient;
use crate::stats::{millis, summarise};
use anyhow::{bail, Context};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct LaunchOptions {
    pub endpoint: String,
    pub cluster: String,
    pub image: String,
    pub samples: usize,
}

/// How long one launch may take before the benchmark gives up on it.
const LAUNCH_DEADLINE: Duration = Duration::from_secs(60);
/// How often the client looks at the task while it waits for RUNNING.
const POLL_INTERVAL: Duration = Duration::from_millis(2);
const BENCH_LABEL: &str = "dev.berth.bench";

pub async fn run(options: LaunchOptions) -> anyhow::Result<()> {
    let docker = Docker::connect_with_local_defaults().context("connecting to the Docker Engine")?;
    let ecs = EcsClient::new(&options.endpoint)?;
    ecs.call(
        "RegisterTaskDefinition",
        &json!({
            "family": "berth-bench-launch",
            "containerDefinitions": [{
                "name": "sleeper", "image": options.image, "memory": 16, "essential": true,
                "command": ["sleep", "3600"], "stopTimeout": 1
            }]
        }),
    )
    .await?;
    let mut docker_samples = Vec::new();
    let mut berth_samples = Vec::new();
    let mut berth_server_samples = Vec::new();
    let mut run_task_samples = Vec::new();
    let mut task_arns = Vec::new();
    for index in 0..options.samples {
        docker_samples.push(docker_launch(&docker, &options.image, index).await?);
        let (observed, run_task, server, task_arn) = berth_launch(&ecs, &options.cluster).await?;
        berth_samples.push(observed);
        run_task_samples.push(run_task);
        berth_server_samples.push(server);
        task_arns.push(task_arn);
    }
    for task in &task_arns {
        ecs.call("StopTask", &json!({"cluster": options.cluster, "task": task, "reason": "benchmark done"})).await?;
    }
    remove_docker_samples(&docker).await;
    let docker_summary = summarise(&docker_samples).expect("at least one sample");
    let berth_summary = summarise(&berth_samples).expect("at least one sample");
    let server_summary = summarise(&berth_server_samples).expect("at least one sample");
    let run_task_summary = summarise(&run_task_samples).expect("at least one sample");
    println!("launch benchmark: {} samples of {}, alternating", options.samples, options.image);
    println!(
        "  docker create+start (Engine API)     median {:7.1} ms   p99 {:7.1} ms",
        millis(docker_summary.median),
        millis(docker_summary.p99)
    );
    println!(
        "  berth RunTask -> RUNNING (client)     median {:7.1} ms   p99 {:7.1} ms",
        millis(berth_summary.median),
        millis(berth_summary.p99)
    );
    println!(
        "  berth createdAt -> startedAt (server) median {:7.1} ms   p99 {:7.1} ms",
        millis(server_summary.median),
        millis(server_summary.p99)
    );
    println!("  berth RunTask call alone              median {:7.1} ms", millis(run_task_summary.median));
    println!(
        "  overhead over docker (median, client-observed): {:+.1} ms",
        millis(berth_summary.median) - millis(docker_summary.median)
    );
    Ok(())
}

async fn docker_launch(docker: &Docker, image: &str, index: usize) -> anyhow::Result<Duration> {
    let name = format!("berth-bench-docker-{}-{index}", std::process::id());
    let labels = HashMap::from([(BENCH_LABEL.to_string(), "launch".to_string())]);
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["sleep".to_string(), "3600".to_string()]),
        labels: Some(labels),
        host_config: Some(HostConfig { memory: Some(16 * 1024 * 1024), ..Default::default() }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    let started = Instant::now();
    let created = docker.create_container(Some(options), body).await?;
    docker.start_container(&created.id, None::<bollard::query_parameters::StartContainerOptions>).await?;
    Ok(started.elapsed())
}

async fn remove_docker_samples(docker: &Docker) {
    let filters = HashMap::from([("label", vec![format!("{BENCH_LABEL}=launch")])]);
    let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    for container in docker.list_containers(Some(options)).await.unwrap_or_default() {
        if let Some(id) = container.id {
            let remove = RemoveContainerOptionsBuilder::new().force(true).build();
            let _ = docker.remove_container(&id, Some(remove)).await;
        }
    }
}

/// One RunTask: the client-observed time to RUNNING, the RunTask call alone, the server's own
/// createdAt → startedAt, and the task's ARN.
async fn berth_launch(ecs: &EcsClient, cluster: &str) -> anyhow::Result<(Duration, Duration, Duration, String)> {
    let started = Instant::now();
    let response = ecs.call("RunTask", &json!({"cluster": cluster, "taskDefinition": "berth-bench-launch"})).await?;
    let run_task = started.elapsed();
    let Some(task_arn) = response["tasks"][0]["taskArn"].as_str().map(str::to_string) else {
        bail!("RunTask placed nothing: {}", response["failures"]);
    };
    loop {
        let described = ecs.call("DescribeTasks", &json!({"cluster": cluster, "tasks": [task_arn]})).await?;
        let task: &Value = &described["tasks"][0];
        match task["lastStatus"].as_str() {
            Some("RUNNING") => {
                let observed = started.elapsed();
                let server_seconds =
                    task["startedAt"].as_f64().unwrap_or(0.0) - task["createdAt"].as_f64().unwrap_or(0.0);
                return Ok((observed, run_task, Duration::from_secs_f64(server_seconds.max(0.0)), task_arn));
            }
            Some("STOPPED") => bail!("the benchmark task stopped: {}", task["stoppedReason"]),
            _ => {}
        }
        if started.elapsed() > LAUNCH_DEADLINE {
            bail!("task {task_arn} did not reach RUNNING within {LAUNCH_DEADLINE:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
