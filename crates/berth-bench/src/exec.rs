//! ECS Exec round trip: `berth exec … -- echo hi` (ExecuteCommand, attach, the agent's Docker
//! exec, output, exit code) side by side with `docker exec CONTAINER echo hi` on the same
//! container, both as the processes a user would run. Samples alternate between the two so
//! both see the same noise.

use crate::ecs_client::EcsClient;
use crate::stats::{millis, summarise};
use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ExecBenchOptions {
    /// The `berth` binary that runs `berth exec`.
    pub binary: PathBuf,
    pub endpoint: String,
    pub cluster: String,
    pub image: String,
    pub samples: usize,
}

/// How long the benchmark task may take to reach RUNNING.
const LAUNCH_DEADLINE: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

pub async fn run(options: ExecBenchOptions) -> anyhow::Result<()> {
    let ecs = EcsClient::new(&options.endpoint)?;
    ecs.call(
        "RegisterTaskDefinition",
        &json!({
            "family": "berth-bench-exec",
            "containerDefinitions": [{
                "name": "sleeper", "image": options.image, "memory": 16, "essential": true,
                "command": ["sleep", "3600"], "stopTimeout": 1
            }]
        }),
    )
    .await?;
    let response = ecs
        .call(
            "RunTask",
            &json!({"cluster": options.cluster, "taskDefinition": "berth-bench-exec", "enableExecuteCommand": true}),
        )
        .await?;
    let Some(task_arn) = response["tasks"][0]["taskArn"].as_str().map(str::to_string) else {
        bail!("RunTask placed nothing: {}", response["failures"]);
    };
    let outcome = measure(&ecs, &options, &task_arn).await;
    ecs.call("StopTask", &json!({"cluster": options.cluster, "task": task_arn, "reason": "benchmark done"})).await?;
    outcome
}

async fn measure(ecs: &EcsClient, options: &ExecBenchOptions, task_arn: &str) -> anyhow::Result<()> {
    let container_id = wait_for_container(ecs, &options.cluster, task_arn).await?;
    let mut docker_samples = Vec::new();
    let mut berth_samples = Vec::new();
    for _ in 0..options.samples {
        docker_samples.push(timed("docker", &["exec", &container_id, "echo", "hi"]).await?);
        let berth_args = [
            "exec",
            "--server",
            &options.endpoint,
            "--cluster",
            &options.cluster,
            "--task",
            task_arn,
            "--",
            "echo",
            "hi",
        ];
        berth_samples.push(timed(options.binary.to_str().context("the berth binary path")?, &berth_args).await?);
    }
    let docker_summary = summarise(&docker_samples).expect("at least one sample");
    let berth_summary = summarise(&berth_samples).expect("at least one sample");
    println!(
        "exec benchmark: {} samples of `echo hi` in one {} container, alternating",
        options.samples, options.image
    );
    println!(
        "  docker exec CONTAINER echo hi        median {:7.1} ms   p99 {:7.1} ms",
        millis(docker_summary.median),
        millis(docker_summary.p99)
    );
    println!(
        "  berth exec --task T -- echo hi       median {:7.1} ms   p99 {:7.1} ms",
        millis(berth_summary.median),
        millis(berth_summary.p99)
    );
    println!(
        "  berth / docker (median): {:.2}x   (p99): {:.2}x",
        berth_summary.median.as_secs_f64() / docker_summary.median.as_secs_f64(),
        berth_summary.p99.as_secs_f64() / docker_summary.p99.as_secs_f64()
    );
    Ok(())
}

/// The Docker container ID of the task's container once the task is RUNNING.
async fn wait_for_container(ecs: &EcsClient, cluster: &str, task_arn: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        let described = ecs.call("DescribeTasks", &json!({"cluster": cluster, "tasks": [task_arn]})).await?;
        let task = &described["tasks"][0];
        if task["lastStatus"] == "RUNNING" {
            if let Some(id) = task["containers"][0]["runtimeId"].as_str() {
                return Ok(id.to_string());
            }
        }
        if task["lastStatus"] == "STOPPED" {
            bail!("the benchmark task stopped: {}", task["stoppedReason"]);
        }
        if started.elapsed() > LAUNCH_DEADLINE {
            bail!("task {task_arn} did not reach RUNNING within {LAUNCH_DEADLINE:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Runs a process to its end; how long it took. It must print `hi` and succeed.
async fn timed(program: &str, args: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {program}"))?;
    let elapsed = started.elapsed();
    if !output.status.success() || output.stdout != b"hi\n" {
        bail!(
            "{program} {args:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(elapsed)
}
