//! The runtime's side of ECS Exec, in the agent's terms: a command to run in a running
//! container (with or without a TTY), its input as a byte sink, its output as a stream, its
//! exit code once it ended. `ContainerRuntime::start_exec` and friends take and give these.
//!
//! Invariant: a runtime only maps these to its API; whether a container may be exec'd into at
//! all (it is this agent's own) is decided by the agent before it asks.

use futures_util::stream::BoxStream;
use std::pin::Pin;
use tokio::io::AsyncWrite;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub container_id: String,
    pub command: Vec<String>,
    pub tty: bool,
}

/// A chunk of a running exec's output. With a TTY everything arrives as `Stdout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutput {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// A started exec: its runtime ID (for resize and the exit code), its input and its output.
/// Shutting the input down closes the command's standard input.
pub struct ExecStreams {
    pub exec_id: String,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
    pub output: BoxStream<'static, Result<ExecOutput, crate::RuntimeError>>,
}
