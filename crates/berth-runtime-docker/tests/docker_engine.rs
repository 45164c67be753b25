//! Against the real Docker daemon: the runtime's calls, its event stream, and a task run by the
//! agent's runner end to end. Fails (never skips) when Docker is unreachable. Every container
//! carries a per-run instance label and is removed when the test ends.

use berth_agent::container_config::{container_name, Ownership};
use berth_agent::reporter::Reporter;
use berth_agent::runtime::{
    ContainerLogLine, ContainerRunState, ContainerRuntime, CreateContainerRequest, OutputStream, PortBindingRequest,
    RuntimeError, RuntimeEventKind,
};
use berth_agent::task::runner::{RunnerContext, RunnerSignal, TaskRunner};
use berth_agent::task::state::{TaskState, OUT_OF_MEMORY_REASON};
use berth_agent_protocol::{labels, TaskReport};
use berth_runtime_docker::DockerRuntime;
use berth_types::spec::{
    ContainerSpec, DependencyCondition, DependencySpec, LogConfigurationSpec, NetworkMode, PortMappingSpec, TaskSpec,
};
use berth_types::{DesiredStatus, PortProtocol, TaskStatus, TaskStopCode};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

const IMAGE: &str = "berth-test/busybox:latest";

/// Removes every container of the test's instance label, whatever the test's outcome.
struct Cleanup {
    instance: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let filter = format!("label={}={}", labels::CONTAINER_INSTANCE, self.instance);
        let listed = std::process::Command::new("docker").args(["ps", "-aq", "--filter", &filter]).output();
        if let Ok(output) = listed {
            let ids: Vec<String> =
                String::from_utf8_lossy(&output.stdout).split_whitespace().map(String::from).collect();
            if !ids.is_empty() {
                let _ = std::process::Command::new("docker").args(["rm", "-fv"]).args(&ids).output();
            }
        }
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &format!("berth-{}-scratch", self.instance)])
            .output();
    }
}

async fn setup() -> (Arc<DockerRuntime>, String, Cleanup) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/images/build.sh");
    let status = std::process::Command::new("bash").arg(script).status().expect("cannot run tests/images/build.sh");
    assert!(status.success(), "building the test image failed");
    let runtime = DockerRuntime::connect().await.expect("the Docker daemon must be reachable for these tests");
    let instance = berth_agent::identity::generate_instance_id();
    (Arc::new(runtime), instance.clone(), Cleanup { instance })
}

fn request(instance: &str, name: &str, command: &[&str]) -> CreateContainerRequest {
    CreateContainerRequest {
        name: format!("berth-test-{instance}-{name}"),
        image: IMAGE.into(),
        labels: BTreeMap::from([(labels::CONTAINER_INSTANCE.to_string(), instance.to_string())]),
        cpu_shares: 2,
        memory_limit_bytes: Some(64 << 20),
        memory_reservation_bytes: None,
        environment: vec![("GREETING".into(), "hello".into())],
        entry_point: None,
        command: Some(command.iter().map(|part| part.to_string()).collect()),
        user: None,
        working_directory: None,
        ulimits: vec![],
        readonly_root_filesystem: false,
        init: false,
        log_configuration: LogConfigurationSpec { driver: "json-file".into(), options: BTreeMap::new() },
        health_check: None,
        mounts: vec![],
        network_mode: NetworkMode::Bridge,
        port_bindings: vec![],
        stop_timeout: Duration::from_secs(2),
    }
}

