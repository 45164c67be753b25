//! Logs: how fast a task's output reaches Berth's CloudWatch Logs store through the agent's
//! awslogs shipper, side by side with the same task under Docker's own json-file logging (what
//! the container can write under each), the server's memory while it ingests, and how fast
//! GetLogEvents and FilterLogEvents answer over a million stored events.

use crate::ecs_client::EcsClient;
use crate::process::{find_server, memory};
use crate::stats::{millis, summarise};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LOGS: &str = "Logs_20140328.";

#[derive(Clone)]
pub struct LogsOptions {
    pub endpoint: String,
    pub cluster: String,
    pub image: String,
    /// Lines the ingest task writes (100 bytes each with the newline).
    pub lines: usize,
    /// Events stored for the read benchmarks.
    pub stored_events: usize,
    pub samples: usize,
    /// How long the sustained writer runs (0: not at all).
    pub sustain_seconds: u64,
    /// Lines the sustained writer prints every 100 ms (paced to a deadline, so this × 10 is
    /// the rate offered).
    pub sustain_block: usize,
}

/// 99 characters and the newline make the 100-byte line.
const LINE: &str =
    "berth-bench-log-line-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopqrstuvwxyz-0123";

/// Longest wait for one phase.
const PHASE_DEADLINE: Duration = Duration::from_secs(1800);

