//! Starting the pieces: the control plane and its HTTP endpoint, the background reconcilers,
//! and agents.

use crate::cli::{self, AgentArgs, BenchCommand, Command, DockerBenchTarget, ServerArgs, SimArgs, UpArgs};
use anyhow::Context;
use berth_agent::AgentConfig;
use berth_control::{ControlConfig, ControlPlane, DataStores};
use berth_store::EmbeddedStore;
use berth_types::{ArnContext, ClusterName};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How often the retention reconciler runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(60);
/// The longest the service reconciler sleeps without a change to wake it.
const SERVICE_TICK: Duration = Duration::from_secs(1);
/// How often drained targets are let go (deregistration delays are whole seconds).
const DRAIN_INTERVAL: Duration = Duration::from_secs(1);
/// How often events past their group's retention are removed.
const LOG_RETENTION_INTERVAL: Duration = Duration::from_secs(60);
/// How often metric datapoints are rolled up and expired (CloudWatch keeps them by age).
const METRIC_SWEEP_INTERVAL: Duration = Duration::from_secs(600);
/// How often every alarm is evaluated: more often than its period, so a state follows its
/// datapoints within seconds (an alarm's period may be as short as 10 s).
const ALARM_INTERVAL: Duration = Duration::from_secs(5);
/// Scheduled actions are due to the second (`at(...)`); checking every second keeps them close.
const SCHEDULED_ACTION_INTERVAL: Duration = Duration::from_secs(1);
/// How often silent agents are noticed (on top of `--agent-timeout`).
const LIVENESS_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => up(args).await,
        Command::Server(args) => {
            let server = start_server(&args).await?;
            tracing::info!(endpoint = %server.endpoint, "berth server is listening");
            println!("Berth server listening on {}", server.endpoint);
            shutdown_signal().await;
            Ok(())
        }
        Command::Agent(args) => agent(args).await,
        Command::Bench(bench) => run_bench(bench).await,
        Command::Sim(args) => sim(args).await,
        Command::Exec(args) => exec(args).await,
        Command::Logs(args) => crate::logs_cli::run(args).await,
        Command::ExecSessions(cli::ExecSessionsCommand::List { server }) => {
            print!("{}", berth_exec::client::list_sessions(&server).await?);
            Ok(())
        }
        Command::Proxy(args) => {
            let data_dir = args.data_dir.unwrap_or_else(|| cli::data_dir(None).join("proxy"));
            let id = args.id.unwrap_or_else(default_proxy_id);
            println!("Berth proxy {id} following {}", args.server);
            let following = start_proxy(args.server, id, data_dir)?;
            tokio::select! {
                () = following => {}
                () = shutdown_signal() => {}
            }
            Ok(())
        }
    }
}

/// Starts the load-balancing proxy and returns the loop that keeps it following the server's
/// document (the loop never ends by itself).
fn start_proxy(
    server: String,
    id: String,
    data_dir: std::path::PathBuf,
) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut options = berth_proxy::ProxyOptions::new(id);
    options.data_dir = Some(data_dir.clone());
    let proxy = berth_proxy::Proxy::start(options);
    let cache = berth_proxy::DocumentCache::new(data_dir.join("document.json"));
    Ok(berth_proxy::poll_loop(server, proxy, Some(cache)))
}

/// This host's name, so that health reports say which proxy saw what.
fn default_proxy_id() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "berth-proxy".to_owned())
}

struct RunningServer {
    endpoint: String,
    control: Arc<ControlPlane>,
}

