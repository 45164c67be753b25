//! Schedules: many EventBridge Scheduler schedules at `rate(1 minute)` whose ECS target runs
//! on hollow instances (`berth-sim`), for a few minutes; then how late the firings called
//! RunTask (the server's `berth_schedule_firing_lateness_seconds` histogram, so p50 and p99 are
//! the upper bounds of their buckets) and how much CPU the server used meanwhile.
//!
//! The benchmark starts its own `berth server` (a child, on a fresh data directory). Schedules
//! are created without a StartDate, so each fires first at its creation and then every
//! minute after it, spread over the minute as they were created.

use crate::ecs_client::EcsClient;
use crate::process;
use crate::scale::server::ManagedServer;
use anyhow::Context;
use futures_util::{stream, StreamExt};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct SchedulesOptions {
    pub binary: PathBuf,
    pub schedules: usize,
    pub minutes: u64,
    pub instances: usize,
}

const CLUSTER: &str = "berth-bench-schedules";
const FAMILY: &str = "berth-bench-schedules";
const METRIC: &str = "berth_schedule_firing_lateness_seconds";
/// Concurrent CreateSchedule calls.
const CREATORS: usize = 32;

pub async fn run(options: SchedulesOptions) -> anyhow::Result<()> {
    let data_dir = std::env::temp_dir().join(format!("berth-bench-schedules-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let outcome = run_in(&options, &data_dir).await;
    let _ = std::fs::remove_dir_all(&data_dir);
    outcome
}

async fn run_in(options: &SchedulesOptions, data_dir: &std::path::Path) -> anyhow::Result<()> {
    berth_sim::ensure_descriptors_for(options.instances)?;
    let server = ManagedServer::start(&options.binary, data_dir).await?;
    let endpoint = server.endpoint.clone();
    let ecs = EcsClient::new(&endpoint)?;
    ecs.call("CreateCluster", &json!({"clusterName": CLUSTER})).await?;
    ecs.call(
        "RegisterTaskDefinition",
        &json!({"family": FAMILY, "containerDefinitions": [{"name": "app", "image": "hollow", "cpu": 1, "memory": 6}]}),
    )
    .await?;
    let mut fleet_config = berth_sim::FleetConfig::new(&endpoint, CLUSTER, options.instances);
    (fleet_config.cpu, fleet_config.memory_mib) = (1_000_000, 1_000_000);
    fleet_config.identity_prefix = "i-bench-schedules-".into();
    let fleet = berth_sim::Fleet::start(fleet_config).await?;

    eprintln!("creating {} schedules at rate(1 minute)", options.schedules);
    let http = reqwest::Client::builder().no_proxy().build()?;
    let cluster_arn = format!("arn:aws:ecs:us-east-1:000000000000:cluster/{CLUSTER}");
    let created = Instant::now();
    let failures = stream::iter(0..options.schedules)
        .map(|index| {
            let (http, endpoint, cluster_arn) = (http.clone(), endpoint.clone(), cluster_arn.clone());
            async move {
                let body = json!({
                    "ScheduleExpression": "rate(1 minute)",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {"Arn": cluster_arn, "RoleArn": "arn:aws:iam::000000000000:role/bench",
                               "EcsParameters": {"TaskDefinitionArn": FAMILY}},
                });
                let response = http.post(format!("{endpoint}/schedules/bench-{index}")).json(&body).send().await;
                response.is_err() || !response.is_ok_and(|response| response.status().is_success())
            }
        })
        .buffer_unordered(CREATORS)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    anyhow::ensure!(failures == 0, "{failures} CreateSchedule calls failed");
    let creation = created.elapsed();

    let pid = server.child_id().context("the server's pid")?;
    let cpu_before = process::cpu_time(pid).unwrap_or_default();
    let window = Duration::from_secs(options.minutes * 60);
    eprintln!("letting them fire for {} minute(s)", options.minutes);
    let started = Instant::now();
    // A benchmark's measuring period, not synchronisation: the figures are whatever happened.
    tokio::time::sleep(window).await;
    let busy = process::cpu_time(pid).unwrap_or_default().saturating_sub(cpu_before);
    let elapsed = started.elapsed();
    let metrics = http.get(format!("{endpoint}/metrics")).send().await?.text().await?;
    let histogram = Histogram::parse(&metrics, METRIC).context("the lateness histogram is missing")?;
    let tasks = fleet.snapshot();
    drop(fleet);

    println!("schedules: {} created in {:.1}s", options.schedules, creation.as_secs_f64());
    println!("firings:   {} (RunTask calls), fleet: {tasks:?}", histogram.count);
    println!(
        "lateness:  p50 <= {} ms, p99 <= {} ms, mean {:.1} ms",
        histogram.quantile(0.5).map_or("-".into(), |seconds| format!("{:.1}", seconds * 1000.0)),
        histogram.quantile(0.99).map_or("-".into(), |seconds| format!("{:.1}", seconds * 1000.0)),
        if histogram.count > 0 { histogram.sum / histogram.count as f64 * 1000.0 } else { 0.0 },
    );
    println!(
        "server CPU: {:.2} s over {:.0} s ({:.1}% of one core)",
        busy.as_secs_f64(),
        elapsed.as_secs_f64(),
        busy.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    );
    Ok(())
}

/// A Prometheus histogram as the text format renders it: cumulative buckets by upper bound.
struct Histogram {
    buckets: Vec<(f64, u64)>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn parse(text: &str, name: &str) -> Option<Histogram> {
        let mut histogram = Histogram { buckets: vec![], count: 0, sum: 0.0 };
        let mut found = false;
        for line in text.lines().filter(|line| line.starts_with(name)) {
            let (key, value) = line.rsplit_once(' ')?;
            if let Some(bound) = key.strip_prefix(&format!("{name}_bucket{{le=\"")) {
                let bound = bound.trim_end_matches("\"}");
                let bound = if bound == "+Inf" { f64::INFINITY } else { bound.parse().ok()? };
                histogram.buckets.push((bound, value.parse().ok()?));
                found = true;
            } else if key == format!("{name}_count") {
                histogram.count = value.parse().ok()?;
            } else if key == format!("{name}_sum") {
                histogram.sum = value.parse().ok()?;
            }
        }
        found.then_some(histogram)
    }

    /// The upper bound of the bucket holding quantile `q`.
    fn quantile(&self, q: f64) -> Option<f64> {
        let wanted = (q * self.count as f64).ceil() as u64;
        self.buckets.iter().find(|(_, cumulative)| *cumulative >= wanted.max(1)).map(|(bound, _)| *bound)
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn quantiles_are_bucket_bounds() {
        let text =
            "x_bucket{le=\"0.1\"} 50\nx_bucket{le=\"0.2\"} 99\nx_bucket{le=\"+Inf\"} 100\nx_sum 12.5\nx_count 100\n";
        let histogram = Histogram::parse(text, "x").unwrap();
        assert_eq!(histogram.quantile(0.5), Some(0.1));
        assert_eq!(histogram.quantile(0.99), Some(0.2));
        assert_eq!(histogram.quantile(1.0), Some(f64::INFINITY));
        assert_eq!(histogram.count, 100);
    }
}
