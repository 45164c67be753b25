//! The agent's configuration and its top-level error.

use std::path::PathBuf;
use std::time::Duration;

/// How the binary configures an agent. Build it with [`AgentConfig::new`] for the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Base URL of a Berth server, e.g. `http://127.0.0.1:23784`.
    pub server_url: String,
    pub cluster: String,
    /// Where the agent keeps its identity and its container instance ARN across restarts.
    pub data_dir: PathBuf,
    /// Custom attributes to register with.
    pub attributes: Vec<(String, String)>,
    /// Memory (MiB) kept back from the host's total for the OS and Docker.
    pub reserved_memory_mib: i64,
    /// Host ports registered as taken besides the ECS agent's defaults (Berth's own port).
    pub extra_reserved_ports: Vec<u16>,
    /// How long the containers of a stopped task are kept before they are removed.
    pub task_cleanup_wait: Duration,
    pub availability_zone: Option<String>,
    pub instance_type: Option<String>,
    /// The capacity provider this host joins, named in the identity document.
    pub capacity_provider: Option<String>,
    /// Where `GET /metrics` listens (`crate::metrics`); port 0 reuses the data directory's
    /// `metrics-port`. `None`: no endpoint.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// How often the usage sampler reads every running container's CPU, memory and network
    /// counters and reports them (`crate::usage_sampler`); `None`: no sampling.
    pub usage_sample_interval: Option<Duration>,
}

impl AgentConfig {
    pub const DEFAULT_RESERVED_MEMORY_MIB: i64 = 256;
    pub const DEFAULT_USAGE_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
    pub const DEFAULT_TASK_CLEANUP_WAIT: Duration = Duration::from_secs(3 * 3600);
    /// Loopback, on the port kept in the data directory (else any free one).
    pub const DEFAULT_METRICS_LISTEN: std::net::SocketAddr =
        std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

    pub fn new(server_url: impl Into<String>, cluster: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        AgentConfig {
            server_url: server_url.into(),
            cluster: cluster.into(),
            data_dir: data_dir.into(),
            attributes: Vec::new(),
            reserved_memory_mib: Self::DEFAULT_RESERVED_MEMORY_MIB,
            extra_reserved_ports: Vec::new(),
            task_cleanup_wait: Self::DEFAULT_TASK_CLEANUP_WAIT,
            availability_zone: None,
            instance_type: None,
            capacity_provider: None,
            metrics_listen: Some(Self::DEFAULT_METRICS_LISTEN),
            usage_sample_interval: Some(Self::DEFAULT_USAGE_SAMPLE_INTERVAL),
        }
    }
}

/// Why the agent could not run at all. Everything transient (the server or Docker being away)
/// is retried inside the agent and never ends up here.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("invalid agent configuration: {0}")]
    InvalidConfig(String),
    #[error("cannot use the agent data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the server rejected the registration of this instance: {0}")]
    RegistrationRejected(String),
}
