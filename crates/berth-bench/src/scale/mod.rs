//! Scale: thousands of hollow instances (`berth-sim`, in this process) and RunTask from
//! concurrent clients until a hundred thousand tasks are RUNNING; then the server's memory,
//! and how soon it answers after `kill -9` and a restart on the same data directory.
//!
//! By default the benchmark starts `berth server` itself (the current executable, as a child,
//! on a fresh data directory and a free loopback port) so that it can kill and restart it;
//! given `--endpoint` it uses a running server instead, and skips the restart.

mod load;
mod report;
pub(crate) mod server;

use crate::ecs_client::EcsClient;
use crate::process;
use report::{RestartFigures, ScaleFigures};
use serde_json::json;
use server::{ManagedServer, ServerUnderTest};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ScaleOptions {
    /// The `berth` executable to start as the server.
    pub binary: PathBuf,
    /// A running server to use instead of starting one.
    pub endpoint: Option<String>,
    /// That server's pid, for its memory figures (found from its command line if not given).
    pub server_pid: Option<u32>,
    /// Where a started server keeps its state; a fresh temporary directory if not given.
    pub data_dir: Option<PathBuf>,
    pub keep_data_dir: bool,
    pub instances: usize,
    pub tasks: usize,
    pub clients: usize,
    /// Bound on the load phase (placing and waiting for RUNNING).
    pub deadline: Duration,
}

const CLUSTER: &str = "berth-bench-scale";
const FAMILY: &str = "berth-bench-scale";
/// Tasks per RunTask call (ECS's maximum).
const TASKS_PER_CALL: usize = 10;
/// Every hollow instance registers this much; each task reserves `TASK_CPU` and `TASK_MEMORY`,
/// so an instance takes 128 tasks, far above the average the benchmark places on it.
const INSTANCE_CPU: i32 = 4096;
const INSTANCE_MEMORY_MIB: i32 = 16384;
const TASK_CPU: u32 = 32;
const TASK_MEMORY_MIB: u32 = 64;

pub async fn run(options: ScaleOptions) -> anyhow::Result<()> {
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("berth-bench-scale-{}", std::process::id())));
    let outcome = run_with(&options, &data_dir).await;
    if options.endpoint.is_none() && !options.keep_data_dir {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    print!("{}", report::render(&outcome?));
    Ok(())
}

async fn run_with(options: &ScaleOptions, data_dir: &std::path::Path) -> anyhow::Result<ScaleFigures> {
    // The fleet needs a descriptor per instance; a started server inherits the raised limit.
    berth_sim::ensure_descriptors_for(options.instances)?;
    let mut server = match &options.endpoint {
        Some(endpoint) => {
            let listen = endpoint.trim_start_matches("http://").trim_end_matches('/');
            let pid = options.server_pid.or_else(|| process::find_server(listen));
            ServerUnderTest::External { endpoint: endpoint.clone(), pid }
        }
        None => {
            std::fs::create_dir_all(data_dir)?;
            eprintln!("starting {} server on {}", options.binary.display(), data_dir.display());
            ServerUnderTest::Managed(Box::new(ManagedServer::start(&options.binary, data_dir).await?))
        }
    };
    let endpoint = server.endpoint().to_string();
    let resident =
        |server: &ServerUnderTest| server.pid().and_then(process::memory).map(|memory| memory.resident_bytes);
    let ecs = EcsClient::new(&endpoint)?;
    ecs.call("CreateCluster", &json!({"clusterName": CLUSTER})).await?;
    ecs.call(
        "RegisterTaskDefinition",
        &json!({"family": FAMILY, "containerDefinitions": [
            {"name": "app", "image": "hollow", "cpu": TASK_CPU, "memory": TASK_MEMORY_MIB}
        ]}),
    )
    .await?;
    let mut figures = ScaleFigures {
        instances: options.instances,
        tasks_wanted: options.tasks,
        clients: options.clients,
        resident_before_fleet: resident(&server),
        ..Default::default()
    };

    eprintln!("registering {} hollow instances", options.instances);
    let mut fleet_config = berth_sim::FleetConfig::new(&endpoint, CLUSTER, options.instances);
    (fleet_config.cpu, fleet_config.memory_mib) = (INSTANCE_CPU, INSTANCE_MEMORY_MIB);
    fleet_config.identity_prefix = "i-bench-scale-".into();
    fleet_config.attributes =
        vec![berth_sim::parse_spread_attribute("ecs.availability-zone=us-east-1a,us-east-1b,us-east-1c")
            .map_err(anyhow::Error::msg)?];
    let started = Instant::now();
    let fleet = berth_sim::Fleet::start(fleet_config).await?;
    figures.registration = started.elapsed();
    figures.resident_after_fleet = resident(&server);

    eprintln!("placing {} tasks with {} clients", options.tasks, options.clients);
    figures.load = load::run(
        &ecs,
        load::LoadPlan {
            cluster: CLUSTER.into(),
            task_definition: FAMILY.into(),
            tasks: options.tasks,
            per_call: TASKS_PER_CALL,
            clients: options.clients,
            deadline: options.deadline,
            server_pid: server.pid(),
        },
    )
    .await?;
    figures.resident_after_load = resident(&server);
    figures.fleet_after_load = Some(fleet.snapshot());
    figures.peak_resident = server.pid().and_then(process::memory).map(|memory| memory.peak_resident_bytes);

    if let ServerUnderTest::Managed(managed) = &mut server {
        eprintln!("kill -9 and restart");
        let first_answer = managed.kill_and_restart().await?;
        figures.restart = Some(RestartFigures {
            first_answer,
            counts_after_restart: load::task_counts(&ecs, CLUSTER).await.ok(),
            resident_after_restart: resident(&server),
        });
    }
    figures.fleet = Some(fleet.snapshot());
    drop(fleet);
    Ok(figures)
}
