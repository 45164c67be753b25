//! Berth's load-balancing proxy against nginx as a reverse proxy to the same targets: one ELBv2
//! listener (served by the proxy inside `berth up --proxy-bind 127.0.0.1`) and one nginx
//! (`upstream` with `keepalive`), both in front of the same four busybox httpd containers,
//! loaded by the same `wrk` in alternating rounds. Then: how soon a newly registered target
//! gets its first request once it turns healthy, and (in a child process) the proxy's resident
//! memory with 1,000 target groups of 10 health-checked targets.
//!
//! Figures only; every wait is bounded, every address is loopback, and everything the run
//! made (containers, load balancer, listener, target group, nginx, its temporary directory)
//! is removed at the end, failed or not.

use crate::elb_client::{element, ElbClient};
use anyhow::{bail, Context};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// What the listeners forward to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Four busybox httpd containers (the setup). Busybox httpd closes every
    /// connection after one response, so neither proxy can keep its upstream connections
    /// alive: both pay a connect (and docker-proxy, and a fork in the container) per request.
    Busybox,
    /// Four nginx static servers on loopback (one worker), which keep connections alive: the
    /// figures then show the proxies' own cost rather than the targets'.
    Nginx,
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "busybox" => Ok(Self::Busybox),
            "nginx" => Ok(Self::Nginx),
            other => Err(format!("unknown backend {other:?}: busybox or nginx")),
        }
    }
}

pub struct ProxyBenchOptions {
    /// This `berth` binary, for the memory measurement's child process.
    pub binary: PathBuf,
    pub endpoint: String,
    pub image: String,
    pub duration: Duration,
    pub connections: usize,
    pub rounds: usize,
    pub backend: Backend,
    /// Skip the 10,000-target memory figure.
    pub skip_memory: bool,
}

const TARGETS: usize = 4;
const HEALTHY_DEADLINE: Duration = Duration::from_secs(90);
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);
const BENCH_LABEL: &str = "dev.berth.bench=proxy";
/// The new target of the first-request measurement answers this instead of "berth".
const FRESH_BODY: &str = "fresh";

pub async fn run(options: ProxyBenchOptions) -> anyhow::Result<()> {
    ensure_tools().await?;
    let elb = ElbClient::new(&options.endpoint)?;
    let mut created = Created::default();
    let measured = measure(&options, &elb, &mut created).await;
    created.clean_up(&elb).await;
    measured?;
    if !options.skip_memory {
        memory_figure(&options.binary).await?;
    }
    Ok(())
}

/// What the run made, to remove whatever happens.
#[derive(Default)]
struct Created {
    containers: Vec<String>,
    listener_arns: Vec<String>,
    load_balancer_arn: Option<String>,
    target_group_arn: Option<String>,
    nginx: Vec<Child>,
}

impl Created {
    async fn clean_up(&mut self, elb: &ElbClient) {
        for mut child in self.nginx.drain(..) {
            stop_nginx(&mut child).await;
        }
        for listener in self.listener_arns.drain(..) {
            if let Err(error) = elb.call("DeleteListener", &[("ListenerArn", listener)]).await {
                eprintln!("cleanup: {error:#}");
            }
        }
        if let Some(load_balancer) = self.load_balancer_arn.take() {
            if let Err(error) = elb.call("DeleteLoadBalancer", &[("LoadBalancerArn", load_balancer)]).await {
                eprintln!("cleanup: {error:#}");
            }
        }
        if let Some(group) = self.target_group_arn.take() {
            if let Err(error) = elb.call("DeleteTargetGroup", &[("TargetGroupArn", group)]).await {
                eprintln!("cleanup: {error:#}");
            }
        }
        if !self.containers.is_empty() {
            let removed =
                Command::new("docker").args(["rm", "-f"]).args(&self.containers).stdout(Stdio::null()).status().await;
            if !removed.is_ok_and(|status| status.success()) {
                eprintln!("cleanup: docker rm -f {} failed", self.containers.join(" "));
            }
            self.containers.clear();
        }
    }
}

