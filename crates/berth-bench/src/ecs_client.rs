//! A minimal JSON 1.1 client of Berth's endpoint (ECS, and other JSON services by their
//! target prefix): what the benchmarks and `berth logs` need and nothing more.

use anyhow::{bail, Context};
use serde_json::Value;

#[derive(Clone)]
pub struct EcsClient {
    http: reqwest::Client,
    endpoint: String,
}

impl EcsClient {
    pub fn new(endpoint: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().no_proxy().tcp_nodelay(true).pool_max_idle_per_host(256).build()?;
        Ok(EcsClient { http, endpoint: format!("{}/", endpoint.trim_end_matches('/')) })
    }

    /// Calls `operation` and returns the decoded response; an AWS error becomes an `Err`.
    pub async fn call(&self, operation: &str, body: &Value) -> anyhow::Result<Value> {
        let bytes = self.call_raw(operation, body.to_string()).await?;
        serde_json::from_slice(&bytes).with_context(|| format!("{operation}: undecodable answer"))
    }

    /// Calls `operation` and returns the undecoded response body, for load loops that check
    /// answers without paying for a full decode each time.
    pub async fn call_raw(&self, operation: &str, body: String) -> anyhow::Result<bytes::Bytes> {
        self.call_target(berth_ecs_wire::TARGET_PREFIX, operation, body).await
    }

    /// Calls `operation` of the JSON 1.1 service whose `X-Amz-Target` prefix is
    /// `target_prefix` (CloudWatch Logs' `Logs_20140328.`) on the same endpoint.
    pub async fn call_service(&self, target_prefix: &str, operation: &str, body: &Value) -> anyhow::Result<Value> {
        let bytes = self.call_target(target_prefix, operation, body.to_string()).await?;
        serde_json::from_slice(&bytes).with_context(|| format!("{operation}: undecodable answer"))
    }

    async fn call_target(&self, target_prefix: &str, operation: &str, body: String) -> anyhow::Result<bytes::Bytes> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", format!("{target_prefix}{operation}"))
            .body(body)
            .send()
            .await
            .with_context(|| format!("{operation}: no answer from {}", self.endpoint))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if !status.is_success() {
            bail!("{operation} failed ({status}): {}", String::from_utf8_lossy(&bytes));
        }
        Ok(bytes)
    }
}