/// Polls `check` until it yields a value or the deadline passes.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn runtime_calls_and_events_against_docker() {
    let (runtime, instance, _cleanup) = setup().await;
    let host = runtime.host_info().await.unwrap();
    assert!(host.cpu_count >= 1 && host.memory_bytes > 0, "{host:?}");
    assert!(host.api_version.starts_with("1."), "{host:?}");

    assert!(runtime.image_present(IMAGE).await.unwrap());
    assert!(!runtime.image_present("berth-test/absent:1").await.unwrap());
    let pull = runtime.pull_image("berth-test/absent:1").await.unwrap_err();
    assert!(!pull.message().is_empty());

    let mut events = runtime.events(labels::CONTAINER_INSTANCE, &instance).await.unwrap();
    let mut web = request(&instance, "web", &["httpd", "-f", "-p", "8080"]);
    web.port_bindings = vec![PortBindingRequest { container_port: 8080, host_port: None, protocol: PortProtocol::Tcp }];
    let id = runtime.create_container(&web).await.unwrap();
    assert!(matches!(runtime.create_container(&web).await, Err(RuntimeError::NameConflict { .. })));
    assert_eq!(runtime.list_containers(labels::CONTAINER_INSTANCE, &instance).await.unwrap(), vec![id.clone()]);
    assert_eq!(runtime.inspect_container(&web.name).await.unwrap().state, ContainerRunState::Created);

    runtime.start_container(&id).await.unwrap();
    let info = runtime.inspect_container(&id).await.unwrap();
    assert_eq!(info.state, ContainerRunState::Running);
    assert_eq!(info.labels[labels::CONTAINER_INSTANCE], instance);
    let binding = &info.network_bindings[0];
    assert_eq!((binding.container_port, binding.bind_ip.as_str()), (8080, "0.0.0.0"));
    assert_ne!(binding.host_port, 0);
    let started = events.next().await.unwrap().unwrap();
    assert_eq!((started.container_id.as_str(), started.kind), (id.as_str(), RuntimeEventKind::Started));

    runtime.stop_container(&id, Duration::from_secs(1)).await.unwrap();
    runtime.stop_container(&id, Duration::from_secs(1)).await.unwrap();
    let died = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let event = events.next().await.expect("the event stream ended").expect("the event stream failed");
            if event.kind == RuntimeEventKind::Died {
                return event;
            }
        }
    })
    .await
    .expect("no die event");
    assert_eq!(died.container_id, id);
    let stopped = runtime.inspect_container(&id).await.unwrap();
    assert_eq!(stopped.state, ContainerRunState::Exited);
    assert!(stopped.exit_code.is_some());

    runtime.remove_container(&id).await.unwrap();
    runtime.remove_container(&id).await.unwrap();
    assert!(matches!(runtime.inspect_container(&id).await, Err(RuntimeError::NotFound { .. })));
}

#[tokio::test]
async fn container_logs_follow_stdout_and_stderr_with_timestamps() {
    let (runtime, instance, _cleanup) = setup().await;
    // Three lines on each stream, a line longer than Docker's 16 KiB pieces, and a last line
    // without a newline, which Docker holds until the container's output closes.
    let script = "for i in 1 2 3; do echo out $i; echo err $i >&2; done; \
                  head -c 20000 /dev/zero | tr '\\0' x; echo; printf tail; exec sleep 600";
    let id = runtime.create_container(&request(&instance, "logs", &["sh", "-c", script])).await.unwrap();
    runtime.start_container(&id).await.unwrap();

    let mut stream = runtime.container_logs(&id, None).await.unwrap().fuse();
    let mut lines: Vec<ContainerLogLine> = Vec::new();
    // Followed while the container runs.
    while lines.len() < 7 {
        let line = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("no line from the running container")
            .expect("the log stream ended while the container runs")
            .expect("the log stream failed");
        lines.push(line);
    }
    runtime.stop_container(&id, Duration::from_secs(1)).await.unwrap();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(60), stream.next()).await.expect("no end") {
        lines.push(line.unwrap());
    }
    let text = |stream: OutputStream| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line.stream == stream)
            .map(|line| String::from_utf8_lossy(&line.line).into_owned())
            .collect()
    };
    let long = "x".repeat(20000);
    assert_eq!(text(OutputStream::Stdout), ["out 1", "out 2", "out 3", long.as_str(), "tail"]);
    assert_eq!(text(OutputStream::Stderr), ["err 1", "err 2", "err 3"]);
    let year_2020_ns = 1_577_836_800_000_000_000;
    assert!(lines.iter().all(|line| line.source_ns > year_2020_ns), "{lines:?}");
    for stream in [OutputStream::Stdout, OutputStream::Stderr] {
        let stamps: Vec<i64> = lines.iter().filter(|line| line.stream == stream).map(|line| line.source_ns).collect();
        assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]), "{stamps:?}");
    }

    // From a point on: only what came after it, to the nanosecond, though Docker's own
    // `since` is whole seconds; the stream of a stopped container ends by itself.
    let since = lines[2].source_ns;
    let later: Vec<ContainerLogLine> =
        runtime.container_logs(&id, Some(since)).await.unwrap().map(Result::unwrap).collect().await;
    let expected: Vec<ContainerLogLine> = lines.iter().filter(|line| line.source_ns > since).cloned().collect();
    assert_eq!(later, expected);
    assert!(!later.is_empty() && later.len() < lines.len());

    runtime.remove_container(&id).await.unwrap();
    assert!(matches!(runtime.container_logs(&id, None).await, Err(RuntimeError::NotFound { .. })));
}

