//! The agent endpoints (`berth-agent-protocol`): the desired-state long poll, state reports,
//! the awslogs channel and usage reports.

use crate::error::ApiError;
use crate::Api;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_agent_protocol::{StateReport, LONG_POLL_SECONDS};
use berth_control::agents::AgentRefusal;
use berth_types::{ClusterName, ContainerInstanceId};
use std::sync::Arc;
use std::time::Duration;

#[derive(serde::Deserialize)]
pub struct PollQuery {
    #[serde(default)]
    after: u64,
    /// Only the tasks that changed since `after` (see `berth-agent-protocol`).
    #[serde(default)]
    changes_only: bool,
}

fn refusal(refusal: AgentRefusal) -> Response {
    match refusal {
        AgentRefusal::Unknown => (StatusCode::NOT_FOUND, "unknown cluster or container instance").into_response(),
        AgentRefusal::Deregistered => (StatusCode::GONE, "container instance deregistered").into_response(),
    }
}

/// The path's cluster and instance; anything unparsable is simply an instance we don't know.
fn parse_path(cluster: &str, instance: &str) -> Result<(ClusterName, ContainerInstanceId), AgentRefusal> {
    let cluster = ClusterName::parse(cluster).map_err(|_| AgentRefusal::Unknown)?;
    let instance = ContainerInstanceId::parse(instance).map_err(|_| AgentRefusal::Unknown)?;
    Ok((cluster, instance))
}

pub async fn poll_desired(
    State(api): State<Arc<Api>>,
    Path((cluster, instance)): Path<(String, String)>,
    Query(query): Query<PollQuery>,
) -> Response {
    let (cluster, instance) = match parse_path(&cluster, &instance) {
        Ok(parsed) => parsed,
        Err(reason) => return refusal(reason),
    };
    match api
        .control
        .poll_desired(&cluster, &instance, query.after, query.changes_only, Duration::from_secs(LONG_POLL_SECONDS))
        .await
    {
        Ok(document) => Json(document).into_response(),
        Err(reason) => refusal(reason),
    }
}

pub async fn report(
    State(api): State<Arc<Api>>,
    Path((cluster, instance)): Path<(String, String)>,
    Json(report): Json<StateReport>,
) -> Response {
    let (cluster, instance) = match parse_path(&cluster, &instance) {
        Ok(parsed) => parsed,
        Err(reason) => return refusal(reason),
    };
    match api.control.apply_report(&cluster, &instance, report).await {
        Ok(Ok(response)) => Json(response).into_response(),
        Ok(Err(reason)) => refusal(reason),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// An agent's awslogs failure: the CloudWatch Logs message, with 404 when the group or
/// stream does not exist, 503 when the log store failed.
fn log_refusal(error: berth_control::ControlError) -> Response {
    use berth_control::logs::LogsErrorKind;
    let status = match &error {
        berth_control::ControlError::Logs(logs) => match logs.kind {
            LogsErrorKind::ResourceNotFound => StatusCode::NOT_FOUND,
            LogsErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        },
        berth_control::ControlError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, error.to_string()).into_response()
}

pub async fn open_log_stream(
    State(api): State<Arc<Api>>,
    Path((cluster, instance)): Path<(String, String)>,
    Json(open): Json<berth_agent_protocol::logs::OpenLogStream>,
) -> Response {
    if let Err(reason) = parse_path(&cluster, &instance) {
        return refusal(reason);
    }
    match api.control.open_agent_log_stream(open).await {
        Ok(position) => Json(position).into_response(),
        Err(error) => log_refusal(error),
    }
}

pub async fn ship_logs(
    State(api): State<Arc<Api>>,
    Path((cluster, instance)): Path<(String, String)>,
    Json(batch): Json<berth_agent_protocol::logs::LogBatch>,
) -> Response {
    if let Err(reason) = parse_path(&cluster, &instance) {
        return refusal(reason);
    }
    match api.control.ship_agent_logs(batch).await {
        Ok(position) => Json(position).into_response(),
        Err(error) => log_refusal(error),
    }
}

/// An agent's usage report: `204` once the control plane turned it into datapoints.
pub async fn report_usage(
    State(api): State<Arc<Api>>,
    Path((cluster, instance)): Path<(String, String)>,
    Json(report): Json<berth_agent_protocol::usage::UsageReport>,
) -> Response {
    let (cluster, instance) = match parse_path(&cluster, &instance) {
        Ok(parsed) => parsed,
        Err(reason) => return refusal(reason),
    };
    match api.control.record_usage(&cluster, &instance, report) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(reason) => refusal(reason),
    }
}

#[cfg(test)]
#[path = "agent_routes_tests.rs"]
mod tests;