async fn measure(options: &ProxyBenchOptions, elb: &ElbClient, created: &mut Created) -> anyhow::Result<()> {
    let name = format!("bench-proxy-{}", std::process::id());
    let directory = tempfile::Builder::new().prefix("berth-bench-proxy-").tempdir()?;
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());

    let target_ports = match options.backend {
        Backend::Busybox => {
            let mut ports = Vec::with_capacity(TARGETS);
            for _ in 0..TARGETS {
                ports.push(
                    start_container(&options.image, &["httpd", "-f", "-p", "8080", "-h", "/www"], created).await?,
                );
            }
            ports
        }
        Backend::Nginx => {
            let ports = free_ports(TARGETS)?;
            let config = backend_config(directory.path(), &ports)?;
            created.nginx.push(start_nginx(&config, directory.path(), "backend")?);
            for port in &ports {
                wait_answer(&http_client()?, *port, "berth").await?;
            }
            ports
        }
    };

    // The Berth side: target group, load balancer, listener, the four targets.
    let group = element(
        &elb.call(
            "CreateTargetGroup",
            &[
                ("Name", name.clone()),
                ("Protocol", "HTTP".into()),
                ("Port", "8080".into()),
                ("TargetType", "ip".into()),
                ("HealthCheckPath", "/".into()),
                ("HealthCheckIntervalSeconds", "5".into()),
                ("HealthCheckTimeoutSeconds", "2".into()),
                ("HealthyThresholdCount", "2".into()),
                ("UnhealthyThresholdCount", "2".into()),
            ],
        )
        .await?,
        "TargetGroupArn",
    )
    .context("CreateTargetGroup: no TargetGroupArn")?
    .to_owned();
    created.target_group_arn = Some(group.clone());
    let load_balancer = element(
        &elb.call("CreateLoadBalancer", &[("Name", name.clone()), ("Subnets.member.1", "subnet-a".into())]).await?,
        "LoadBalancerArn",
    )
    .context("CreateLoadBalancer: no LoadBalancerArn")?
    .to_owned();
    created.load_balancer_arn = Some(load_balancer.clone());
    let berth_port = free_ports(1)?[0];
    let listener = element(
        &elb.call(
            "CreateListener",
            &[
                ("LoadBalancerArn", load_balancer),
                ("Protocol", "HTTP".into()),
                ("Port", berth_port.to_string()),
                ("DefaultActions.member.1.Type", "forward".into()),
                ("DefaultActions.member.1.TargetGroupArn", group.clone()),
            ],
        )
        .await?,
        "ListenerArn",
    )
    .context("CreateListener: no ListenerArn")?
    .to_owned();
    created.listener_arns.push(listener);
    register(elb, &group, &target_ports).await?;
    let started = Instant::now();
    for port in &target_ports {
        wait_healthy(elb, &group, *port, started).await?;
    }
    let client = http_client()?;
    wait_answer(&client, berth_port, "berth").await?;

    // The nginx side, in front of the same targets.
    let nginx_port = free_ports(1)?[0];
    let config = proxy_config(directory.path(), nginx_port, &target_ports, cores)?;
    created.nginx.push(start_nginx(&config, directory.path(), "proxy")?);
    wait_answer(&client, nginx_port, "berth").await?;

    println!(
        "proxy benchmark: wrk -t2 -c{} -d{}s, {} rounds each side, alternating; {TARGETS} {} targets; \
         {cores} cores (Berth's proxy: one thread per core; nginx: worker_processes {cores})",
        options.connections,
        options.duration.as_secs(),
        options.rounds,
        match options.backend {
            Backend::Busybox => "busybox httpd (no upstream keep-alive possible)",
            Backend::Nginx => "nginx static (keep-alive)",
        },
    );
    // Warm both up (upstream pools, page cache) before anything counts.
    for port in [berth_port, nginx_port] {
        wrk(port, options.connections, Duration::from_secs(1)).await?;
    }
    let berth_pid = options
        .endpoint
        .strip_prefix("http://")
        .map(|listen| listen.trim_end_matches('/'))
        .and_then(crate::process::find_server);
    let nginx_pid = created.nginx.last().and_then(Child::id);
    let berth_cpu = move || berth_pid.and_then(|pid| crate::process::threads_cpu_time(pid, "berth-proxy"));
    let nginx_cpu = move || {
        nginx_pid.map(|pid| {
            crate::process::children(pid)
                .into_iter()
                .chain([pid])
                .filter_map(crate::process::cpu_time)
                .sum::<Duration>()
        })
    };
    let mut berth_rounds = Vec::new();
    let mut nginx_rounds = Vec::new();
    for round in 1..=options.rounds.max(1) {
        for (side, port, results, cpu) in [
            ("berth", berth_port, &mut berth_rounds, &berth_cpu as &dyn Fn() -> Option<Duration>),
            ("nginx", nginx_port, &mut nginx_rounds, &nginx_cpu),
        ] {
            let before = cpu();
            let mut result = wrk(port, options.connections, options.duration).await?;
            if let (Some(before), Some(after)) = (before, cpu()) {
                result.cpu_per_request = Some(after.saturating_sub(before).div_f64(result.requests.max(1) as f64));
            }
            println!("  round {round} {side:5}  {}", result.line());
            results.push(result);
        }
    }
    let berth = WrkResult::median(&berth_rounds);
    let nginx = WrkResult::median(&nginx_rounds);
    println!();
    println!(
        "  {:<22} {:>12} {:>10} {:>10} {:>8} {:>14}",
        "median of rounds", "requests/s", "p50 ms", "p99 ms", "errors", "CPU us/request"
    );
    for (side, result) in [("berth (ELBv2 listener)", &berth), ("nginx (reverse proxy)", &nginx)] {
        println!(
            "  {side:<22} {:>12.0} {:>10.2} {:>10.2} {:>8} {:>14}",
            result.requests_per_second,
            millis(result.p50),
            millis(result.p99),
            result.errors,
            result.cpu_per_request.map_or("-".to_owned(), |cpu| format!("{:.1}", cpu.as_secs_f64() * 1e6)),
        );
    }
    println!(
        "  berth / nginx: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x",
        berth.requests_per_second / nginx.requests_per_second,
        berth.p50.as_secs_f64() / nginx.p50.as_secs_f64(),
        berth.p99.as_secs_f64() / nginx.p99.as_secs_f64(),
    );
    println!();

    first_request(options, elb, &group, berth_port, created).await
}

