//! The Berth agent: runs on every Docker host, registers it with a Berth server as an ECS
//! container instance, converges the host to the server's desired document and reports what
//! it observes.
//!
//! Bird's-eye view:
//! - [`run_agent`] (`agent`): registration, the desired-state long poll, the report sender,
//!   the runtime event pump and one runner per task.
//! - `task`: one task's life — its state, the pure `decide` function, adoption after a
//!   restart, and the runner that executes decisions.
//! - [`ContainerRuntime`] (`runtime`): the narrow trait over Docker; `berth-runtime-docker`
//!   implements it, [`fake::FakeRuntime`] records calls for tests.
//! - `container_config`: ECS rules that turn a task spec into containers to create.
//! - `exec_sessions`: ECS Exec — the long poll for sessions and one relay per session between
//!   the server's stream and a Docker exec in one of this agent's own containers.
//! - `log_shipper`: the `awslogs` log driver — one shipper per container that follows its
//!   Docker output and ships it in batches to the server's CloudWatch Logs store, resuming at
//!   the position the server holds.
//! - `usage_sampler`: every few seconds, the CPU, memory and network use of each running
//!   container, sent to the server's usage channel (the source of ECS's CloudWatch metrics).
//! - `metrics`: the agent's own metrics and its `/metrics` endpoint (`--metrics-listen`).
//! - `metadata`: the task metadata endpoint (v3/v4) and task protection endpoint that
//!   containers reach on the bridge gateway, one unguessable token per container.
//!
//! Deliberately not here: placement, the store, anything Docker-specific. The agent talks to
//! the server only over HTTP, even when both run in one process.

#![forbid(unsafe_code)]

mod agent;
pub mod backoff;
pub mod client;
pub mod config;
pub mod container_config;
mod exec_sessions;
pub mod fake;
pub mod identity;
pub mod log_shipper;
pub mod metadata;
pub mod metrics;
pub mod registration;
pub mod reporter;
pub mod runtime;
mod runtime_exec;
mod runtime_stats;
pub mod task;
pub mod usage_sampler;

#[cfg(test)]
mod test_support;

pub use agent::run_agent;
pub use config::{AgentConfig, AgentError};
pub use runtime::{
    ContainerInfo, ContainerLogLine, ContainerRunState, ContainerRuntime, CreateContainerRequest, CreateVolumeRequest,
    HealthCheck, HostInfo, LogLineStream, MountRequest, MountSource, OutputStream, PortBindingRequest, RuntimeError,
    RuntimeEvent, RuntimeEventKind, RuntimeEventStream, RuntimeHealth,
};
pub use runtime_exec::{ExecOutput, ExecRequest, ExecStreams};
pub use runtime_stats::ContainerStatsSample;
