//! The agent's own metrics and the `/metrics` endpoint that serves them (Prometheus text
//! format, version 0.0.4): tasks by status, log lines and bytes shipped and how far shipping
//! lags behind Docker, reports sent and desired-document polls, by outcome.
//!
//! Where it listens: `AgentConfig::metrics_listen` (`--metrics-listen`), 127.0.0.1 by
//! default. Port 0 means the port used last time when it is still free, else any; the port
//! is kept in the data directory (`metrics-port`) and logged, so that a scraper finds it
//! again after a restart. `None` turns the endpoint off.
//!
//! Invariant: one [`AgentMetrics`] per running agent (no process-wide registry), and label
//! values come from fixed sets (task statuses, outcomes).
//!
//! Not here: the server's metrics (`berth_api::metrics`).

use crate::identity::DataDir;
use crate::reporter::Reporter;
use axum::extract::State;
use axum::response::IntoResponse;
use berth_agent_protocol::logs::LogBatch;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or `error` (the request failed or was refused).
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// The agent's metric definitions.
#[derive(Debug, Default)]
pub struct AgentMetrics {
    reports: Family<OutcomeLabels, Counter>,
    desired_polls: Family<OutcomeLabels, Counter>,
    log_lines_shipped: Counter,
    log_bytes_shipped: Counter,
    log_shipping_lag: Gauge<f64, AtomicU64>,
    log_last_shipped: Gauge<f64, AtomicU64>,
}

fn outcome(ok: bool) -> OutcomeLabels {
    OutcomeLabels { outcome: if ok { "ok" } else { "error" } }
}

impl AgentMetrics {
    /// A registry with every metric of this agent; task counts are read from `reporter` (the
    /// latest report of every task the agent runs or still holds containers of) on each scrape.
    pub fn registry(&self, reporter: Arc<Reporter>) -> Registry {
        let mut registry = Registry::default();
        registry.register(
            "berth_agent_reports",
            "State reports posted to the server, by outcome",
            self.reports.clone(),
        );
        registry.register(
            "berth_agent_desired_polls",
            "Desired-document long polls answered, by outcome",
            self.desired_polls.clone(),
        );
        registry.register(
            "berth_agent_log_lines_shipped",
            "awslogs lines the server acknowledged",
            self.log_lines_shipped.clone(),
        );
        registry.register(
            "berth_agent_log_bytes_shipped",
            "Bytes of awslogs messages the server acknowledged",
            self.log_bytes_shipped.clone(),
        );
        registry.register(
            "berth_agent_log_shipping_lag_seconds",
            "When the last batch was acknowledged, how long after Docker's timestamp of its newest line",
            self.log_shipping_lag.clone(),
        );
        registry.register(
            "berth_agent_log_last_shipped_timestamp_seconds",
            "Docker's timestamp of the newest acknowledged line (time() minus this is the lag now)",
            self.log_last_shipped.clone(),
        );
        registry.register_collector(Box::new(TaskCounts { reporter }));
        registry.register(
            "berth_build",
            "The running Berth version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry
    }

    pub(crate) fn report_sent(&self, ok: bool) {
        self.reports.get_or_create(&outcome(ok)).inc();
    }

    pub(crate) fn desired_polled(&self, ok: bool) {
        self.desired_polls.get_or_create(&outcome(ok)).inc();
    }

    /// The server acknowledged `batch`.
    pub(crate) fn logs_shipped(&self, batch: &LogBatch) {
        self.log_lines_shipped.inc_by(batch.lines.len() as u64);
        self.log_bytes_shipped.inc_by(batch.lines.iter().map(|line| line.message.len() as u64).sum());
        if let Some(newest) = batch.lines.iter().map(|line| line.source_ns).max() {
            let now_ns = berth_types::Timestamp::now().0 as f64 * 1e6;
            self.log_shipping_lag.set(((now_ns - newest as f64) / 1e9).max(0.0));
            self.log_last_shipped.set(newest as f64 / 1e9);
        }
    }
}

/// `berth_agent_tasks{status}`, counted at scrape time.
#[derive(Debug)]
struct TaskCounts {
    reporter: Arc<Reporter>,
}

impl Collector for TaskCounts {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts: Family<StatusLabels, Gauge> = Family::default();
        for (status, count) in self.reporter.count_by_status() {
            counts.get_or_create(&StatusLabels { status: status.as_str() }).set(count as i64);
        }
        let metric = encoder.encode_descriptor(
            "berth_agent_tasks",
            "Tasks on this agent by their last status",
            None,
            counts.metric_type(),
        )?;
        counts.encode(metric)
    }
}

/// Renders `registry` in the text format.
pub fn render(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, registry)
        .expect("writing to a String does not fail");
    text
}

/// The running endpoint; `stop` ends it.
pub struct MetricsEndpoint {
    pub address: SocketAddr,
    server: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Stops serving; once this returns, the port is free again.
    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

/// Listens on `listen` (port 0: the data directory's `metrics-port` if free, else any) and
/// serves `GET /metrics`. Failing to listen is logged, not fatal: the agent runs unobserved
/// rather than not at all.
pub async fn start(listen: SocketAddr, data: &DataDir, registry: Registry) -> Option<MetricsEndpoint> {
    let preferred = (listen.port() == 0).then(|| data.load_metrics_port().ok().flatten()).flatten();
    let listener = match preferred {
        Some(port) => match tokio::net::TcpListener::bind(SocketAddr::new(listen.ip(), port)).await {
            Ok(listener) => Ok(listener),
            Err(_) => tokio::net::TcpListener::bind(listen).await,
        },
        None => tokio::net::TcpListener::bind(listen).await,
    };
    let listener = match listener {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%listen, %error, "cannot start the agent's metrics endpoint");
            return None;
        }
    };
    let address = listener.local_addr().ok()?;
    if let Err(error) = data.save_metrics_port(address.port()) {
        tracing::warn!(%error, "cannot remember the metrics endpoint's port");
    }
    tracing::info!(url = %format!("http://{address}/metrics"), "agent metrics endpoint listening");
    let router = axum::Router::new().route("/metrics", axum::routing::get(serve)).with_state(Arc::new(registry));
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "the agent's metrics endpoint stopped");
        }
    });
    Some(MetricsEndpoint { address, server })
}

async fn serve(State(registry): State<Arc<Registry>>) -> axum::response::Response {
    ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], render(&registry)).into_response()
}

#[cfg(test)]
mod tests;