/// A fifth target, answering "fresh", joins the group of four healthy ones: how long after
/// DescribeTargetHealth first says it is healthy does a request through the listener reach it?
/// (It is registered beside healthy targets because a group of one unhealthy target fails open
/// and would be sent requests before it is healthy.)
async fn first_request(
    options: &ProxyBenchOptions,
    elb: &ElbClient,
    group: &str,
    berth_port: u16,
    created: &mut Created,
) -> anyhow::Result<()> {
    let script = format!("mkdir -p /fresh && echo {FRESH_BODY} > /fresh/index.html && exec httpd -f -p 8080 -h /fresh");
    let port = start_container(&options.image, &["sh", "-c", &script], created).await?;
    let client = http_client()?;
    let url = format!("http://127.0.0.1:{berth_port}/");
    let registered = Instant::now();
    register(elb, group, &[port]).await?;
    let mut healthy_at: Option<Duration> = None;
    let mut answered_at: Option<Duration> = None;
    let mut last_health_call = None::<Instant>;
    let mut requests = 0u64;
    while healthy_at.is_none() || answered_at.is_none() {
        if registered.elapsed() > HEALTHY_DEADLINE {
            bail!("the new target 127.0.0.1:{port}: healthy after {healthy_at:?}, first answer after {answered_at:?}; gave up after {HEALTHY_DEADLINE:?}");
        }
        if healthy_at.is_none() && last_health_call.is_none_or(|last| last.elapsed() >= Duration::from_millis(20)) {
            last_health_call = Some(Instant::now());
            if target_state(elb, group, port).await? == "healthy" {
                healthy_at = Some(registered.elapsed());
            }
        }
        if answered_at.is_none() {
            requests += 1;
            let response = client.get(&url).send().await;
            if let Ok(response) = response {
                if response.text().await.is_ok_and(|body| body.trim() == FRESH_BODY) {
                    answered_at = Some(registered.elapsed());
                }
            }
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let (healthy_at, answered_at) = (healthy_at.unwrap_or_default(), answered_at.unwrap_or_default());
    let delay = answered_at.as_secs_f64() - healthy_at.as_secs_f64();
    println!("first request to a new target ({requests} GETs through the listener while waiting):");
    println!(
        "  DescribeTargetHealth says healthy   {:8.0} ms after RegisterTargets (polled every 20 ms)",
        millis(healthy_at)
    );
    println!("  first answer from the new target    {:8.0} ms after RegisterTargets", millis(answered_at));
    if delay <= 0.0 {
        println!(
            "  first request after healthy: 0 ms (the proxy routed to it {:.0} ms before the API reported it healthy: \
             its own check decides, the report follows)",
            -delay * 1000.0
        );
    } else {
        println!("  first request after healthy: {:.0} ms", delay * 1000.0);
    }
    println!();
    Ok(())
}

/// Runs `berth bench proxy-memory` as a child and prints what it measured.
async fn memory_figure(binary: &Path) -> anyhow::Result<()> {
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        Command::new(binary).args(["bench", "proxy-memory"]).stderr(Stdio::inherit()).kill_on_drop(true).output(),
    )
    .await
    .context("the memory measurement did not finish within 180 s")??;
    if !output.status.success() {
        bail!("berth bench proxy-memory failed: {}", output.status);
    }
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}

async fn register(elb: &ElbClient, group: &str, ports: &[u16]) -> anyhow::Result<()> {
    let mut parameters = vec![("TargetGroupArn", group.to_owned())];
    let keys: Vec<(String, String)> = (1..=ports.len())
        .map(|index| (format!("Targets.member.{index}.Id"), format!("Targets.member.{index}.Port")))
        .collect();
    for ((id_key, port_key), port) in keys.iter().zip(ports) {
        parameters.push((id_key.as_str(), "127.0.0.1".to_owned()));
        parameters.push((port_key.as_str(), port.to_string()));
    }
    elb.call("RegisterTargets", &parameters).await?;
    Ok(())
}

async fn target_state(elb: &ElbClient, group: &str, port: u16) -> anyhow::Result<String> {
    let answer = elb
        .call(
            "DescribeTargetHealth",
            &[
                ("TargetGroupArn", group.to_owned()),
                ("Targets.member.1.Id", "127.0.0.1".to_owned()),
                ("Targets.member.1.Port", port.to_string()),
            ],
        )
        .await?;
    Ok(element(&answer, "TargetHealth").and_then(|health| element(health, "State")).unwrap_or("").to_owned())
}

async fn wait_healthy(elb: &ElbClient, group: &str, port: u16, started: Instant) -> anyhow::Result<()> {
    loop {
        let state = target_state(elb, group, port).await?;
        if state == "healthy" {
            return Ok(());
        }
        if started.elapsed() > HEALTHY_DEADLINE {
            bail!("target 127.0.0.1:{port} still {state:?} after {HEALTHY_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().no_proxy().tcp_nodelay(true).timeout(Duration::from_secs(5)).build()?)
}

/// Waits until `GET /` on the loopback port answers 200 with `body`.
async fn wait_answer(client: &reqwest::Client, port: u16, body: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/");
    loop {
        let last = match client.get(&url).send().await {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.is_success() && text.trim() == body {
                    return Ok(());
                }
                format!("{status} {text:?}")
            }
            Err(error) => error.to_string(),
        };
        if started.elapsed() > ANSWER_DEADLINE {
            bail!("{url} did not answer {body:?} within {ANSWER_DEADLINE:?}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ports free on loopback now (the kernel's choice; a race with other programs is possible but
/// shows up as a failed bind, never as traffic elsewhere).
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..count).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>()?;
    listeners.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

/// `docker run -d` of the image with port 8080 published on a loopback port; returns that port.
async fn start_container(image: &str, command: &[&str], created: &mut Created) -> anyhow::Result<u16> {
    let output = Command::new("docker")
        .args(["run", "-d", "--label", BENCH_LABEL, "-p", "127.0.0.1::8080", image])
        .args(command)
        .output()
        .await
        .context("running docker")?;
    if !output.status.success() {
        bail!("docker run {image} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    created.containers.push(id.clone());
    let output = Command::new("docker").args(["port", &id, "8080/tcp"]).output().await?;
    let mapping = String::from_utf8_lossy(&output.stdout);
    let port = mapping
        .lines()
        .find_map(|line| line.strip_prefix("127.0.0.1:"))
        .and_then(|port| port.trim().parse().ok())
        .with_context(|| format!("docker port {id}: no loopback mapping in {mapping:?}"))?;
    Ok(port)
}

/// nginx as a reverse proxy, configured as Berth's listener behaves: keep-alive to clients and
/// targets, the client's Host and ALB's X-Forwarded-* headers passed on, no access log (Berth's
/// ALB access logs are off by default).
fn proxy_config(directory: &Path, port: u16, targets: &[u16], workers: usize) -> anyhow::Result<PathBuf> {
    let servers: String = targets.iter().map(|target| format!("        server 127.0.0.1:{target};\n")).collect();
    let body = format!(
        "worker_processes {workers};
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    upstream targets {{
{servers}        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{
            proxy_pass http://targets;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Port $server_port;
        }}
    }}
}}
"
    );
    write_config(directory, "proxy", &body)
}

/// The keep-alive backend: nginx serving "berth" on each port with one worker.
fn backend_config(directory: &Path, ports: &[u16]) -> anyhow::Result<PathBuf> {
    let root = directory.join("www");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("index.html"), "berth\n")?;
    let listens: String = ports.iter().map(|port| format!("        listen 127.0.0.1:{port};\n")).collect();
    let body = format!(
        "worker_processes 1;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
{listens}        root {};
    }}
}}
",
        root.display()
    );
    write_config(directory, "backend", &body)
}

