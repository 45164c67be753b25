//! The container runtime the agent drives, as a narrow trait: everything the agent needs from
//! Docker and nothing more. The real implementation lives in `berth-runtime-docker`; tests use
//! [`crate::fake::FakeRuntime`].
//!
//! The types here are already in the agent's terms (bytes, durations, typed specs): the task
//! specification is translated into a [`CreateContainerRequest`] by `crate::container_config`,
//! so that a runtime only maps fields and never decides ECS semantics.

pub use crate::runtime_exec::{ExecOutput, ExecRequest, ExecStreams};
pub use crate::runtime_stats::ContainerStatsSample;
use async_trait::async_trait;
use berth_types::records::NetworkBinding;
use berth_types::spec::{LogConfigurationSpec, NetworkMode, UlimitSpec};
use berth_types::PortProtocol;
use futures_util::stream::BoxStream;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the runtime reports about its host, for registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub cpu_count: i64,
    pub memory_bytes: i64,
    /// The runtime's own version, e.g. Docker's `20.10.24`.
    pub server_version: String,
    /// The highest Docker Engine API version the daemon speaks, e.g. `1.41`.
    pub api_version: String,
    /// The kernel architecture as the runtime names it (`x86_64`, `aarch64`, …).
    pub architecture: String,
}

