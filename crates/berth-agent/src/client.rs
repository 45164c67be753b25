//! The agent's HTTP client for the server: registration through the ECS API, the desired-state
//! long poll, state reports, usage reports and the `awslogs` channel (opening a log stream,
//! shipping batches) (see `berth_agent_protocol` for the contract).
//!
//! Errors are classified for the caller: [`ClientError::Gone`] and [`ClientError::NotFound`]
//! mean "register again", [`ClientError::Rejected`] is a 4xx the agent cannot fix by retrying,
//! and everything else is [`ClientError::Transient`] (retry with backoff).

use berth_agent_protocol::logs::{LogBatch, LogPosition, OpenLogStream};
use berth_agent_protocol::usage::UsageReport;
use berth_agent_protocol::{DesiredDocument, ReportResponse, StateReport, LONG_POLL_SECONDS};
use berth_ecs_wire::{ErrorBody, RegisterContainerInstanceRequest, RegisterContainerInstanceResponse};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Duration;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the container instance was deregistered")]
    Gone,
    #[error("the server does not know this cluster or container instance: {0}")]
    NotFound(String),
    #[error("the server rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the server is unreachable or failed: {0}")]
    Transient(String),
}

/// How an ECS operation called through [`ServerClient::ecs_call`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsCallError {
    /// The server refused the request with this ECS error.
    Refused { error_type: String, message: String },
    /// The server could not be reached or failed.
    Unreachable(String),
}

#[derive(Debug, Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base_url: String,
    cluster: String,
}

impl ServerClient {
    pub fn new(server_url: &str, cluster: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // The agent talks to its server directly, never through an environment proxy.
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map_err(|error| error.to_string())?;
        Ok(ServerClient { http, base_url: server_url.trim_end_matches('/').to_string(), cluster: cluster.to_string() })
    }

    /// Registers the instance; returns its container instance ARN.
    pub async fn register(&self, request: &RegisterContainerInstanceRequest) -> Result<String, ClientError> {
        let response = self
            .http
            .post(format!("{}/", self.base_url))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", format!("{}RegisterContainerInstance", berth_ecs_wire::TARGET_PREFIX))
            .timeout(REQUEST_TIMEOUT)
            .json(request)
            .send()
            .await
            .map_err(transient)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<ErrorBody>(&body)
                .map(|error| format!("{}: {}", error.error_type, error.message))
                .unwrap_or(body);
            return Err(classify(status, message));
        }
        let body: RegisterContainerInstanceResponse = decode(response).await?;
        body.container_instance
            .and_then(|instance| instance.container_instance_arn)
            .ok_or_else(|| ClientError::Transient("registration response carries no containerInstanceArn".into()))
    }

    /// Long-polls for a desired document newer than `after`.
    /// Long-polls the desired document after generation `after`; with `changes_only`, a
    /// document that may list only what changed since then (`DesiredDocument::complete`).
    pub async fn poll_desired(
        &self,
        instance_id: &str,
        after: u64,
        changes_only: bool,
    ) -> Result<DesiredDocument, ClientError> {
        let response = self
            .http
            .get(format!("{}/desired", self.instance_url(instance_id)))
            .query(&[("after", after.to_string()), ("changes_only", changes_only.to_string())])
            .timeout(Duration::from_secs(LONG_POLL_SECONDS) + REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(transient)?;
        check(response).await
    }

    pub async fn report(&self, instance_id: &str, report: &StateReport) -> Result<ReportResponse, ClientError> {
        let response = self
            .http
            .post(format!("{}/report", self.instance_url(instance_id)))
            .timeout(REQUEST_TIMEOUT)
            .json(report)
            .send()
            .await
            .map_err(transient)?;
        check(response).await
    }

    /// Opens (creating if missing) a container's log stream; the position the server holds.
    /// A 404 means the log group does not exist and may not be created.
    pub async fn open_log_stream(
        &self,
        instance_id: &str,
        request: &OpenLogStream,
    ) -> Result<LogPosition, ClientError> {
        let response = self
            .http
            .post(format!("{}/logs/open", self.instance_url(instance_id)))
            .timeout(REQUEST_TIMEOUT)
            .json(request)
            .send()
            .await
            .map_err(transient)?;
        check(response).await
    }

    /// Ships one batch of a log stream; the stream's new position once it is durable.
    pub async fn ship_logs(&self, instance_id: &str, batch: &LogBatch) -> Result<LogPosition, ClientError> {
        let response = self
            .http
            .post(format!("{}/logs", self.instance_url(instance_id)))
            .timeout(REQUEST_TIMEOUT)
            .json(batch)
            .send()
            .await
            .map_err(transient)?;
        check(response).await
    }

    /// Sends one usage report (`berth_agent_protocol::usage`); the server answers no body.
    pub async fn send_usage(&self, instance_id: &str, report: &UsageReport) -> Result<(), ClientError> {
        let response = self
            .http
            .post(format!("{}/usage", self.instance_url(instance_id)))
            .timeout(REQUEST_TIMEOUT)
            .json(report)
            .send()
            .await
            .map_err(transient)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(classify(status, body))
    }

    /// Long-polls the ECS Exec sessions this instance's agent should serve.
    pub async fn poll_exec_tickets(&self, instance_id: &str) -> Result<berth_exec::ticket::ExecTickets, ClientError> {
        let response = self
            .http
            .get(format!("{}/exec-sessions", self.instance_url(instance_id)))
            .timeout(Duration::from_secs(berth_exec::ticket::EXEC_POLL_SECONDS) + REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(transient)?;
        check(response).await
    }

    /// Where the agent attaches its stream for one exec session.
    pub fn exec_stream_url(&self, instance_id: &str, session_id: &str) -> String {
        format!("{}/exec-sessions/{session_id}/stream", self.instance_url(instance_id))
    }

    /// Calls one ECS operation on the server (AWS JSON 1.1), as the task metadata endpoint does
    /// on a task's behalf.
    pub async fn ecs_call<Request: serde::Serialize, Answer: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Request,
    ) -> Result<Answer, EcsCallError> {
        let response = self
            .http
            .post(format!("{}/", self.base_url))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", format!("{}{operation}", berth_ecs_wire::TARGET_PREFIX))
            .timeout(REQUEST_TIMEOUT)
            .json(request)
            .send()
            .await
            .map_err(|error| EcsCallError::Unreachable(error.to_string()))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| EcsCallError::Unreachable(error.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|error| EcsCallError::Unreachable(format!("undecodable response: {error}")));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(error) if status.is_client_error() => {
                Err(EcsCallError::Refused { error_type: error.error_type, message: error.message })
            }
            _ => Err(EcsCallError::Unreachable(format!("{status}: {}", String::from_utf8_lossy(&body)))),
        }
    }

    fn instance_url(&self, instance_id: &str) -> String {
        format!("{}/agent/v1/clusters/{}/instances/{}", self.base_url, self.cluster, instance_id)
    }
}