pub async fn run(options: LogsOptions) -> anyhow::Result<()> {
    let client = EcsClient::new(&options.endpoint)?;
    let run_id = std::process::id();
    let listen = options.endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    let server_pid = find_server(&listen);
    println!(
        "logs benchmark: {} lines of {} bytes, {} stored events for reads",
        options.lines,
        LINE.len() + 1,
        options.stored_events
    );

    let plain = writer_task(&client, &options, &format!("berth-bench-logs-plain-{run_id}"), None).await?;
    let (plain_rate, _) = run_writer(&client, &options, &plain).await?;
    println!("  docker json-file: the container wrote {:>9.0} lines/s", plain_rate);

    let group = format!("/berth-bench/ingest-{run_id}");
    let shipped = writer_task(&client, &options, &format!("berth-bench-logs-awslogs-{run_id}"), Some(&group)).await?;
    let started = Instant::now();
    let (shipped_rate, started_at_ms) = run_writer(&client, &options, &shipped).await?;
    println!("  awslogs:          the container wrote {:>9.0} lines/s", shipped_rate);
    let expected_bytes = (options.lines * LINE.len()) as i64;
    let mut rss = Vec::new();
    let stored_at = loop {
        if let Some(pid) = server_pid {
            if let Some(sample) = memory(pid) {
                rss.push(sample.resident_bytes);
            }
        }
        let stored = stored_bytes(&client, &group).await?;
        if stored >= expected_bytes {
            break now_ms();
        }
        if started.elapsed() > PHASE_DEADLINE {
            bail!("only {stored} of {expected_bytes} bytes arrived");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seconds = (stored_at - started_at_ms).max(1) as f64 / 1000.0;
    println!(
        "  awslogs ingest:   {:>9.0} lines/s stored (container start to the last line stored, {:.1} s)",
        options.lines as f64 / seconds,
        seconds
    );
    if let (Some(first), Some(max), Some(last)) = (rss.first(), rss.iter().max(), rss.last()) {
        let mib = |bytes: u64| bytes as f64 / 1_048_576.0;
        println!(
            "  server RSS while ingesting: first {:.1} MiB, max {:.1} MiB, last {:.1} MiB ({} samples)",
            mib(*first),
            mib(*max),
            mib(*last),
            rss.len()
        );
    } else {
        println!("  server RSS: no `berth up`/`berth server` process found listening on {listen}");
    }

    reads(&client, &options, run_id).await?;
    if options.sustain_seconds > 0 {
        sustained(&client, &options, run_id, server_pid).await?;
    }
    Ok(())
}

/// A writer at a steady rate for `sustain_seconds`: the rate it wrote, the rate stored, how
/// far shipping was behind when it stopped, and the server's memory each minute.
async fn sustained(
    client: &EcsClient,
    options: &LogsOptions,
    run_id: u32,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let blocks = options.sustain_seconds * 10;
    let group = format!("/berth-bench/sustained-{run_id}");
    let family = format!("berth-bench-logs-sustained-{run_id}");
    // Paced by a deadline, not by a fixed sleep after each block, so the rate offered is the
    // rate asked for whatever the time the block took to write: block `i` is due `i` × 100 ms
    // after the start. Time comes from /proc/uptime (centiseconds) read by the shell itself.
    let script = format!(
        "read up rest < /proc/uptime; start=${{up%.*}}${{up#*.}}; i=0; \
         while [ $i -lt {blocks} ]; do yes {LINE} | head -n {}; i=$((i+1)); \
         read up rest < /proc/uptime; now=${{up%.*}}${{up#*.}}; wait=$(( (start + i * 10 - now) * 10000 )); \
         if [ $wait -gt 0 ]; then usleep $wait; fi; done",
        options.sustain_block
    );
    let container = json!({
        "name": "writer", "image": options.image, "memory": 64, "essential": true,
        "command": ["sh", "-c", script],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-create-group": "true", "awslogs-stream-prefix": "bench"}},
    });
    client.call("RegisterTaskDefinition", &json!({"family": family, "containerDefinitions": [container]})).await?;
    let lines = blocks as usize * options.sustain_block;
    println!("  sustained: {lines} lines, {} every 100 ms for {} s", options.sustain_block, options.sustain_seconds);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = server_pid.map(|pid| {
        let done = done.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                match memory(pid) {
                    Some(sample) => samples.push(sample.resident_bytes),
                    None => break,
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            samples
        })
    });
    let sustained = LogsOptions { lines, ..options.clone() };
    let (written_rate, started_at_ms) = run_writer(client, &sustained, &family).await?;
    let stopped_at_ms = now_ms();
    let expected_bytes = (lines * LINE.len()) as i64;
    let stored_at = loop {
        if stored_bytes(client, &group).await? >= expected_bytes {
            break now_ms();
        }
        if now_ms() - stopped_at_ms > PHASE_DEADLINE.as_millis() as i64 {
            bail!("the sustained writer's lines did not all arrive");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seconds = (stored_at - started_at_ms).max(1) as f64 / 1000.0;
    println!("  sustained: the container wrote {written_rate:>9.0} lines/s");
    println!(
        "  sustained: {:>9.0} lines/s stored, every line stored {:.1} s after the writer stopped",
        lines as f64 / seconds,
        (stored_at - stopped_at_ms) as f64 / 1000.0
    );
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let samples = sampler.await.unwrap_or_default();
        let mib = |bytes: &u64| format!("{:.1}", *bytes as f64 / 1_048_576.0);
        let each_minute: Vec<String> = samples.iter().step_by(60).map(mib).collect();
        let max = samples.iter().max().map(mib).unwrap_or_default();
        println!(
            "  sustained: server RSS MiB each minute [{}], max {max}, last {} ({} samples)",
            each_minute.join(", "),
            samples.last().map(mib).unwrap_or_default(),
            samples.len()
        );
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// A definition whose container writes `options.lines` lines as fast as it can.
async fn writer_task(
    client: &EcsClient,
    options: &LogsOptions,
    family: &str,
    group: Option<&str>,
) -> anyhow::Result<String> {
    let mut container = json!({
        "name": "writer", "image": options.image, "memory": 64, "essential": true,
        "command": ["sh", "-c", format!("yes {LINE} | head -n {}", options.lines)],
    });
    if let Some(group) = group {
        container["logConfiguration"] = json!({"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-create-group": "true", "awslogs-stream-prefix": "bench"}});
    }
    client.call("RegisterTaskDefinition", &json!({"family": family, "containerDefinitions": [container]})).await?;
    Ok(family.to_string())
}

/// Runs the writer to its end; answers the lines per second it wrote (its container's start to
/// its stop, as the agent saw them) and when it started (ms).
async fn run_writer(client: &EcsClient, options: &LogsOptions, family: &str) -> anyhow::Result<(f64, i64)> {
    let ran = client.call("RunTask", &json!({"cluster": options.cluster, "taskDefinition": family})).await?;
    let task_arn = ran["tasks"][0]["taskArn"].as_str().context("RunTask placed no task")?.to_string();
    let deadline = Instant::now() + PHASE_DEADLINE;
    loop {
        let described = client.call("DescribeTasks", &json!({"cluster": options.cluster, "tasks": [task_arn]})).await?;
        let task = &described["tasks"][0];
        if task["lastStatus"] == "STOPPED" {
            let started = seconds_of(&task["startedAt"]).context("the writer never started")?;
            let stopped =
                seconds_of(&task["executionStoppedAt"]).or_else(|| seconds_of(&task["stoppedAt"])).unwrap_or(started);
            if task["containers"][0]["exitCode"] != 0 {
                bail!("the writer failed: {}", task["stoppedReason"]);
            }
            return Ok((options.lines as f64 / (stopped - started).max(0.001), (started * 1000.0) as i64));
        }
        if Instant::now() > deadline {
            bail!("the writer did not finish");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn seconds_of(value: &Value) -> Option<f64> {
    value.as_f64()
}

async fn stored_bytes(client: &EcsClient, group: &str) -> anyhow::Result<i64> {
    let described = client.call_service(LOGS, "DescribeLogGroups", &json!({"logGroupNamePrefix": group})).await?;
    Ok(described["logGroups"][0]["storedBytes"].as_i64().unwrap_or(0))
}

/// Stores `options.stored_events` events over ten streams, then times GetLogEvents of 10,000
/// events and FilterLogEvents over all of them.
async fn reads(client: &EcsClient, options: &LogsOptions, run_id: u32) -> anyhow::Result<()> {
    let group = format!("/berth-bench/reads-{run_id}");
    client.call_service(LOGS, "CreateLogGroup", &json!({"logGroupName": group})).await?;
    const STREAMS: usize = 10;
    // 10,000 events of this size fit GetLogEvents' 1 MB page (each counts 26 bytes more).
    const BATCH: usize = 5_000;
    for stream in 0..STREAMS {
        client
            .call_service(
                LOGS,
                "CreateLogStream",
                &json!({"logGroupName": group, "logStreamName": format!("s{stream}")}),
            )
            .await?;
    }
    let start = now_ms() - 3_600_000;
    let per_stream = options.stored_events / STREAMS;
    let loading = Instant::now();
    for stream in 0..STREAMS {
        for batch_start in (0..per_stream).step_by(BATCH) {
            let events: Vec<Value> = (batch_start..(batch_start + BATCH).min(per_stream))
                .map(|index| {
                    let level = if index % 1000 == 7 { "ERROR" } else { "info" };
                    json!({"timestamp": start + index as i64 / 10, "message": format!("{level} request {index:08} stream {stream} latency={} path=/api/v1/items", index % 500)})
                })
                .collect();
            client
                .call_service(
                    LOGS,
                    "PutLogEvents",
                    &json!({"logGroupName": group, "logStreamName": format!("s{stream}"), "logEvents": events}),
                )
                .await?;
        }
    }
    let loaded = loading.elapsed();
    println!(
        "  PutLogEvents: {} events in {:.1} s ({:.0} events/s, batches of {BATCH}, one client)",
        per_stream * STREAMS,
        loaded.as_secs_f64(),
        (per_stream * STREAMS) as f64 / loaded.as_secs_f64()
    );
    let mut get = Vec::new();
    for sample in 0..options.samples {
        let began = Instant::now();
        let page = client
            .call_service(LOGS, "GetLogEvents", &json!({"logGroupName": group, "logStreamName": format!("s{}", sample % STREAMS), "startFromHead": true, "limit": 10000}))
            .await?;
        get.push(began.elapsed());
        let count = page["events"].as_array().map_or(0, Vec::len);
        if count != 10_000.min(per_stream) {
            bail!("GetLogEvents answered {count} events");
        }
    }
    let mut filter = Vec::new();
    let mut matched = 0;
    for _ in 0..options.samples {
        let began = Instant::now();
        let page = client
            .call_service(LOGS, "FilterLogEvents", &json!({"logGroupName": group, "filterPattern": "ERROR"}))
            .await?;
        filter.push(began.elapsed());
        matched = page["events"].as_array().map_or(0, Vec::len);
    }
    let get = summarise(&get).expect("samples");
    let filter = summarise(&filter).expect("samples");
    println!(
        "  GetLogEvents of 10,000 events:            p50 {:7.1} ms   p99 {:7.1} ms",
        millis(get.median),
        millis(get.p99)
    );
    println!(
        "  FilterLogEvents over {} events ({matched} match): p50 {:7.1} ms   p99 {:7.1} ms",
        per_stream * STREAMS,
        millis(filter.median),
        millis(filter.p99)
    );
    client.call_service(LOGS, "DeleteLogGroup", &json!({"logGroupName": group})).await?;
    Ok(())
}
