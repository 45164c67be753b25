//! The usage sampler: every `interval` it reads the counters of each running container of
//! this agent's tasks and sends one [`UsageReport`] with a sample per container to the
//! server's usage channel (`berth_agent_protocol::usage`), where they become ECS's CloudWatch
//! metrics.
//!
//! - `interval`: the pure arithmetic from two readings to CPU units and byte rates.
//! - `sink`: where reports go ([`ServerUsageSink`], [`MemoryUsageSink`] for tests).
//!
//! Which containers run comes from the [`MetadataRegistry`] the task runners keep current, so
//! sampling adds no Docker listing and never touches a runner: task start and stop do not
//! wait on it. A container's first reading only starts its interval; one that no longer runs
//! is forgotten at the next tick, so the sampler holds one reading per running container and
//! one report at a time. Metrics are best effort: a report the server did not take is
//! dropped (logged at debug), never queued.

mod interval;
mod sink;

#[cfg(test)]
mod tests;

pub use interval::{usage_between, IntervalUsage, CPU_UNITS_PER_CORE};
pub use sink::{MemoryUsageSink, ServerUsageSink, UsageReportSink};

use crate::metadata::{MetadataRegistry, RunningContainer};
use crate::runtime::{ContainerRuntime, ContainerStatsSample};
use berth_agent_protocol::usage::{ContainerUsage, UsageReport};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::{Instant, MissedTickBehavior};

/// How many containers' stats are read from the runtime at once: enough that a host with many
/// containers finishes a tick quickly, few enough not to flood Docker.
const CONCURRENT_STATS_READS: usize = 8;

/// A container's last reading, the start of its next interval.
struct Reading {
    at: Instant,
    sample: ContainerStatsSample,
}

pub struct UsageSampler {
    runtime: Arc<dyn ContainerRuntime>,
    containers: Arc<MetadataRegistry>,
    sink: Arc<dyn UsageReportSink>,
    interval: Duration,
    /// By Docker container ID.
    previous: HashMap<String, Reading>,
}

impl UsageSampler {
    pub fn new(
        runtime: Arc<dyn ContainerRuntime>,
        containers: Arc<MetadataRegistry>,
        sink: Arc<dyn UsageReportSink>,
        interval: Duration,
    ) -> Self {
        UsageSampler { runtime, containers, sink, interval, previous: HashMap::new() }
    }

    /// Samples until the future is dropped.
    pub async fn run(mut self) {
        let mut ticks = tokio::time::interval(self.interval);
        // A slow tick (Docker or the server busy) delays the next rather than bunching them.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let report = self.sample_once().await;
            if report.samples.is_empty() {
                continue;
            }
            if let Err(error) = self.sink.send(&report).await {
                tracing::debug!(%error, samples = report.samples.len(), "usage report dropped");
            }
        }
    }

    /// Reads every running container once; the report holds a sample for each that has an
    /// earlier reading to measure from.
    pub async fn sample_once(&mut self) -> UsageReport {
        let running = self.containers.running_containers();
        self.previous.retain(|id, _| running.iter().any(|container| &container.runtime_id == id));
        let runtime = &self.runtime;
        let readings: Vec<(RunningContainer, Option<Reading>, i64)> = futures_util::stream::iter(running)
            .map(|container| async move {
                let read = runtime.container_stats_sample(&container.runtime_id).await;
                let at = Instant::now();
                let reading = match read {
                    Ok(sample) => Some(Reading { at, sample }),
                    Err(error) => {
                        tracing::debug!(container = %container.runtime_id, %error, "cannot read container stats");
                        None
                    }
                };
                (container, reading, now_ms())
            })
            .buffer_unordered(CONCURRENT_STATS_READS)
            .collect()
            .await;
        let mut samples = Vec::new();
        for (container, reading, timestamp_ms) in readings {
            let Some(reading) = reading else {
                // Gone or unreadable: measure afresh from its next reading.
                self.previous.remove(&container.runtime_id);
                continue;
            };
            let Some(previous) = self.previous.insert(container.runtime_id.clone(), reading) else {
                continue;
            };
            let current = &self.previous[&container.runtime_id];
            let interval = current.at.duration_since(previous.at);
            if let Some(usage) = usage_between(&previous.sample, &current.sample, interval) {
                samples.push(ContainerUsage {
                    task_arn: container.task_arn,
                    container_name: container.container_name,
                    timestamp_ms,
                    interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
                    cpu_units_used: usage.cpu_units_used,
                    memory_bytes: current.sample.memory_in_use_bytes(),
                    network_rx_bytes: current.sample.network_rx_bytes,
                    network_tx_bytes: current.sample.network_tx_bytes,
                    network_rx_bytes_per_second: usage.network_rx_bytes_per_second,
                    network_tx_bytes_per_second: usage.network_tx_bytes_per_second,
                });
            }
        }
        UsageReport { samples }
    }
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