async fn check<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status();
    if status.is_success() {
        return decode(response).await;
    }
    let body = response.text().await.unwrap_or_default();
    Err(classify(status, body))
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let bytes = response.bytes().await.map_err(transient)?;
    serde_json::from_slice(&bytes).map_err(|error| ClientError::Transient(format!("undecodable response: {error}")))
}

fn classify(status: StatusCode, message: String) -> ClientError {
    match status {
        StatusCode::GONE => ClientError::Gone,
        StatusCode::NOT_FOUND => ClientError::NotFound(message),
        // Throttling and timeouts are worth retrying; other 4xx are not.
        StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => ClientError::Transient(message),
        status if status.is_client_error() => ClientError::Rejected { status: status.as_u16(), message },
        status => ClientError::Transient(format!("{status}: {message}")),
    }
}

fn transient(error: reqwest::Error) -> ClientError {
    ClientError::Transient(error.to_string())
}

/// The last path component of a container instance ARN: the ID the agent endpoints take.
pub fn instance_id_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The cluster name in a cluster name or ARN.
pub fn cluster_name(cluster: &str) -> &str {
    if cluster.starts_with("arn:") {
        cluster.rsplit('/').next().unwrap_or(cluster)
    } else {
        cluster
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_from_arns() {
        assert_eq!(
            instance_id_from_arn("arn:aws:ecs:us-east-1:000000000000:container-instance/prod/0123abcd"),
            "0123abcd"
        );
        assert_eq!(cluster_name("arn:aws:ecs:us-east-1:000000000000:cluster/prod"), "prod");
        assert_eq!(cluster_name("prod"), "prod");
    }

    #[test]
    fn status_classes() {
        assert_eq!(classify(StatusCode::GONE, String::new()), ClientError::Gone);
        assert!(matches!(classify(StatusCode::NOT_FOUND, String::new()), ClientError::NotFound(_)));
        assert!(matches!(classify(StatusCode::BAD_REQUEST, String::new()), ClientError::Rejected { status: 400, .. }));
        assert!(matches!(classify(StatusCode::SERVICE_UNAVAILABLE, String::new()), ClientError::Transient(_)));
    }
}
