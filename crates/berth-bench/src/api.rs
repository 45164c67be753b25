//! API throughput: DescribeTasks of 100 tasks, then ListTasks, each under `clients` concurrent
//! clients on loopback. The 100 tasks run on a hollow instance in a cluster of their own, so
//! the figures measure the control plane, not Docker.

use crate::ecs_client::EcsClient;
use crate::stats::{millis, summarise};
use anyhow::bail;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ApiOptions {
    pub endpoint: String,
    pub clients: usize,
    /// How long each phase sends requests.
    pub phase: Duration,
}

const CLUSTER: &str = "berth-bench-api";
/// Each client sends at most this many requests per phase, whatever the phase length.
const MAX_REQUESTS_PER_CLIENT: usize = 200_000;

pub async fn run(options: ApiOptions) -> anyhow::Result<()> {
    let ecs = EcsClient::new(&options.endpoint)?;
    ecs.call("CreateCluster", &json!({"clusterName": CLUSTER})).await?;
    // One hollow instance big enough for any number of tiny tasks.
    let mut hollow = berth_sim::FleetConfig::new(&options.endpoint, CLUSTER, 1);
    (hollow.cpu, hollow.memory_mib) = (1024 * 1024, 1024 * 1024);
    hollow.identity_prefix = format!("i-bench-api-{}-", std::process::id());
    let fleet = berth_sim::Fleet::start(hollow).await?;
    ecs.call(
        "RegisterTaskDefinition",
        &json!({"family": "berth-bench-api", "containerDefinitions": [{"name": "app", "image": "none", "memory": 8}]}),
    )
    .await?;
    let mut task_arns = Vec::new();
    for _ in 0..10 {
        let response =
            ecs.call("RunTask", &json!({"cluster": CLUSTER, "taskDefinition": "berth-bench-api", "count": 10})).await?;
        for task in response["tasks"].as_array().into_iter().flatten() {
            task_arns.push(task["taskArn"].as_str().unwrap_or_default().to_string());
        }
    }
    if task_arns.len() != 100 {
        bail!("expected 100 tasks, placed {}", task_arns.len());
    }
    let describe = json!({"cluster": CLUSTER, "tasks": task_arns});
    let list = json!({"cluster": CLUSTER});
    println!("api benchmark: {} concurrent clients, {:?} per phase, loopback", options.clients, options.phase);
    // Cheap checks of each answer (decoding 150 KB of JSON per request would load the client
    // more than the server): every task carries one clusterArn, every listed ARN one prefix.
    phase(&ecs, "DescribeTasks (100 tasks)", "DescribeTasks", &describe, &options, |body| {
        occurrences(body, b"\"clusterArn\"") == 100
    })
    .await?;
    phase(&ecs, "ListTasks", "ListTasks", &list, &options, |body| occurrences(body, b"arn:aws:ecs:") == 100).await?;
    for task in &task_arns {
        ecs.call("StopTask", &json!({"cluster": CLUSTER, "task": task})).await?;
    }
    drop(fleet);
    Ok(())
}

async fn phase(
    ecs: &EcsClient,
    label: &str,
    operation: &'static str,
    body: &Value,
    options: &ApiOptions,
    check: fn(&[u8]) -> bool,
) -> anyhow::Result<()> {
    let body = Arc::new(body.to_string());
    let started = Instant::now();
    let deadline = started + options.phase;
    let mut workers = Vec::new();
    for _ in 0..options.clients {
        let ecs = ecs.clone();
        let body = Arc::clone(&body);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut wrong = 0usize;
            while Instant::now() < deadline && latencies.len() < MAX_REQUESTS_PER_CLIENT {
                let sent = Instant::now();
                match ecs.call_raw(operation, body.as_ref().clone()).await {
                    Ok(answer) if check(&answer) => latencies.push(sent.elapsed()),
                    _ => wrong += 1,
                }
            }
            (latencies, wrong)
        }));
    }
    let mut latencies = Vec::new();
    let mut wrong = 0;
    for worker in workers {
        let (mut samples, errors) = worker.await?;
        latencies.append(&mut samples);
        wrong += errors;
    }
    let elapsed = started.elapsed();
    let summary = summarise(&latencies).ok_or_else(|| anyhow::anyhow!("{label}: no request succeeded"))?;
    println!(
        "  {label:<28} {:8.0} requests/s   p50 {:6.2} ms   p99 {:6.2} ms   ({} ok, {} wrong or failed)",
        summary.count as f64 / elapsed.as_secs_f64(),
        millis(summary.median),
        millis(summary.p99),
        summary.count,
        wrong
    );
    Ok(())
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(haystack, needle).count()
}
