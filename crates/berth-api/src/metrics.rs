//! The server's `/metrics`: the edge's request counts and latencies, by service, operation and
//! outcome, rendered with the control plane's own metrics (`berth_control::metrics`) in the
//! Prometheus text format, version 0.0.4.
//!
//! How a request is named: `POST /` answers carry an [`Operation`] extension set by the
//! protocol router (the AWS service and its operation, `unknown` for a name outside the
//! service's model); every other route is named by its path template (`agent`, `proxy`,
//! `exec`, `berth`). The outcome is the status class: `ok` (1xx–3xx, an exec upgrade
//! included), `client_error` (4xx), `server_error` (5xx).
//!
//! Invariant: every label value comes from a fixed set (the services' models, the router's
//! templates), so no client can grow the number of series.
//!
//! Not here: the metrics of the control plane (its own `metrics` module) and of agents
//! (`berth_agent::metrics`, served on each agent's own address).

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// What the protocol router found a `POST /` request to be, left on its response for
/// [`record_request`].
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub service: &'static str,
    pub operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub service: &'static str,
    pub operation: String,
    pub outcome: &'static str,
}

/// The edge's metric definitions.
#[derive(Debug)]
pub struct ApiMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

/// Request latency buckets: 100 µs to about 26 s (long polls reach 20 s).
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 19))
}

impl Default for ApiMetrics {
    fn default() -> Self {
        ApiMetrics { requests: Family::default(), duration: Family::new_with_constructor(latency_buckets) }
    }
}

impl ApiMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "berth_api_requests",
            "Requests answered, by service, operation and outcome",
            self.requests.clone(),
        );
        registry.register(
            "berth_api_request_duration_seconds",
            "Time from a request's arrival to its answer, by service, operation and outcome",
            self.duration.clone(),
        );
    }

    pub fn observe(&self, service: &'static str, operation: String, status: StatusCode, elapsed: Duration) {
        let labels = RequestLabels { service, operation, outcome: outcome(status) };
        self.duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }
}

fn outcome(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "server_error"
    } else if status.is_client_error() {
        "client_error"
    } else {
        "ok"
    }
}

/// The server's registry: the edge's metrics and the control plane's.
#[derive(Debug)]
pub struct Telemetry {
    registry: Registry,
    pub api: ApiMetrics,
}

impl Telemetry {
    pub fn new(control: &berth_control::ControlPlane) -> Telemetry {
        let mut registry = Registry::default();
        let api = ApiMetrics::default();
        api.register(&mut registry);
        control.metrics().register(&mut registry);
        registry.register(
            "berth_build",
            "The running Berth version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Telemetry { registry, api }
    }

    /// Every metric, in the Prometheus text format (0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// `GET /metrics`.
pub async fn serve(State(api): State<Arc<crate::Api>>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], api.telemetry.render()).into_response()
}

/// Middleware: counts and times every request of a matched route.
pub async fn record_request(
    State(api): State<Arc<crate::Api>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = matched.map(|path| path.as_str().to_owned()).unwrap_or_default();
    let response = next.run(request).await;
    let (service, operation) = match response.extensions().get::<Operation>() {
        Some(named) => (named.service, named.operation.to_string()),
        None => route_name(&route),
    };
    api.telemetry.api.observe(service, operation, response.status(), started.elapsed());
    response
}

/// A route other than `POST /` as a service and an operation: `/agent/v1/clusters/{cluster}/
/// instances/{instance}/logs/open` is `agent`, `logs/open`.
fn route_name(template: &str) -> (&'static str, String) {
    const PREFIXES: [(&str, &str); 3] = [
        ("agent", "/agent/v1/clusters/{cluster}/instances/{instance}/"),
        ("proxy", "/proxy/v1/"),
        ("exec", "/exec/v1/"),
    ];
    for (service, prefix) in PREFIXES {
        if let Some(rest) = template.strip_prefix(prefix) {
            return (service, rest.to_string());
        }
    }
    ("berth", template.trim_start_matches('/').to_string())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod text_format;