/// A container to create. Every field is final: the runtime maps, it does not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateContainerRequest {
    pub name: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub cpu_shares: i64,
    pub memory_limit_bytes: Option<i64>,
    pub memory_reservation_bytes: Option<i64>,
    pub environment: Vec<(String, String)>,
    pub entry_point: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub user: Option<String>,
    pub working_directory: Option<String>,
    pub ulimits: Vec<UlimitSpec>,
    pub readonly_root_filesystem: bool,
    pub init: bool,
    pub log_configuration: LogConfigurationSpec,
    pub health_check: Option<HealthCheck>,
    pub mounts: Vec<MountRequest>,
    pub network_mode: NetworkMode,
    pub port_bindings: Vec<PortBindingRequest>,
    /// Docker's own stop timeout for the container, so that a `docker stop` by hand honours it.
    pub stop_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`, as Docker takes it.
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    pub source: MountSource,
    pub container_path: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A bind mount of a host path.
    HostPath(String),
    /// A named volume (created beforehand by [`ContainerRuntime::create_volume`] when it needs
    /// a driver or labels; otherwise the runtime creates it on first use).
    Volume(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortBindingRequest {
    pub container_port: u16,
    /// `None` lets the runtime pick a free host port.
    pub host_port: Option<u16>,
    pub protocol: PortProtocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateVolumeRequest {
    pub name: String,
    pub driver: Option<String>,
    pub driver_options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// Where a container is in its life, as the runtime sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRunState {
    /// Created, never started.
    Created,
    Running,
    /// Started once and no longer running (exited, dead or being removed).
    Exited,
}

/// A container's health as the runtime's health check last judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeHealth {
    /// No health check configured.
    None,
    Starting,
    Healthy,
    Unhealthy,
}

/// What an inspect tells the agent about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub state: ContainerRunState,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// The runtime's error text for a container that failed (e.g. a start failure).
    pub error: Option<String>,
    pub health: RuntimeHealth,
    /// Host ports bound to container ports, one entry per (container port, protocol).
    pub network_bindings: Vec<NetworkBinding>,
    pub image_digest: Option<String>,
}

/// Something happened to a container. The agent re-inspects the container on every event, so
/// an event is a prompt, not a fact: a lost or duplicated event costs nothing but latency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeEvent {
    pub container_id: String,
    /// The container's labels, which name the task it belongs to.
    pub labels: BTreeMap<String, String>,
    pub kind: RuntimeEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeEventKind {
    Started,
    Died,
    HealthChanged,
    Destroyed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The container, image or volume does not exist.
    #[error("{what} not found: {message}")]
    NotFound { what: String, message: String },
    /// A container with this name already exists (a create after a crash).
    #[error("container name {name:?} is already in use")]
    NameConflict { name: String },
    /// The runtime answered with an error; `message` is its text, verbatim.
    #[error("{operation} failed: {message}")]
    Failed { operation: &'static str, message: String },
    /// The runtime could not be reached at all.
    #[error("container runtime unavailable during {operation}: {message}")]
    Unavailable { operation: &'static str, message: String },
}

impl RuntimeError {
    /// The runtime's own words, for ECS-style reasons such as `CannotPullContainerError: …`.
    pub fn message(&self) -> String {
        match self {
            RuntimeError::NotFound { message, .. } => message.clone(),
            RuntimeError::NameConflict { name } => {
                format!("container name {name:?} is already in use")
            }
            RuntimeError::Failed { message, .. } | RuntimeError::Unavailable { message, .. } => message.clone(),
        }
    }
}

pub type RuntimeEventStream = BoxStream<'static, Result<RuntimeEvent, RuntimeError>>;

/// Which of a container's output streams a line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// One line a container printed, as the runtime kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLogLine {
    /// The runtime's timestamp of the line (Docker's, taken when it read the line), in
    /// nanoseconds since the Unix epoch. Lines come in the order the runtime stored them.
    pub source_ns: i64,
    pub stream: OutputStream,
    /// The line without its trailing newline; not necessarily UTF-8.
    pub line: Vec<u8>,
    /// The runtime no longer held lines that came before this one when they were to be read
    /// (rotated away while the reader was far behind): they are lost.
    pub lines_lost_before: bool,
}

/// A container's output from a point on; see [`ContainerRuntime::container_logs`].
pub type LogLineStream = BoxStream<'static, Result<ContainerLogLine, RuntimeError>>;

/// The side effects the agent has on its host. Implementations must be cheap to call
/// concurrently from many tasks.
#[async_trait]
pub trait ContainerRuntime: Send + Sync + 'static {
    async fn host_info(&self) -> Result<HostInfo, RuntimeError>;
    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError>;
    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError>;
    async fn create_volume(&self, request: &CreateVolumeRequest) -> Result<(), RuntimeError>;
    /// Removing a volume that does not exist succeeds.
    async fn remove_volume(&self, name: &str) -> Result<(), RuntimeError>;
    /// Returns the new container's ID, or [`RuntimeError::NameConflict`].
    async fn create_container(&self, request: &CreateContainerRequest) -> Result<String, RuntimeError>;
    /// Starting a running container succeeds.
    async fn start_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// SIGTERM (or the image's stop signal), then SIGKILL after `timeout`. Returns once the
    /// container has stopped; stopping a stopped container succeeds.
    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError>;
    /// `id_or_name` may be an ID or a container name.
    async fn inspect_container(&self, id_or_name: &str) -> Result<ContainerInfo, RuntimeError>;
    /// IDs of every container, running or not, that carries `label` with `value`.
    async fn list_containers(&self, label: &str, value: &str) -> Result<Vec<String>, RuntimeError>;
    /// Removes a stopped container and its anonymous volumes; removing a missing one succeeds.
    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// A stream of events of the containers that carry `label` with `value`, from now on.
    /// The stream ends or fails when the runtime connection breaks; the caller subscribes again.
    async fn events(&self, label: &str, value: &str) -> Result<RuntimeEventStream, RuntimeError>;
    /// Starts `request.command` in a running container, attached (ECS Exec). Runtimes without
    /// exec support refuse.
    async fn start_exec(&self, request: &ExecRequest) -> Result<ExecStreams, RuntimeError> {
        let _ = request;
        Err(RuntimeError::Failed { operation: "exec", message: "this runtime cannot exec into containers".into() })
    }
    /// Sets the TTY size of a started exec.
    async fn resize_exec(&self, exec_id: &str, rows: u16, columns: u16) -> Result<(), RuntimeError> {
        let _ = (exec_id, rows, columns);
        Ok(())
    }
    /// The exit code of an exec, `None` while it still runs.
    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, RuntimeError> {
        let _ = exec_id;
        Ok(None)
    }
    /// One sample of the container's resource statistics, in the runtime's own JSON (Docker's
    /// stats API), for the task metadata endpoint.
    async fn container_stats(&self, id: &str) -> Result<serde_json::Value, RuntimeError> {
        Err(RuntimeError::Failed { operation: "stats", message: format!("no statistics for container {id}") })
    }
    /// One sample of the container's counters, typed, for the usage sampler. By default read
    /// from [`ContainerRuntime::container_stats`]'s Docker JSON.
    async fn container_stats_sample(&self, id: &str) -> Result<ContainerStatsSample, RuntimeError> {
        let stats = self.container_stats(id).await?;
        ContainerStatsSample::from_docker_json(&stats).ok_or_else(|| RuntimeError::Failed {
            operation: "stats",
            message: format!("no statistics for container {id}"),
        })
    }
    /// The container's stdout and stderr, interleaved as the runtime stored them, from
    /// `since_ns` on (everything with `None`), following the output while the container runs.
    /// The stream ends once the container has stopped; it may end before everything the
    /// container printed was read (Docker ends a follow when the container stops, however far
    /// behind its reader is), and it fails or ends early when the runtime connection breaks, so
    /// a caller that needs every line opens it again after the last one it read.
    ///
    /// `since_ns` is a hint at the runtime's own resolution: lines at or before it may still
    /// come (Docker's `since` is whole seconds), so callers drop those themselves.
    async fn container_logs(&self, id: &str, since_ns: Option<i64>) -> Result<LogLineStream, RuntimeError> {
        let _ = since_ns;
        Err(RuntimeError::Failed { operation: "logs", message: format!("this runtime cannot read the logs of {id}") })
    }
    /// The host's address on the default bridge network, where containers can reach the
    /// agent; `None` when the runtime has no such network.
    async fn bridge_gateway(&self) -> Result<Option<std::net::IpAddr>, RuntimeError> {
        Ok(None)
    }
}