async fn start_server(args: &ServerArgs) -> anyhow::Result<RunningServer> {
    let data_dir = cli::data_dir(args.data_dir.as_ref()).join("server");
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let store = EmbeddedStore::open(&data_dir.join("berth.redb"))?;
    let config = ControlConfig {
        arn_context: ArnContext { region: args.region.clone(), account: args.account.clone() },
        agent_timeout: args.agent_timeout,
        stopped_task_retention: args.stopped_task_retention,
        instance_lost_after: args.instance_lost_after,
        planner: berth_planner::PlannerSettings {
            healthy_after_running: args.service_settle_time,
            throttle_initial_delay: args.service_throttle_delay,
            ..berth_planner::PlannerSettings::default()
        },
        proxy_bind_ip: args.proxy_bind,
        deployment_minute: args.deployment_minute,
        log_day: args.log_day,
        autoscaling_alarm_period_seconds: args.autoscaling_alarm_period,
    };
    let log_store = berth_log_store::LogStore::open(&data_dir.join("logs.redb"))?;
    let metric_store = berth_metric_store::MetricStore::open(&data_dir.join("metrics.redb"))?;
    let stores = DataStores { log_store, metric_store };
    let control = ControlPlane::open_with_stores(config, Arc::new(store), stores)?;
    for file in ["berth.redb", "logs.redb", "metrics.redb"] {
        control.metrics().watch_store_file(file, data_dir.join(file));
    }
    control.end_interrupted_exec_sessions().await?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let router = berth_api::router(Arc::clone(&control));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the HTTP server stopped");
        }
    });
    tokio::spawn(berth_control::retention::run_retention(Arc::clone(&control), RETENTION_INTERVAL));
    tokio::spawn(berth_control::service_reconciler::run_service_reconciler(Arc::clone(&control), SERVICE_TICK));
    tokio::spawn(berth_control::liveness::run_liveness(Arc::clone(&control), LIVENESS_INTERVAL));
    tokio::spawn(berth_control::elb::draining::run_draining(Arc::clone(&control), DRAIN_INTERVAL));
    // A shortened day (tests) is checked often enough to expire events within a few seconds.
    let log_retention_interval = (args.log_day / 20).clamp(Duration::from_millis(200), LOG_RETENTION_INTERVAL);
    tokio::spawn(berth_control::logs::retention::run_log_retention(Arc::clone(&control), log_retention_interval));
    tokio::spawn(berth_control::cloudwatch::run_metric_sweep(Arc::clone(&control), METRIC_SWEEP_INTERVAL));
    tokio::spawn(berth_control::cloudwatch::alarms::run_alarm_evaluation(Arc::clone(&control), ALARM_INTERVAL));
    tokio::spawn(berth_control::autoscaling::run_scheduled_actions(Arc::clone(&control), SCHEDULED_ACTION_INTERVAL));
    // Schedules run their tasks through the edge's own RunTask operation.
    let scheduled_run_task = berth_api::scheduler::launcher::scheduled_run_task(Arc::clone(&control));
    tokio::spawn(berth_control::schedules::firing::run_schedule_firing(Arc::clone(&control), scheduled_run_task));
    if !args.no_proxy {
        let proxy_dir = cli::data_dir(args.data_dir.as_ref()).join("proxy");
        tokio::spawn(start_proxy(endpoint.clone(), default_proxy_id(), proxy_dir)?);
    }
    Ok(RunningServer { endpoint, control })
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let server = start_server(&args.server).await?;
    let cluster = ClusterName::parse(&args.cluster).map_err(|error| anyhow::anyhow!("--cluster: {error}"))?;
    server.control.create_cluster(cluster, vec![], Default::default()).await?;
    println!("Berth is up: the ECS endpoint is {}", server.endpoint);
    println!("Try:");
    println!("  aws --endpoint-url {} ecs list-container-instances --cluster {}", server.endpoint, args.cluster);
    println!("  (or export AWS_ENDPOINT_URL_ECS={} and drop --endpoint-url)", server.endpoint);
    let mut agent_config = AgentConfig::new(
        server.endpoint.clone(),
        args.cluster.clone(),
        cli::data_dir(args.server.data_dir.as_ref()).join("agent"),
    );
    agent_config.attributes = args.attributes;
    agent_config.task_cleanup_wait = args.task_cleanup_wait;
    agent_config.extra_reserved_ports = vec![args.server.listen.port()];
    agent_config.metrics_listen = args.agent_metrics_listen.0;
    agent_config.usage_sample_interval = Some(args.usage_sample_interval);
    let runtime =
        Arc::new(berth_runtime_docker::DockerRuntime::connect().await.context("connecting to the Docker Engine")?);
    berth_agent::run_agent(agent_config, runtime, shutdown_signal()).await?;
    Ok(())
}

async fn agent(args: AgentArgs) -> anyhow::Result<()> {
    let data_dir = match &args.data_dir {
        Some(path) => path.clone(),
        None => cli::data_dir(None).join("agent"),
    };
    let mut config = AgentConfig::new(args.server.trim_end_matches('/').to_string(), args.cluster, data_dir);
    config.attributes = args.attributes;
    config.task_cleanup_wait = args.task_cleanup_wait;
    config.reserved_memory_mib = args.reserved_memory;
    config.availability_zone = args.availability_zone;
    config.instance_type = args.instance_type;
    config.capacity_provider = args.capacity_provider;
    config.metrics_listen = args.metrics_listen.0;
    config.usage_sample_interval = Some(args.usage_sample_interval);
    if let Some(port) = url_port(&args.server) {
        config.extra_reserved_ports = vec![port];
    }
    let runtime =
        Arc::new(berth_runtime_docker::DockerRuntime::connect().await.context("connecting to the Docker Engine")?);
    println!("Berth agent joining cluster {} at {}", config.cluster, config.server_url);
    berth_agent::run_agent(config, runtime, shutdown_signal()).await?;
    Ok(())
}

