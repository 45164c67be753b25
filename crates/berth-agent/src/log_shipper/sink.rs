//! Where shipped lines go: the [`LogSink`] trait, and [`ServerLogSink`], which calls the
//! server's log endpoints as the registered container instance.

use crate::client::{ClientError, ServerClient};
use crate::metrics::AgentMetrics;
use async_trait::async_trait;
use berth_agent_protocol::logs::{LogBatch, LogPosition, OpenLogStream};
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The server will not take this (a 4xx: the log group does not exist and may not be
    /// created, the request is malformed…). `message` is the server's, e.g.
    /// `ResourceNotFoundException: The specified log group does not exist.`
    #[error("{message}")]
    Refused { message: String },
    /// Worth retrying: the server is unreachable, failed or is busy.
    #[error("{message}")]
    Transient { message: String },
}

/// The receiving end of the `awslogs` channel (`berth_agent_protocol::logs`).
#[async_trait]
pub trait LogSink: Send + Sync + 'static {
    /// Creates the stream (and with `create_group` the group) if missing; the position of
    /// the last line the sink holds for it.
    async fn open(&self, request: &OpenLogStream) -> Result<LogPosition, SinkError>;
    /// Stores the lines after the stream's position; the new position once durable.
    async fn ship(&self, batch: &LogBatch) -> Result<LogPosition, SinkError>;
}

/// The server's log endpoints, as the container instance this agent is registered as.
pub struct ServerLogSink {
    client: ServerClient,
    /// The container instance ID while registered (the agent's session).
    session: watch::Receiver<Option<String>>,
    /// Counts what the server acknowledged.
    metrics: Arc<AgentMetrics>,
}

impl ServerLogSink {
    pub fn new(client: ServerClient, session: watch::Receiver<Option<String>>, metrics: Arc<AgentMetrics>) -> Self {
        ServerLogSink { client, session, metrics }
    }

    fn instance_id(&self) -> Result<String, SinkError> {
        self.session
            .borrow()
            .clone()
            .ok_or_else(|| SinkError::Transient { message: "the agent is not registered yet".to_string() })
    }
}

#[async_trait]
impl LogSink for ServerLogSink {
    async fn open(&self, request: &OpenLogStream) -> Result<LogPosition, SinkError> {
        let instance_id = self.instance_id()?;
        self.client.open_log_stream(&instance_id, request).await.map_err(sink_error)
    }

    async fn ship(&self, batch: &LogBatch) -> Result<LogPosition, SinkError> {
        let instance_id = self.instance_id()?;
        let position = self.client.ship_logs(&instance_id, batch).await.map_err(sink_error)?;
        self.metrics.logs_shipped(batch);
        Ok(position)
    }
}

/// Any 4xx is a refusal in the server's words; a deregistered instance (410) is transient,
/// since the agent registers again and the next attempt goes out under the new identity.
fn sink_error(error: ClientError) -> SinkError {
    match error {
        ClientError::NotFound(body) | ClientError::Rejected { message: body, .. } => {
            SinkError::Refused { message: refusal_message(&body) }
        }
        ClientError::Gone => SinkError::Transient { message: ClientError::Gone.to_string() },
        ClientError::Transient(message) => SinkError::Transient { message },
    }
}

/// The server's message from a refusal body: plain text, or JSON with a `message` (and an
/// error type, `__type` or `code`, which leads the message as ECS reasons have it).
pub fn refusal_message(body: &str) -> String {
    let body = body.trim();
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_string();
    };
    let text = |names: &[&str]| names.iter().find_map(|name| fields.get(*name)?.as_str().map(str::to_string));
    let message = text(&["message", "Message"]);
    let error_type =
        text(&["__type", "code", "Code"]).map(|kind| kind.rsplit('#').next().unwrap_or_default().to_string());
    match (error_type, message) {
        (Some(kind), Some(message)) if !message.starts_with(&kind) => format!("{kind}: {message}"),
        (_, Some(message)) => message,
        (Some(kind), None) => kind,
        (None, None) => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_like_cloudwatch_logs() {
        let expected = "ResourceNotFoundException: The specified log group does not exist.";
        assert_eq!(refusal_message(expected), expected);
        assert_eq!(
            refusal_message(
                r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#
            ),
            expected
        );
        assert_eq!(refusal_message(&format!(r#"{{"message":"{expected}"}}"#)), expected);
        assert_eq!(
            sink_error(ClientError::NotFound(expected.to_string())),
            SinkError::Refused { message: expected.to_string() }
        );
        assert!(matches!(sink_error(ClientError::Gone), SinkError::Transient { .. }));
        assert!(matches!(sink_error(ClientError::Transient("503".into())), SinkError::Transient { .. }));
    }
}
