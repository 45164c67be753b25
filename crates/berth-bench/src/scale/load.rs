//! The load phase: `clients` concurrent clients call RunTask (`count` tasks a call) until
//! `tasks` tasks are placed, while a monitor reads the cluster's RUNNING count (DescribeClusters)
//! and the server's memory, until every placed task is RUNNING or the deadline passes.

use crate::ecs_client::EcsClient;
use crate::process;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the monitor asks for the cluster's counts and the server's memory.
const MONITOR_INTERVAL: Duration = Duration::from_millis(200);
/// How often progress is printed while the phase runs.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

pub struct LoadPlan {
    pub cluster: String,
    pub task_definition: String,
    pub tasks: usize,
    pub per_call: usize,
    pub clients: usize,
    /// The whole phase (placing and waiting for RUNNING) ends by then, finished or not.
    pub deadline: Duration,
    pub server_pid: Option<u32>,
}

#[derive(Debug, Default)]
pub struct LoadOutcome {
    pub calls: usize,
    pub failed_calls: usize,
    /// Tasks RunTask acknowledged (placed and durable).
    pub placed: usize,
    /// Entries in RunTask's `failures` (no instance could take the task).
    pub placement_failures: usize,
    /// From the first call to the last acknowledgement.
    pub placing: Duration,
    pub latencies: Vec<Duration>,
    /// From the first call until the cluster counted every placed task RUNNING.
    pub all_running: Option<Duration>,
    pub last_running_count: u64,
    /// Highest VmRSS the monitor saw.
    pub sampled_peak_resident_bytes: Option<u64>,
    /// The server's CPU time over the phase.
    pub server_cpu: Option<Duration>,
    pub elapsed: Duration,
}

#[derive(Default)]
struct ClientTally {
    calls: usize,
    failed_calls: usize,
    placed: usize,
    placement_failures: usize,
    latencies: Vec<Duration>,
    last_acknowledged: Option<Instant>,
}

pub async fn run(ecs: &EcsClient, plan: LoadPlan) -> anyhow::Result<LoadOutcome> {
    let per_call = plan.per_call.clamp(1, 10);
    let calls_wanted = plan.tasks.div_ceil(per_call);
    let next_call = Arc::new(AtomicUsize::new(0));
    let cpu_before = plan.server_pid.and_then(process::cpu_time);
    let started = Instant::now();
    let deadline = started + plan.deadline;
    let mut clients = Vec::new();
    for _ in 0..plan.clients.max(1) {
        let (ecs, next_call) = (ecs.clone(), Arc::clone(&next_call));
        let (cluster, task_definition, tasks) = (plan.cluster.clone(), plan.task_definition.clone(), plan.tasks);
        clients.push(tokio::spawn(async move {
            let mut tally = ClientTally::default();
            while Instant::now() < deadline {
                let call = next_call.fetch_add(1, Ordering::Relaxed);
                if call >= calls_wanted {
                    break;
                }
                let count = per_call.min(tasks - call * per_call);
                let body = json!({"cluster": cluster, "taskDefinition": task_definition, "count": count});
                let sent = Instant::now();
                let answer = ecs.call("RunTask", &body).await;
                tally.calls += 1;
                match answer {
                    Ok(response) => {
                        tally.latencies.push(sent.elapsed());
                        tally.last_acknowledged = Some(Instant::now());
                        tally.placed += response["tasks"].as_array().map_or(0, Vec::len);
                        tally.placement_failures += response["failures"].as_array().map_or(0, Vec::len);
                    }
                    Err(_) => tally.failed_calls += 1,
                }
            }
            tally
        }));
    }

    let mut outcome = LoadOutcome::default();
    let mut placing_done = false;
    let mut last_progress = started;
    while Instant::now() < deadline {
        tokio::time::sleep(MONITOR_INTERVAL).await;
        if let Some(memory) = plan.server_pid.and_then(process::memory) {
            let peak = outcome.sampled_peak_resident_bytes.get_or_insert(0);
            *peak = (*peak).max(memory.resident_bytes);
        }
        if let Ok((running, _)) = task_counts(ecs, &plan.cluster).await {
            outcome.last_running_count = running;
        }
        if !placing_done && clients.iter().all(|client| client.is_finished()) {
            placing_done = true;
            collect(&mut outcome, std::mem::take(&mut clients), started).await;
        }
        if last_progress.elapsed() >= PROGRESS_INTERVAL {
            last_progress = Instant::now();
            eprintln!(
                "  … {:5.0} s: {} RunTask calls issued, {} tasks RUNNING",
                started.elapsed().as_secs_f64(),
                next_call.load(Ordering::Relaxed).min(calls_wanted),
                outcome.last_running_count
            );
        }
        if placing_done && outcome.last_running_count >= outcome.placed as u64 {
            outcome.all_running = Some(started.elapsed());
            break;
        }
    }
    // Past the deadline the clients stop after the call they are in.
    collect(&mut outcome, clients, started).await;
    outcome.elapsed = started.elapsed();
    outcome.server_cpu = match (cpu_before, plan.server_pid.and_then(process::cpu_time)) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    Ok(outcome)
}

/// How long a client may still take for its last call once the deadline has passed.
const LAST_CALL_GRACE: Duration = Duration::from_secs(30);

async fn collect(outcome: &mut LoadOutcome, clients: Vec<tokio::task::JoinHandle<ClientTally>>, started: Instant) {
    for client in clients {
        // A client that does not finish in time is left out of the figures.
        let Ok(Ok(tally)) = tokio::time::timeout(LAST_CALL_GRACE, client).await else { continue };
        outcome.calls += tally.calls;
        outcome.failed_calls += tally.failed_calls;
        outcome.placed += tally.placed;
        outcome.placement_failures += tally.placement_failures;
        outcome.latencies.extend(tally.latencies);
        if let Some(last) = tally.last_acknowledged {
            outcome.placing = outcome.placing.max(last - started);
        }
    }
}

/// The cluster's `runningTasksCount` and `pendingTasksCount`.
pub async fn task_counts(ecs: &EcsClient, cluster: &str) -> anyhow::Result<(u64, u64)> {
    let answer = ecs.call("DescribeClusters", &json!({"clusters": [cluster]})).await?;
    let count = |name: &str| {
        answer["clusters"][0][name]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("DescribeClusters did not answer with {cluster}'s {name}"))
    };
    Ok((count("runningTasksCount")?, count("pendingTasksCount")?))
}
