//! What the server tells an agent about a session it must serve: the long poll
//! `GET /agent/v1/clusters/{cluster}/instances/{id}/exec-sessions` answers [`ExecTickets`];
//! the agent attaches each one at
//! `/agent/v1/clusters/{cluster}/instances/{id}/exec-sessions/{session}/stream` with the
//! ticket's `agent_token`.
//!
//! Invariant: a ticket is handed to its instance's agent once; the container it names is one
//! the agent must find among its own containers before it runs anything.

use serde::{Deserialize, Serialize};

/// How long the server holds an exec-session poll open when there is nothing to hand out.
pub const EXEC_POLL_SECONDS: u64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecTicket {
    pub session_id: String,
    pub task_arn: String,
    pub container_name: String,
    /// The Docker container ID the server last heard of for that container.
    pub container_runtime_id: String,
    /// The command's argv (ECS's command string, split at the edge).
    pub command: Vec<String>,
    /// Run with a TTY.
    pub interactive: bool,
    /// The secret the agent presents when it attaches to the session stream.
    pub agent_token: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecTickets {
    pub sessions: Vec<ExecTicket>,
}
