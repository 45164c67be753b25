//! The command-line surface.

use crate::duration;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Berth: self-hosted container orchestration that speaks the Amazon ECS API.
///
/// Point the aws CLI, boto3 or any AWS SDK at Berth's endpoint and it runs your task
/// definitions as real Docker containers.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, long_about)]
pub struct Cli {
    /// How Berth's own log lines (stderr) are written: `text` (coloured only on a terminal)
    /// or `json` (one object a line: timestamp, level, target, fields).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Control plane, embedded store and a local Docker agent in one process.
    ///
    /// The quickest way to a working ECS endpoint on this machine. The local agent talks to the
    /// control plane over HTTP exactly as a remote `berth agent` does.
    Up(UpArgs),
    /// The control plane alone (agents on other hosts join with `berth agent`).
    Server(ServerArgs),
    /// An agent alone: registers this host's Docker Engine as a container instance.
    Agent(AgentArgs),
    /// Benchmarks against a running Berth endpoint (figures are printed, never asserted).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Hollow agents: many simulated container instances that register and run tasks through
    /// the real API and agent protocol, without Docker (for scale tests and benchmarks).
    Sim(SimArgs),
    /// Runs a command in a task's container (ECS Exec) and exits with its exit code.
    Exec(ExecArgs),
    /// The awslogs output of a task or of a service's tasks (`--follow` keeps reading).
    Logs(LogsArgs),
    /// The ECS Exec sessions a server has recorded.
    #[command(subcommand)]
    ExecSessions(ExecSessionsCommand),
    /// A load-balancing proxy alone: serves every ELBv2 listener the server describes, on this
    /// host (`berth up` and `berth server` run one themselves unless given --no-proxy).
    Proxy(ProxyArgs),
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The Berth server's URL, e.g. http://10.0.0.5:23784.
    #[arg(long)]
    pub server: String,
    /// Where the proxy keeps its last document (to serve at once after a restart) and its
    /// access logs. Default: $BERTH_DATA_DIR/proxy, else ~/.local/share/berth/proxy.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Names this proxy in its health reports; two proxies of one server need two names.
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The Berth endpoint.
    #[arg(long, default_value = "http://127.0.0.1:23784")]
    pub server: String,
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// A task (ARN or ID) or a service name.
    pub target: String,
    /// Only this container's output.
    #[arg(long)]
    pub container: Option<String>,
    /// Keep printing new lines as they arrive.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines from this long ago on (e.g. 10m, 2h).
    #[arg(long, value_parser = duration::parse)]
    pub since: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The Berth endpoint.
    #[arg(long, default_value = "http://127.0.0.1:23784")]
    pub server: String,
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// The task's ARN or ID.
    #[arg(long)]
    pub task: String,
    /// The container to run in; needed when the task has more than one.
    #[arg(long)]
    pub container: Option<String>,
    /// Interactive: a TTY in the container, this terminal in raw mode (`-it` works too).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// The same as `--interactive`, so that `-it` reads as with docker.
    #[arg(short = 't', long = "tty", hide = true)]
    pub tty: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExecSessionsCommand {
    /// Every recorded session: who ran what in which container, when, and its exit code.
    List {
        #[arg(long, default_value = "http://127.0.0.1:23784")]
        server: String,
    },
}

/// The running `berth up` and the image the Docker-backed benchmarks compare against.
#[derive(Debug, Args)]
pub struct DockerBenchTarget {
    #[arg(long, default_value = "http://127.0.0.1:23784")]
    pub endpoint: String,
    #[arg(long, default_value = "default")]
    pub cluster: String,
    #[arg(long, default_value = "berth-test/busybox:latest")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// RunTask -> RUNNING against Docker's own create+start of the same image.
    Launch {
        #[command(flatten)]
        target: DockerBenchTarget,
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    /// DescribeTasks (100 tasks) and ListTasks under concurrent clients.
    Api {
        #[arg(long, default_value = "http://127.0.0.1:23784")]
        endpoint: String,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// How long each phase sends requests.
        #[arg(long, default_value = "10s", value_parser = duration::parse)]
        phase: Duration,
    },
    /// A service of N tasks to steady state and through a rolling update, against Docker's own
    /// start and replace of the same containers (run `berth up --service-settle-time 0s`).
    Service {
        #[command(flatten)]
        target: DockerBenchTarget,
        #[arg(long, default_value_t = 20)]
        tasks: usize,
    },
    /// A task's output through awslogs into Berth's log store against Docker's json-file
    /// logging of the same task; the server's memory meanwhile; GetLogEvents and
    /// FilterLogEvents over a million stored events.
    Logs {
        #[command(flatten)]
        target: DockerBenchTarget,
        /// Lines the writer task prints (100 bytes each).
        #[arg(long, default_value_t = 3_000_000)]
        lines: usize,
        #[arg(long, default_value_t = 1_000_000)]
        stored_events: usize,
        #[arg(long, default_value_t = 20)]
        samples: usize,
        /// Then a writer printing 10 blocks of `--sustain-block` lines a second for this long,
        /// with the server's memory sampled every second (0: no such phase).
        #[arg(long, default_value_t = 0)]
        sustain_seconds: u64,
        #[arg(long, default_value_t = 12_000)]
        sustain_block: usize,
    },
    /// PutMetricData into `--series` series at 10-second resolution from `--clients`
    /// concurrent clients, then GetMetricData over 24 hours of one series.
    Metrics {
        #[arg(long, default_value = "http://127.0.0.1:23784")]
        endpoint: String,
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        /// Timestamps each series gets, 10 s apart.
        #[arg(long, default_value_t = 60)]
        rounds: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// `berth exec … -- echo hi` against `docker exec` on the same container, alternating.
    Exec {
        #[command(flatten)]
        target: DockerBenchTarget,
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    /// An ELBv2 listener of the proxy inside a running `berth up --proxy-bind 127.0.0.1` against
    /// nginx as a reverse proxy to the same 4 busybox httpd targets (wrk, alternating rounds);
    /// a new target's first request after it turns healthy; memory with 10,000 targets.
    Proxy {
        #[arg(long, default_value = "http://127.0.0.1:23784")]
        endpoint: String,
        #[arg(long, default_value = "berth-test/busybox:latest")]
        image: String,
        /// How long each wrk round runs.
        #[arg(long, default_value = "10s", value_parser = duration::parse)]
        duration: Duration,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Rounds per side (berth, nginx, berth, nginx, ...).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// What both proxies forward to: `busybox` (httpd containers; they close every
        /// connection, so no upstream keep-alive) or `nginx` (static keep-alive servers).
        #[arg(long, default_value = "busybox")]
        backend: berth_bench::proxy::Backend,
        /// Skip the 10,000-target memory figure.
        #[arg(long)]
        skip_memory: bool,
    },
    /// The proxy's memory with 1,000 target groups x 10 checked targets (run by `bench proxy`).
    #[command(hide = true)]
    ProxyMemory,
    /// Time from starting `berth up` on an empty data directory to its first answer.
    Startup {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// EventBridge Scheduler: many schedules at rate(1 minute) on hollow instances; firing
    /// lateness (p50, p99) and the server's CPU. Starts its own `berth server`.
    Schedules {
        #[arg(long, default_value_t = 10_000)]
        schedules: usize,
        /// How long to let them fire.
        #[arg(long, default_value_t = 3)]
        minutes: u64,
        #[arg(long, default_value_t = 20)]
        instances: usize,
    },
    /// Hollow instances and RunTask until many tasks are RUNNING: placement throughput and
    /// latency, server memory, restart after kill -9. Starts its own `berth server` unless
    /// --endpoint is given.
    Scale {
        /// A running server to use instead of starting one (the restart is then skipped).
        #[arg(long)]
        endpoint: Option<String>,
        /// The running server's pid, for its memory (found from its command line if omitted).
        #[arg(long, requires = "endpoint")]
        server_pid: Option<u32>,
        /// Data directory of the server the benchmark starts. Default: a fresh temporary one.
        #[arg(long, conflicts_with = "endpoint")]
        data_dir: Option<PathBuf>,
        /// Keep the started server's data directory afterwards.
        #[arg(long)]
        keep_data_dir: bool,
        #[arg(long, default_value_t = 5000)]
        instances: usize,
        #[arg(long, default_value_t = 100_000)]
        tasks: usize,
        /// Concurrent RunTask clients, each calling again as soon as it is answered. A closed
        /// loop's latency is clients / throughput (Little's law), so 64 clients cannot see a
        /// 50 ms p99 below 1,280 calls/s; 8 keep enough calls in flight to fill group commits.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Bound on placing the tasks and waiting for them to run.
        #[arg(long, default_value = "10m", value_parser = duration::parse)]
        deadline: Duration,
    },
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The Berth server's URL, e.g. http://127.0.0.1:23784.
    #[arg(long)]
    pub server: String,
    /// The cluster the hollow instances join (it must exist).
    #[arg(long, default_value = "default")]
    pub cluster: String,
    #[arg(long)]
    pub instances: usize,
    /// CPU units each instance registers (1024 per vCPU).
    #[arg(long, default_value_t = 4096)]
    pub cpu: i32,
    /// Memory (MiB) each instance registers.
    #[arg(long, default_value_t = 16384)]
    pub memory: i32,
    /// NAME=V1,V2,..: an attribute whose values are dealt to instances round-robin (repeatable).
    #[arg(long = "attribute", value_parser = berth_sim::parse_spread_attribute)]
    pub attributes: Vec<berth_sim::SpreadAttribute>,
    /// The capacity provider every instance joins.
    #[arg(long)]
    pub capacity_provider: Option<String>,
    /// Instance N's identity (instanceId) is this prefix and N in hex; the same prefix
    /// registers the same container instances again.
    #[arg(long, default_value = "i-hollow")]
    pub identity_prefix: String,
    /// How often the fleet's counters are printed.
    #[arg(long, default_value = "10s", value_parser = duration::parse)]
    pub report_every: Duration,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address the ECS endpoint (and the agent protocol) listens on.
    #[arg(long, default_value = "127.0.0.1:23784")]
    pub listen: SocketAddr,
    /// Where state is kept. Default: $BERTH_DATA_DIR, else ~/.local/share/berth.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Region used in every ARN.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account ID used in every ARN.
    #[arg(long, default_value = "000000000000")]
    pub account: String,
    /// After this long without hearing from an agent, its instance shows agentConnected=false.
    #[arg(long, default_value = "60s", value_parser = duration::parse)]
    pub agent_timeout: Duration,
    /// How long stopped tasks stay describable (ECS keeps them at least an hour).
    #[arg(long, default_value = "3h", value_parser = duration::parse)]
    pub stopped_task_retention: Duration,
    /// After this long without its agent, an instance's service tasks are replaced elsewhere.
    #[arg(long, default_value = "5m", value_parser = duration::parse)]
    pub instance_lost_after: Duration,
    /// A RUNNING service task without container health checks counts as healthy after this
    /// long (ECS uses 40 s when no load balancer is attached).
    #[arg(long, default_value = "40s", value_parser = duration::parse)]
    pub service_settle_time: Duration,
    /// First delay of the service throttle for tasks that keep failing to start; it doubles per
    /// failure up to 27 minutes.
    #[arg(long, default_value = "10s", value_parser = duration::parse)]
    pub service_throttle_delay: Duration,
    /// The address load balancers' listeners are bound on (their ports are the listeners').
    /// Their DNS names (`*.elb.localhost`) resolve to loopback.
    #[arg(long, default_value = "0.0.0.0")]
    pub proxy_bind: std::net::IpAddr,
    /// How long a minute of deployment bake times lasts (bakeTimeInMinutes, the linear and
    /// canary steps). Tests shorten it; leave it at 60s otherwise.
    #[arg(long, default_value = "60s", value_parser = duration::parse)]
    pub deployment_minute: Duration,
    /// How long a day of log retention (retentionInDays) lasts. Tests shorten it; leave it at
    /// 24h otherwise.
    #[arg(long, default_value = "24h", value_parser = duration::parse)]
    pub log_day: Duration,
    /// The period, in seconds, of the CloudWatch alarms target tracking scaling policies
    /// create (10, 20, 30 or a multiple of 60). Tests shorten it; leave it at 60 otherwise.
    #[arg(long, default_value_t = 60, value_parser = parse_alarm_period)]
    pub autoscaling_alarm_period: u32,
    /// Do not run the load-balancing proxy in this process (run `berth proxy` instead).
    #[arg(long)]
    pub no_proxy: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The cluster the local agent joins; created if missing.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// How long a stopped task's containers are kept before removal.
    #[arg(long, default_value = "3h", value_parser = duration::parse)]
    pub task_cleanup_wait: Duration,
    /// A custom attribute for the local container instance, NAME=VALUE (repeatable).
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// Where the local agent's own /metrics listens (the server's are on --listen). Port 0:
    /// the port kept in DATA_DIR/agent/metrics-port, else any free one (logged). `off`: none.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = parse_metrics_listen)]
    pub agent_metrics_listen: MetricsListen,
    /// How often the local agent reads each running container's CPU, memory and network use and
    /// reports it (the source of the AWS/ECS and ECS/ContainerInsights metrics). `0s`: never.
    #[arg(long, default_value = "5s", value_parser = duration::parse)]
    pub usage_sample_interval: Duration,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The Berth server's URL, e.g. http://10.0.0.5:23784.
    #[arg(long)]
    pub server: String,
    /// The cluster to join.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// Where the agent keeps its identity. Default: $BERTH_DATA_DIR/agent, else
    /// ~/.local/share/berth/agent. Two agents on one host need two directories.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A custom attribute, NAME=VALUE (repeatable).
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// How long a stopped task's containers are kept before removal.
    #[arg(long, default_value = "3h", value_parser = duration::parse)]
    pub task_cleanup_wait: Duration,
    /// Memory (MiB) kept back from the host total for the OS and Docker.
    #[arg(long, default_value_t = 256)]
    pub reserved_memory: i64,
    /// Reported as the ecs.availability-zone attribute.
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// Reported as the ecs.instance-type attribute.
    #[arg(long)]
    pub instance_type: Option<String>,
    /// The capacity provider this host joins (create it with CreateCapacityProvider).
    #[arg(long)]
    pub capacity_provider: Option<String>,
    /// Where this agent's /metrics listens. Port 0: the port kept in DATA_DIR/metrics-port,
    /// else any free one (logged). `off`: none.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = parse_metrics_listen)]
    pub metrics_listen: MetricsListen,
    /// How often the agent reads each running container's CPU, memory and network use and
    /// reports it (the source of the AWS/ECS and ECS/ContainerInsights metrics). `0s`: never.
    #[arg(long, default_value = "5s", value_parser = duration::parse)]
    pub usage_sample_interval: Duration,
}

/// `--metrics-listen`: an address, or `off`.
#[derive(Debug, Clone, Copy)]
pub struct MetricsListen(pub Option<SocketAddr>);

fn parse_metrics_listen(text: &str) -> Result<MetricsListen, String> {
    if text == "off" {
        return Ok(MetricsListen(None));
    }
    text.parse().map(|address| MetricsListen(Some(address))).map_err(|error| format!("{text:?}: {error}"))
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=VALUE"))?;
    if name.is_empty() {
        return Err(format!("{text:?} has an empty attribute name"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The data directory: the flag, else $BERTH_DATA_DIR, else ~/.local/share/berth.
pub fn data_dir(flag: Option<&PathBuf>) -> PathBuf {
    if let Some(path) = flag {
        return path.clone();
    }
    if let Some(path) = std::env::var_os("BERTH_DATA_DIR") {
        return PathBuf::from(path);
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/berth"),
        None => PathBuf::from("berth-data"),
    }
}

/// An alarm period CloudWatch accepts: 10, 20, 30 or a multiple of 60 seconds.
fn parse_alarm_period(text: &str) -> Result<u32, String> {
    let period: u32 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if matches!(period, 10 | 20 | 30) || (period >= 60 && period.is_multiple_of(60)) {
        Ok(period)
    } else {
        Err(format!("{period} is not 10, 20, 30 or a multiple of 60"))
    }
}