/// Writes `NAME.conf` with pid file and temporary paths inside `directory`.
fn write_config(directory: &Path, name: &str, body: &str) -> anyhow::Result<PathBuf> {
    let temp = directory.join(format!("{name}-temp"));
    std::fs::create_dir_all(&temp)?;
    let header = format!("pid {dir}/{name}.pid;\nerror_log {dir}/{name}-error.log warn;\n", dir = directory.display());
    // Temporary paths go in the http block (client bodies and proxied responses).
    let temp_paths = format!(
        "http {{\n    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n",
        temp = temp.display()
    );
    let body = body.replacen("http {\n", &temp_paths, 1);
    let path = directory.join(format!("{name}.conf"));
    std::fs::write(&path, format!("{header}{body}"))?;
    Ok(path)
}

fn start_nginx(config: &Path, directory: &Path, name: &str) -> anyhow::Result<Child> {
    let error_log = directory.join(format!("{name}-error.log"));
    Command::new(find_program("nginx").unwrap_or_else(|| PathBuf::from("nginx")))
        .arg("-p")
        .arg(directory)
        .arg("-e")
        .arg(&error_log)
        .arg("-c")
        .arg(config)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting nginx")
}

/// SIGQUIT lets nginx's master stop its workers (a SIGKILL would leave them running); SIGKILL
/// only if it has not gone within 5 s.
async fn stop_nginx(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill").args(["-QUIT", &pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(5), child.wait()).await.is_ok() {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

/// `nginx` and `wrk`, installed from Debian's packages when missing.
async fn ensure_tools() -> anyhow::Result<()> {
    if find_program("nginx").is_some() && find_program("wrk").is_some() {
        return Ok(());
    }
    println!("installing nginx-light and wrk (apt-get install -y nginx-light wrk)");
    let status = Command::new("apt-get")
        .args(["install", "-y", "nginx-light", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .await
        .context("running apt-get")?;
    if !status.success() || find_program("nginx").is_none() || find_program("wrk").is_none() {
        bail!("nginx and wrk are needed: apt-get install -y nginx-light wrk failed ({status})");
    }
    Ok(())
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct WrkResult {
    requests_per_second: f64,
    p50: Duration,
    p99: Duration,
    requests: u64,
    /// Non-2xx/3xx answers plus socket errors.
    errors: u64,
    /// CPU time (user + system) the proxy's threads or nginx's processes spent per request
    /// (at 10 ms resolution over the round).
    cpu_per_request: Option<Duration>,
}

impl WrkResult {
    fn line(&self) -> String {
        format!(
            "{:>9.0} req/s  p50 {:7.2} ms  p99 {:7.2} ms  {} requests, {} errors, CPU {} us/request",
            self.requests_per_second,
            millis(self.p50),
            millis(self.p99),
            self.requests,
            self.errors,
            self.cpu_per_request.map_or("-".to_owned(), |cpu| format!("{:.1}", cpu.as_secs_f64() * 1e6)),
        )
    }

    /// Each figure's median over the rounds (the upper median for an even count).
    fn median(rounds: &[WrkResult]) -> WrkResult {
        fn middle<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            values[values.len() / 2]
        }
        WrkResult {
            requests_per_second: middle(rounds.iter().map(|round| round.requests_per_second).collect()),
            p50: middle(rounds.iter().map(|round| round.p50).collect()),
            p99: middle(rounds.iter().map(|round| round.p99).collect()),
            requests: middle(rounds.iter().map(|round| round.requests).collect()),
            errors: rounds.iter().map(|round| round.errors).sum(),
            cpu_per_request: rounds.iter().map(|round| round.cpu_per_request).collect::<Option<Vec<_>>>().map(middle),
        }
    }
}

async fn wrk(port: u16, connections: usize, duration: Duration) -> anyhow::Result<WrkResult> {
    let seconds = duration.as_secs().max(1);
    let run = Command::new(find_program("wrk").unwrap_or_else(|| PathBuf::from("wrk")))
        .args([
            "-t2".to_owned(),
            format!("-c{connections}"),
            format!("-d{seconds}s"),
            "--latency".to_owned(),
            format!("http://127.0.0.1:{port}/"),
        ])
        .kill_on_drop(true)
        .output();
    let output =
        tokio::time::timeout(Duration::from_secs(seconds + 30), run).await.context("wrk did not finish in time")??;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed ({}): {text}{}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&text).with_context(|| format!("unreadable wrk output:\n{text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<WrkResult> {
    let mut requests_per_second = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = 0;
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("Requests/sec:") => requests_per_second = words.next().and_then(|value| value.parse().ok()),
            Some("50%") => p50 = words.next().and_then(parse_latency),
            Some("99%") => p99 = words.next().and_then(parse_latency),
            Some("Non-2xx") => {
                errors += line.rsplit(' ').next().and_then(|count| count.parse::<u64>().ok()).unwrap_or(0)
            }
            Some("Socket") => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                errors += line.split([',', ' ']).filter_map(|word| word.parse::<u64>().ok()).sum::<u64>();
            }
            Some(count) if line.contains(" requests in ") => requests = count.parse().unwrap_or(0),
            _ => {}
        }
    }
    match (requests_per_second, p50, p99) {
        (Some(requests_per_second), Some(p50), Some(p99)) => {
            Ok(WrkResult { requests_per_second, p50, p99, requests, errors, cpu_per_request: None })
        }
        _ => bail!("no Requests/sec, 50% or 99% line"),
    }
}

/// wrk's latency figures: `812.00us`, `1.23ms`, `1.01s`, `2.00m`.
fn parse_latency(value: &str) -> Option<Duration> {
    let (number, scale) = if let Some(number) = value.strip_suffix("us") {
        (number, 1e-6)
    } else if let Some(number) = value.strip_suffix("ms") {
        (number, 1e-3)
    } else if let Some(number) = value.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = value.strip_suffix('m') {
        (number, 60.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|number| Duration::from_secs_f64(number * scale))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "Running 3s test @ http://127.0.0.1:32768/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   232.01ms  350.78ms   1.48s    80.88%
    Req/Sec   673.97    321.36     1.66k    66.67%
  Latency Distribution
     50%  812.00us
     75%  417.21ms
     90%  843.56ms
     99%    1.23s 
  4088 requests in 3.05s, 850.34KB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 3
Requests/sec:   1340.11
Transfer/sec:    278.75KB
";

    #[test]
    fn reads_wrk() {
        let result = parse_wrk(OUTPUT).unwrap();
        assert_eq!(result.requests_per_second, 1340.11);
        assert_eq!(result.p50, Duration::from_micros(812));
        assert_eq!(result.p99, Duration::from_millis(1230));
        assert_eq!(result.requests, 4088);
        assert_eq!(result.errors, 17);
        assert!(parse_wrk("nothing").is_err());
    }

    #[test]
    fn nginx_config_keeps_its_files_in_the_directory() {
        let directory = tempfile::tempdir().unwrap();
        let path = proxy_config(directory.path(), 8000, &[9001, 9002], 2).unwrap();
        let config = std::fs::read_to_string(path).unwrap();
        assert!(config.contains("server 127.0.0.1:9002;"));
        assert!(config.contains("keepalive 64;"));
        assert!(config.contains(&format!("pid {}/proxy.pid;", directory.path().display())));
        assert!(config.contains("proxy_temp_path"));
        assert!(config.contains("access_log off;"));
    }
}
