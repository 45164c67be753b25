//! CloudWatch metrics: PutMetricData into 10,000 series at 10-second resolution from a few
//! concurrent clients (datapoints stored per second), then GetMetricData over 24 hours of one
//! series (p50/p99), in the JSON 1.0 protocol the pinned botocore speaks.

use crate::stats::{millis, summarise};
use anyhow::{bail, Context};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";
/// PutMetricData's limit of datums a request.
const DATUMS_PER_REQUEST: usize = 1000;
const STEP_SECONDS: i64 = 10;

#[derive(Clone)]
pub struct MetricsOptions {
    pub endpoint: String,
    pub series: usize,
    /// Timestamps every series gets (10 s apart).
    pub rounds: usize,
    pub clients: usize,
    pub samples: usize,
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    endpoint: String,
}

impl Client {
    async fn call(&self, operation: &str, body: String) -> anyhow::Result<String> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", "application/x-amz-json-1.0")
            .header("X-Amz-Target", format!("{TARGET_PREFIX}{operation}"))
            .body(body)
            .send()
            .await
            .with_context(|| format!("{operation}: no answer from {}", self.endpoint))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{operation} failed ({status}): {text}");
        }
        Ok(text)
    }
}

fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs() as i64).unwrap_or(0)
}

/// One PutMetricData body: `count` series from `first`, all at `timestamp`.
fn put_body(namespace: &str, first: usize, count: usize, timestamp: i64, value: f64) -> String {
    let datums: Vec<String> = (first..first + count)
        .map(|series| {
            format!(
                r#"{{"MetricName":"Load","Dimensions":[{{"Name":"Series","Value":"s{series}"}},{{"Name":"Cluster","Value":"bench"}}],"Timestamp":{timestamp},"Value":{value},"Unit":"Percent"}}"#
            )
        })
        .collect();
    format!(r#"{{"Namespace":"{namespace}","MetricData":[{}]}}"#, datums.join(","))
}

pub async fn run(options: MetricsOptions) -> anyhow::Result<()> {
    let client = Client { http: reqwest::Client::new(), endpoint: options.endpoint.clone() };
    let namespace = format!("BerthBench/{}", std::process::id());
    let datapoints = options.series * options.rounds;
    println!(
        "metrics benchmark: {} series x {} timestamps 10 s apart = {} datapoints, {} clients, {} datums a request",
        options.series, options.rounds, datapoints, options.clients, DATUMS_PER_REQUEST
    );

    // Every request, as (first series, count, timestamp), dealt out to the clients in order.
    let start = now_seconds() - (options.rounds as i64 + 6) * STEP_SECONDS;
    let mut requests = Vec::new();
    for round in 0..options.rounds {
        for first in (0..options.series).step_by(DATUMS_PER_REQUEST) {
            let count = DATUMS_PER_REQUEST.min(options.series - first);
            requests.push((first, count, start + round as i64 * STEP_SECONDS));
        }
    }
    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let began = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.clients.max(1) {
        let (client, requests, next, namespace) = (client.clone(), requests.clone(), next.clone(), namespace.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(first, count, timestamp)) = requests.get(index) else { return Ok::<(), anyhow::Error>(()) };
                client
                    .call("PutMetricData", put_body(&namespace, first, count, timestamp, (index % 100) as f64))
                    .await?;
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = began.elapsed();
    println!(
        "  PutMetricData:   {:>9.0} datapoints/s stored ({} datapoints in {:.2} s)",
        datapoints as f64 / elapsed.as_secs_f64(),
        datapoints,
        elapsed.as_secs_f64()
    );

    // One series with a datapoint every 10 s for the last 24 hours.
    let day_start = (now_seconds() - 24 * 3600) / 60 * 60;
    let day_points = 24 * 3600 / STEP_SECONDS as usize;
    for chunk in (0..day_points).collect::<Vec<_>>().chunks(DATUMS_PER_REQUEST) {
        let datums: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    r#"{{"MetricName":"Day","Timestamp":{},"Value":{}}}"#,
                    day_start + *n as i64 * STEP_SECONDS,
                    n % 97
                )
            })
            .collect();
        client
            .call("PutMetricData", format!(r#"{{"Namespace":"{namespace}","MetricData":[{}]}}"#, datums.join(",")))
            .await?;
    }
    let query = format!(
        r#"{{"StartTime":{day_start},"EndTime":{},"MetricDataQueries":[{{"Id":"day","MetricStat":{{"Metric":{{"Namespace":"{namespace}","MetricName":"Day"}},"Period":60,"Stat":"Average"}}}}]}}"#,
        day_start + 24 * 3600
    );
    let answer: serde_json::Value = serde_json::from_str(&client.call("GetMetricData", query.clone()).await?)?;
    let values = answer["MetricDataResults"][0]["Values"].as_array().map_or(0, Vec::len);
    if values < 1400 {
        bail!("GetMetricData answered too few datapoints for 24 h at 60 s: {answer:.200}");
    }
    let mut samples = Vec::with_capacity(options.samples);
    for _ in 0..options.samples {
        let began = Instant::now();
        client.call("GetMetricData", query.clone()).await?;
        samples.push(began.elapsed());
    }
    if let Some(summary) = summarise(&samples) {
        println!(
            "  GetMetricData, 24 h of one series at 60 s ({} datapoints at 10 s): p50 {:.2} ms, p99 {:.2} ms ({} samples)",
            day_points,
            millis(summary.median),
            millis(summary.p99),
            summary.count
        );
    }
    Ok(())
}