/// How the burst's stream is read while the container runs.
enum Reading {
    /// At about 100,000 lines a second, slower than the container prints.
    Slowly,
    /// Not at all: only once the container exited.
    AfterExit,
}

/// A container that prints `1..=count` as fast as it can, with json-file rotating at
/// `max_size`, keeping `max_file` files, its stream opened at once and read as `reading` says:
/// the numbers read, and which of them say lines were lost before them.
async fn burst(name: &str, count: u32, max_size: &str, max_file: &str, reading: Reading) -> (Vec<u32>, Vec<u32>) {
    let (runtime, instance, _cleanup) = setup().await;
    let mut burst = request(&instance, name, &["seq", "1", &count.to_string()]);
    burst.log_configuration.options = BTreeMap::from([
        ("max-size".to_string(), max_size.to_string()),
        ("max-file".to_string(), max_file.to_string()),
    ]);
    let id = runtime.create_container(&burst).await.unwrap();
    runtime.start_container(&id).await.unwrap();
    let mut stream = runtime.container_logs(&id, None).await.unwrap().fuse();
    let mut lines: Vec<ContainerLogLine> = Vec::new();
    if let Reading::Slowly = reading {
        while let Some(line) = stream.next().await {
            lines.push(line.unwrap());
            if lines.len().is_multiple_of(10_000) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    eventually("the burst container exited", || {
        let runtime = runtime.clone();
        let id = id.clone();
        async move {
            let info = runtime.inspect_container(&id).await.unwrap();
            matches!(info.state, ContainerRunState::Exited).then_some(())
        }
    })
    .await;
    lines.extend(stream.map(Result::unwrap).collect::<Vec<_>>().await);
    let numbers = lines.iter().map(|line| String::from_utf8_lossy(&line.line).parse().unwrap()).collect();
    let lost = lines
        .iter()
        .filter(|line| line.lines_lost_before)
        .map(|line| String::from_utf8_lossy(&line.line).parse().unwrap())
        .collect();
    (numbers, lost)
}

/// Docker's own follow skips whole files when its reader is behind at a rotation; every line
/// Docker still holds must come anyway.
#[tokio::test]
async fn a_burst_across_many_rotations_read_slowly_comes_whole() {
    let (numbers, lost) = burst("burst", 600_000, "4m", "20", Reading::Slowly).await;
    assert_eq!(numbers.len(), 600_000, "lines missing");
    assert!(numbers.iter().enumerate().all(|(index, number)| *number as usize == index + 1), "lines out of order");
    assert!(lost.is_empty(), "{lost:?}");
}

/// Past what json-file keeps, lines are gone: the stream says so once, where they were.
#[tokio::test]
async fn lines_rotated_away_before_they_were_read_are_reported_once() {
    let (numbers, lost) = burst("overflow", 600_000, "1m", "2", Reading::AfterExit).await;
    assert_eq!(lost.len(), 1, "{lost:?}");
    let gap = numbers.iter().position(|number| *number == lost[0]).unwrap();
    assert!(gap > 0 && numbers[gap] > numbers[gap - 1] + 1, "the gap is where lines are missing");
    assert_eq!(numbers.last(), Some(&600_000));
    for part in [&numbers[..gap], &numbers[gap..]] {
        assert!(part.windows(2).all(|pair| pair[1] == pair[0] + 1), "lines missing outside the gap");
    }
}

#[tokio::test]
async fn a_shipper_ships_a_docker_containers_output_once_in_order() {
    use berth_agent::log_shipper::{LogShippers, MemoryLogSink, ShipperJob, ShipperOutcome};
    let (runtime, instance, _cleanup) = setup().await;
    let script = "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo line $i; done; echo done >&2";
    let id = runtime.create_container(&request(&instance, "shipped", &["sh", "-c", script])).await.unwrap();
    let sink = Arc::new(MemoryLogSink::new());
    sink.create_group("/ecs/shipped");
    let stream = berth_agent_protocol::logs::OpenLogStream {
        log_group: "/ecs/shipped".into(),
        log_stream: id.clone(),
        create_group: false,
    };
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    runtime.start_container(&id).await.unwrap();
    shippers.ensure(ShipperJob { container_id: id.clone(), stream, event_start: None });
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    let mut expected: Vec<String> = (1..=2000).map(|index| format!("line {index}")).collect();
    let messages = sink.messages("/ecs/shipped", &id);
    let stdout: Vec<String> = messages.iter().filter(|message| *message != "done").cloned().collect();
    assert_eq!(stdout, expected);
    expected.push("done".into());
    assert_eq!(messages.len(), expected.len());
}

fn container(name: &str, command: &[&str]) -> ContainerSpec {
    ContainerSpec {
        memory: Some(32),
        command: Some(command.iter().map(|part| part.to_string()).collect()),
        stop_timeout_seconds: Some(2),
        ..ContainerSpec::new(name, IMAGE)
    }
}

async fn run_task(
    runtime: Arc<DockerRuntime>,
    instance: &str,
    task_arn: &str,
    spec: TaskSpec,
) -> (Arc<Reporter>, watch::Sender<DesiredStatus>) {
    let reporter = Arc::new(Reporter::new());
    let context = Arc::new(RunnerContext {
        runtime: runtime.clone(),
        reporter: reporter.clone(),
        owner: Ownership { cluster: "default".into(), instance: instance.into() },
        cleanup_wait: Duration::from_secs(3600),
        metadata: Arc::new(berth_agent::metadata::MetadataRegistry::disabled()),
        log_shippers: Arc::new(berth_agent::log_shipper::LogShippers::new(
            runtime.clone(),
            Arc::new(berth_agent::log_shipper::MemoryLogSink::new()),
        )),
    });
    let (desired, desired_receiver) = watch::channel(DesiredStatus::Running);
    let (signals, signal_receiver) = mpsc::unbounded_channel();
    let mut events = runtime.events(labels::CONTAINER_INSTANCE, instance).await.unwrap();
    tokio::spawn(async move {
        while let Some(Ok(event)) = events.next().await {
            if signals.send(RunnerSignal::ContainerEvent(event.container_id)).is_err() {
                return;
            }
        }
    });
    let state = TaskState::new(task_arn, spec, DesiredStatus::Running);
    tokio::spawn(TaskRunner::new(context, state, desired_receiver, signal_receiver).run());
    (reporter, desired)
}

async fn report_where(reporter: &Reporter, task_arn: &str, condition: impl Fn(&TaskReport) -> bool) -> TaskReport {
    eventually("a task report", || {
        let report = reporter.latest(task_arn).filter(|report| condition(report));
        async move { report }
    })
    .await
}

fn task_arn() -> String {
    format!("arn:aws:ecs:us-east-1:000000000000:task/default/{}", berth_types::TaskId::generate())
}

#[tokio::test]
async fn the_runner_runs_serves_and_stops_a_task_on_docker() {
    let (runtime, instance, _cleanup) = setup().await;
    let arn = task_arn();
    let mut web = container("web", &["httpd", "-f", "-p", "80", "-h", "/www"]);
    web.port_mappings = vec![PortMappingSpec { container_port: 80, host_port: None, protocol: PortProtocol::Tcp }];
    let spec = TaskSpec::new("web", 1, vec![web]);
    let (reporter, desired) = run_task(runtime.clone(), &instance, &arn, spec).await;
    let running = report_where(&reporter, &arn, |report| report.last_status == TaskStatus::Running).await;
    let host_port = running.containers[0].network_bindings[0].host_port;
    let docker_id = running.containers[0].runtime_id.clone().unwrap();
    assert_eq!(runtime.inspect_container(&container_name(&arn, "web")).await.unwrap().id, docker_id);

    // The container answers on the port Docker chose.
    let body = eventually("httpd to answer", || async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", host_port)).await.ok()?;
        stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        Some(response)
    })
    .await;
    assert!(body.contains("berth"), "{body}");

    desired.send_replace(DesiredStatus::Stopped);
    let stopped = report_where(&reporter, &arn, |report| report.last_status == TaskStatus::Stopped).await;
    assert!(stopped.containers[0].exit_code.is_some());
    assert_eq!(stopped.stop_code, None);
}

#[tokio::test]
async fn essential_exit_and_oom_kill_on_docker() {
    let (runtime, instance, _cleanup) = setup().await;
    let arn = task_arn();
    // `main` starts only once `idle` has: otherwise, on a busy host, `main` can exit before
    // `idle` ever starts, and a container that never ran has no exit code to report.
    let mut main = container("main", &["sh", "-c", "exit 3"]);
    main.depends_on = vec![DependencySpec { container_name: "idle".into(), condition: DependencyCondition::Start }];
    let spec = TaskSpec::new("batch", 3, vec![main, container("idle", &["sleep", "600"])]);
    let (reporter, _desired) = run_task(runtime.clone(), &instance, &arn, spec).await;
    let stopped = report_where(&reporter, &arn, |report| report.last_status == TaskStatus::Stopped).await;
    assert_eq!(stopped.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert_eq!(stopped.containers[0].exit_code, Some(3));
    // `sleep` as PID 1 ignores SIGTERM: Docker kills it after the stop timeout.
    assert_eq!(stopped.containers[1].exit_code, Some(137));

    let arn = task_arn();
    let mut hog = container("hog", &["sh", "-c", "tail /dev/zero"]);
    hog.memory = Some(8);
    let spec = TaskSpec::new("hog", 1, vec![hog]);
    let (reporter, _desired) = run_task(runtime.clone(), &instance, &arn, spec).await;
    let stopped = report_where(&reporter, &arn, |report| report.last_status == TaskStatus::Stopped).await;
    assert_eq!(stopped.containers[0].exit_code, Some(137));
    assert_eq!(stopped.containers[0].reason.as_deref(), Some(OUT_OF_MEMORY_REASON));
}

/// The usage sampler against Docker's stats: a shell spinning in a loop keeps one core busy,
/// which shows as about 1024 CPU units over the sampler's own interval.
#[tokio::test]
async fn a_busy_container_samples_as_about_one_core() {
    use berth_agent::metadata::MetadataRegistry;
    use berth_agent::task::state::ContainerPhase;
    use berth_agent::usage_sampler::{MemoryUsageSink, UsageSampler};

    let (runtime, instance, _cleanup) = setup().await;
    let mut busy = request(&instance, "busy", &["sh", "-c", "while :; do :; done"]);
    // Full shares, so that builds sharing the machine do not starve it completely.
    busy.cpu_shares = 1024;
    let id = runtime.create_container(&busy).await.unwrap();
    runtime.start_container(&id).await.unwrap();
    let first = runtime.container_stats_sample(&id).await.unwrap();
    assert!(first.memory_usage_bytes > 0 && first.online_cpus >= 1 && first.system_cpu_ns > 0, "{first:?}");

    let task_arn = task_arn();
    let mut state =
        TaskState::new(&task_arn, TaskSpec::new("busy", 1, vec![container("busy", &[])]), DesiredStatus::Running);
    state.containers[0].runtime_id = Some(id.clone());
    state.containers[0].phase = ContainerPhase::Running;
    let registry = Arc::new(MetadataRegistry::disabled());
    registry.update_task(&state);
    let sink = Arc::new(MemoryUsageSink::default());
    let mut sampler = UsageSampler::new(runtime.clone(), registry, sink, Duration::from_secs(1));
    assert!(sampler.sample_once().await.samples.is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = sampler.sample_once().await;
    let [sample] = &report.samples[..] else { panic!("one sample: {report:?}") };
    assert_eq!((sample.task_arn.as_str(), sample.container_name.as_str()), (task_arn.as_str(), "busy"));
    assert!(sample.cpu_units_used > 500.0, "a spinning shell uses about a core: {sample:?}");
    assert!(sample.cpu_units_used < 1024.0 * 1.5, "one process cannot use much more than a core: {sample:?}");
    assert!(sample.memory_bytes > 0 && sample.memory_bytes < 64 << 20, "{sample:?}");
    runtime.stop_container(&id, Duration::from_secs(1)).await.unwrap();
}