/// The port of `http://host:port[/...]`, reserved on the agent's host when the server shares it.
fn url_port(url: &str) -> Option<u16> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

/// `berth exec`: the process exits with the command's exit code (255 when the session failed).
async fn exec(args: cli::ExecArgs) -> anyhow::Result<()> {
    let options = berth_exec::client::ExecOptions {
        server: args.server,
        cluster: args.cluster,
        task: args.task,
        container: args.container,
        interactive: args.interactive || args.tty,
        command: args.command,
    };
    let code = match berth_exec::client::run(options).await {
        Ok(code) => i32::try_from(code).unwrap_or(255),
        Err(error) => {
            eprintln!("{error}");
            255
        }
    };
    std::process::exit(code)
}

async fn run_bench(bench: BenchCommand) -> anyhow::Result<()> {
    match bench {
        BenchCommand::Launch { target: DockerBenchTarget { endpoint, cluster, image }, samples } => {
            berth_bench::launch::run(berth_bench::launch::LaunchOptions { endpoint, cluster, image, samples }).await
        }
        BenchCommand::Api { endpoint, clients, phase } => {
            berth_bench::api::run(berth_bench::api::ApiOptions { endpoint, clients, phase }).await
        }
        BenchCommand::Service { target: DockerBenchTarget { endpoint, cluster, image }, tasks } => {
            berth_bench::service::run(berth_bench::service::ServiceOptions { endpoint, cluster, image, tasks }).await
        }
        BenchCommand::Logs {
            target: DockerBenchTarget { endpoint, cluster, image },
            lines,
            stored_events,
            samples,
            sustain_seconds,
            sustain_block,
        } => {
            let options = berth_bench::logs::LogsOptions {
                endpoint,
                cluster,
                image,
                lines,
                stored_events,
                samples,
                sustain_seconds,
                sustain_block,
            };
            berth_bench::logs::run(options).await
        }
        BenchCommand::Metrics { endpoint, series, rounds, clients, samples } => {
            let options = berth_bench::metrics::MetricsOptions { endpoint, series, rounds, clients, samples };
            berth_bench::metrics::run(options).await
        }
        BenchCommand::Exec { target: DockerBenchTarget { endpoint, cluster, image }, samples } => {
            let binary = std::env::current_exe()?;
            let options = berth_bench::exec::ExecBenchOptions { binary, endpoint, cluster, image, samples };
            berth_bench::exec::run(options).await
        }
        BenchCommand::Proxy { endpoint, image, duration, connections, rounds, backend, skip_memory } => {
            let binary = std::env::current_exe()?;
            berth_bench::proxy::run(berth_bench::proxy::ProxyBenchOptions {
                binary,
                endpoint,
                image,
                duration,
                connections,
                rounds,
                backend,
                skip_memory,
            })
            .await
        }
        BenchCommand::ProxyMemory => berth_bench::proxy_memory::run().await,
        BenchCommand::Startup { runs } => {
            let binary = std::env::current_exe()?;
            berth_bench::startup::run(berth_bench::startup::StartupOptions { binary, runs }).await
        }
        BenchCommand::Schedules { schedules, minutes, instances } => {
            let binary = std::env::current_exe()?;
            berth_bench::schedules::run(berth_bench::schedules::SchedulesOptions {
                binary,
                schedules,
                minutes,
                instances,
            })
            .await
        }
        BenchCommand::Scale { endpoint, server_pid, data_dir, keep_data_dir, instances, tasks, clients, deadline } => {
            let binary = std::env::current_exe()?;
            berth_bench::scale::run(berth_bench::scale::ScaleOptions {
                binary,
                endpoint,
                server_pid,
                data_dir,
                keep_data_dir,
                instances,
                tasks,
                clients,
                deadline,
            })
            .await
        }
    }
}

async fn sim(args: SimArgs) -> anyhow::Result<()> {
    let mut config = berth_sim::FleetConfig::new(&args.server, &args.cluster, args.instances);
    config.cpu = args.cpu;
    config.memory_mib = args.memory;
    config.attributes = args.attributes;
    config.capacity_provider = args.capacity_provider;
    config.identity_prefix = args.identity_prefix;
    berth_sim::run_until(config, args.report_every, shutdown_signal()).await?;
    Ok(())
}
