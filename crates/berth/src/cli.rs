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
    #[command(subcommand)]
    pub command: Command,
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
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// RunTask -> RUNNING against Docker's own create+start of the same image.
    Launch {
        #[arg(long, default_value = "http://127.0.0.1:23784")]
        endpoint: String,
        #[arg(long, default_value = "default")]
        cluster: String,
        #[arg(long, default_value = "berth-test/busybox:latest")]
        image: String,
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
    /// Time from starting `berth up` on an empty data directory to its first answer.
    Startup {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
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
