//! Tests of a task's life: the pure decisions, and runners driving the fake runtime.

use crate::container_config::{container_name, Ownership};
use crate::fake::{Call, FakeRuntime};
use crate::log_shipper::{LogShippers, MemoryLogSink};
use crate::reporter::Reporter;
use crate::runtime::{ContainerRuntime, RuntimeHealth};
use crate::task::adopt::initial_state;
use crate::task::decide::{decide, Action};
use crate::task::runner::{RunnerContext, RunnerSignal, TaskRunner};
use crate::task::state::{ContainerPhase, TaskState, OUT_OF_MEMORY_REASON};
use crate::test_support::{container, task_spec};
use berth_agent_protocol::{labels, DesiredTask, TaskReport};
use berth_types::spec::{DependencyCondition, DependencySpec, PortMappingSpec, TaskSpec, VolumeSource, VolumeSpec};
use berth_types::{DesiredStatus, PortProtocol, TaskStatus, TaskStopCode};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
const IMAGE: &str = "berth-test/busybox:latest";
const INSTANCE: &str = "i-0000000000000000a";

fn depends(name: &str, condition: DependencyCondition) -> DependencySpec {
    DependencySpec { container_name: name.into(), condition }
}

// ---- pure decisions -------------------------------------------------------------------

#[test]
fn containers_start_in_dependency_order() {
    let init = berth_types::spec::ContainerSpec { essential: false, ..container("init") };
    let mut db = container("db");
    db.depends_on = vec![depends("init", DependencyCondition::Success)];
    let mut app = container("app");
    app.depends_on = vec![depends("db", DependencyCondition::Healthy)];
    let mut task = TaskState::new(ARN, task_spec(vec![app, db, init]), DesiredStatus::Running);

    assert_eq!(decide(&task, false), Action::PrepareImages);
    task.images_ready = true;
    assert_eq!(decide(&task, false), Action::PrepareVolumes);
    task.volumes_ready = true;
    for index in 0..3 {
        assert_eq!(decide(&task, false), Action::Create(index));
        task.containers[index].phase = ContainerPhase::Created;
    }
    // Only init has no dependency.
    assert_eq!(decide(&task, false), Action::Start(2));
    task.containers[2].phase = ContainerPhase::Running;
    task.containers[2].started = true;
    assert_eq!(decide(&task, false), Action::Wait);
    // init succeeds: db may start; the task is not RUNNING while app waits.
    task.containers[2].phase = ContainerPhase::Stopped;
    task.containers[2].exit_code = Some(0);
    assert_eq!(decide(&task, false), Action::Start(1));
    task.containers[1].phase = ContainerPhase::Running;
    task.containers[1].started = true;
    assert_eq!(decide(&task, false), Action::Wait);
    task.containers[1].health = berth_types::HealthStatus::Healthy;
    assert_eq!(decide(&task, false), Action::Start(0));
    task.containers[0].phase = ContainerPhase::Running;
    task.containers[0].started = true;
    assert_eq!(decide(&task, false), Action::MarkRunning);
}

#[test]
fn a_failed_success_dependency_fails_the_task() {
    let init = berth_types::spec::ContainerSpec { essential: false, ..container("init") };
    let mut app = container("app");
    app.depends_on = vec![depends("init", DependencyCondition::Success)];
    let mut task = TaskState::new(ARN, task_spec(vec![init, app]), DesiredStatus::Running);
    task.images_ready = true;
    task.volumes_ready = true;
    task.containers[0].phase = ContainerPhase::Stopped;
    task.containers[0].started = true;
    task.containers[0].exit_code = Some(1);
    task.containers[1].phase = ContainerPhase::Created;
    match decide(&task, false) {
        Action::MarkStopped { stop_code: Some(TaskStopCode::TaskFailedToStart), reason: Some(reason) } => {
            assert!(reason.contains("SUCCESS"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn stopping_goes_dependents_first_and_cleanup_waits() {
    let proxy = container("proxy");
    let mut app = container("app");
    app.depends_on = vec![depends("proxy", DependencyCondition::Start)];
    let mut task = TaskState::new(ARN, task_spec(vec![proxy, app]), DesiredStatus::Stopped);
    task.status = TaskStatus::Running;
    for track in &mut task.containers {
        track.phase = ContainerPhase::Running;
        track.started = true;
    }
    assert_eq!(decide(&task, false), Action::BeginStopping { stop_code: None, reason: None });
    task.status = TaskStatus::Stopping;
    assert_eq!(decide(&task, false), Action::Stop(vec![1]));
    task.containers[1].phase = ContainerPhase::Stopped;
    assert_eq!(decide(&task, false), Action::Stop(vec![0]));
    task.containers[0].phase = ContainerPhase::Stopped;
    assert_eq!(decide(&task, false), Action::MarkStopped { stop_code: None, reason: None });
    task.status = TaskStatus::Stopped;
    assert_eq!(decide(&task, false), Action::Wait);
    assert_eq!(decide(&task, true), Action::Cleanup);
    task.cleaned_up = true;
    assert_eq!(decide(&task, true), Action::Finished);
}

#[test]
fn a_non_essential_exit_keeps_the_task_running() {
    let sidecar = berth_types::spec::ContainerSpec { essential: false, ..container("sidecar") };
    let mut task = TaskState::new(ARN, task_spec(vec![container("app"), sidecar]), DesiredStatus::Running);
    task.status = TaskStatus::Running;
    task.images_ready = true;
    for track in &mut task.containers {
        track.phase = ContainerPhase::Running;
        track.started = true;
    }
    task.containers[1].phase = ContainerPhase::Stopped;
    assert_eq!(decide(&task, false), Action::Wait);
    task.containers[0].phase = ContainerPhase::Stopped;
    assert!(matches!(
        decide(&task, false),
        Action::MarkStopped { stop_code: Some(TaskStopCode::EssentialContainerExited), .. }
    ));
}

// ---- runners over the fake runtime ----------------------------------------------------

struct Harness {
    runtime: Arc<FakeRuntime>,
    reporter: Arc<Reporter>,
    log_shippers: Arc<LogShippers>,
    desired: watch::Sender<DesiredStatus>,
    signals: mpsc::UnboundedSender<RunnerSignal>,
    runner: JoinHandle<TaskState>,
}

impl Harness {
    async fn start(runtime: Arc<FakeRuntime>, state: TaskState, cleanup_wait: Duration) -> Harness {
        Self::start_with_sink(runtime, state, cleanup_wait, Arc::new(MemoryLogSink::new())).await
    }

    async fn start_with_sink(
        runtime: Arc<FakeRuntime>,
        state: TaskState,
        cleanup_wait: Duration,
        sink: Arc<MemoryLogSink>,
    ) -> Harness {
        let reporter = Arc::new(Reporter::new());
        let log_shippers = Arc::new(LogShippers::new(runtime.clone(), sink));
        let context = Arc::new(RunnerContext {
            runtime: runtime.clone(),
            reporter: reporter.clone(),
            owner: Ownership { cluster: "default".into(), instance: INSTANCE.into() },
            cleanup_wait,
            metadata: Arc::new(crate::metadata::MetadataRegistry::disabled()),
            log_shippers: log_shippers.clone(),
        });
        let (desired, desired_receiver) = watch::channel(state.desired);
        let (signals, signal_receiver) = mpsc::unbounded_channel();
        // Route the fake's events as the agent's event pump does.
        let mut events = runtime.events(labels::CONTAINER_INSTANCE, INSTANCE).await.unwrap();
        let event_signals = signals.clone();
        tokio::spawn(async move {
            while let Some(Ok(event)) = events.next().await {
                if event_signals.send(RunnerSignal::ContainerEvent(event.container_id)).is_err() {
                    return;
                }
            }
        });
        let runner = tokio::spawn(TaskRunner::new(context, state, desired_receiver, signal_receiver).run());
        Harness { runtime, reporter, log_shippers, desired, signals, runner }
    }

    /// Waits (bounded) until the latest report satisfies `condition`.
    async fn report_where(&self, condition: impl Fn(&TaskReport) -> bool) -> TaskReport {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(report) = self.reporter.latest(ARN) {
                if condition(&report) {
                    return report;
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "no such report; latest {:?}", self.reporter.latest(ARN));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn status(&self, status: TaskStatus) -> TaskReport {
        self.report_where(|report| report.last_status == status).await
    }
}

fn new_task(spec: TaskSpec) -> TaskState {
    TaskState::new(ARN, spec, DesiredStatus::Running)
}

fn runtime_with_image() -> Arc<FakeRuntime> {
    let runtime = Arc::new(FakeRuntime::new());
    runtime.add_image(IMAGE);
    runtime
}

#[tokio::test]
async fn a_task_runs_without_pulling_a_present_image_and_reports_bindings() {
    let mut web = container("web");
    web.port_mappings = vec![
        PortMappingSpec { container_port: 80, host_port: None, protocol: PortProtocol::Tcp },
        PortMappingSpec { container_port: 81, host_port: Some(8081), protocol: PortProtocol::Tcp },
    ];
    let harness = Harness::start(runtime_with_image(), new_task(task_spec(vec![web])), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Running).await;
    let web = &report.containers[0];
    let created = harness.runtime.container(&container_name(ARN, "web")).unwrap();
    assert_eq!(web.runtime_id.as_deref(), Some(created.info.id.as_str()));
    assert_eq!(web.last_status, TaskStatus::Running);
    let ports: Vec<(u16, u16)> = web.network_bindings.iter().map(|b| (b.container_port, b.host_port)).collect();
    assert_eq!(ports, [(80, 32769), (81, 8081)]);
    assert!(report.started_at.is_some());
    assert_eq!(report.pull_started_at, None);
    assert!(!harness.runtime.calls().iter().any(|call| matches!(call, Call::Pull(_))));
    assert_eq!(created.request.labels[labels::CONTAINER_INSTANCE], INSTANCE);
}

#[tokio::test]
async fn a_missing_image_is_pulled_and_a_failed_pull_stops_the_task() {
    let runtime = Arc::new(FakeRuntime::new());
    let harness =
        Harness::start(runtime.clone(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Running).await;
    assert!(report.pull_started_at.is_some() && report.pull_stopped_at >= report.pull_started_at);

    let runtime = Arc::new(FakeRuntime::new());
    runtime.fail_pull(IMAGE, "pull access denied for berth-test/busybox");
    let harness =
        Harness::start(runtime.clone(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.stop_code, Some(TaskStopCode::TaskFailedToStart));
    let expected = "CannotPullContainerError: pull access denied for berth-test/busybox";
    assert_eq!(report.stopped_reason.as_deref(), Some(expected));
    assert_eq!(report.containers[0].reason.as_deref(), Some(expected));
    assert!(!runtime.calls().iter().any(|call| matches!(call, Call::Create(_))));
}

#[tokio::test]
async fn start_and_create_failures_read_like_ecs() {
    let runtime = runtime_with_image();
    runtime.fail_start(&container_name(ARN, "web"), "OCI runtime create failed: exec: \"nope\"");
    let harness = Harness::start(runtime, new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert!(report.stopped_reason.unwrap().starts_with("CannotStartContainerError: OCI runtime"));

    let runtime = runtime_with_image();
    runtime.fail_create(&container_name(ARN, "web"), "no space left on device");
    let harness = Harness::start(runtime, new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.containers[0].reason.as_deref(), Some("CannotCreateContainerError: no space left on device"));
}

#[tokio::test]
async fn an_essential_exit_stops_the_others_with_their_exit_codes() {
    let mut app = container("app");
    app.stop_timeout_seconds = Some(5);
    let sidecar = berth_types::spec::ContainerSpec { essential: false, ..container("sidecar") };
    let spec = task_spec(vec![container("main"), app, sidecar]);
    let harness = Harness::start(runtime_with_image(), new_task(spec), Duration::from_secs(3600)).await;
    harness.status(TaskStatus::Running).await;

    // The non-essential sidecar's exit does not stop the task.
    harness.runtime.exit(&container_name(ARN, "sidecar"), 3);
    harness.report_where(|report| report.containers[2].last_status == TaskStatus::Stopped).await;
    assert_eq!(harness.reporter.latest(ARN).unwrap().last_status, TaskStatus::Running);

    harness.runtime.exit(&container_name(ARN, "main"), 2);
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert_eq!(report.stopped_reason.as_deref(), Some("Essential container in task exited"));
    let codes: Vec<Option<i32>> = report.containers.iter().map(|container| container.exit_code).collect();
    assert_eq!(codes, [Some(2), Some(143), Some(3)]);
    assert!(report.execution_stopped_at.is_some());
    let app_id = harness.runtime.container(&container_name(ARN, "app")).unwrap().info.id;
    assert!(harness.runtime.calls().contains(&Call::Stop(app_id, Duration::from_secs(5))));
}

#[tokio::test]
async fn an_oom_kill_is_exit_137_with_the_ecs_reason() {
    let harness =
        Harness::start(runtime_with_image(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600))
            .await;
    harness.status(TaskStatus::Running).await;
    harness.runtime.oom_kill(&container_name(ARN, "web"));
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.containers[0].exit_code, Some(137));
    assert_eq!(report.containers[0].reason.as_deref(), Some(OUT_OF_MEMORY_REASON));
}

#[tokio::test]
async fn a_user_stop_reports_stopping_then_stopped_and_cleanup_removes_everything() {
    let mut web = container("web");
    web.mount_points = vec![berth_types::spec::MountPointSpec {
        source_volume: "scratch".into(),
        container_path: "/s".into(),
        read_only: false,
    }];
    let mut spec = task_spec(vec![web]);
    spec.volumes = vec![VolumeSpec { name: "scratch".into(), source: VolumeSource::TaskScratch }];
    let harness = Harness::start(runtime_with_image(), new_task(spec), Duration::from_millis(50)).await;
    harness.status(TaskStatus::Running).await;
    assert_eq!(harness.runtime.volumes().len(), 1);

    harness.desired.send_replace(DesiredStatus::Stopped);
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.stop_code, None);
    assert_eq!(report.containers[0].exit_code, Some(143));
    let final_state = tokio::time::timeout(Duration::from_secs(10), harness.runner).await.unwrap().unwrap();
    assert!(final_state.cleaned_up);
    assert!(harness.runtime.containers().is_empty());
    assert!(harness.runtime.volumes().is_empty());
}

#[tokio::test]
async fn healthy_dependency_waits_for_health() {
    let mut db = container("db");
    db.health_check = Some(berth_types::spec::HealthCheckSpec {
        command: vec!["CMD-SHELL".into(), "true".into()],
        interval_seconds: 5,
        timeout_seconds: 2,
        retries: 3,
        start_period_seconds: 0,
    });
    let mut app = container("app");
    app.depends_on = vec![depends("db", DependencyCondition::Healthy)];
    let harness =
        Harness::start(runtime_with_image(), new_task(task_spec(vec![db, app])), Duration::from_secs(3600)).await;
    harness.report_where(|report| report.containers[0].last_status == TaskStatus::Running).await;
    assert_eq!(harness.reporter.latest(ARN).unwrap().last_status, TaskStatus::Pending);
    harness.runtime.set_health(&container_name(ARN, "db"), RuntimeHealth::Healthy);
    let report = harness.status(TaskStatus::Running).await;
    assert_eq!(report.containers[0].health_status, berth_types::HealthStatus::Healthy);
}

#[tokio::test]
async fn a_restarted_agent_adopts_running_containers_and_reports_the_dead() {
    let runtime = runtime_with_image();
    let spec =
        task_spec(vec![container("main"), berth_types::spec::ContainerSpec { essential: false, ..container("side") }]);
    // A previous agent ran the task.
    let first = Harness::start(runtime.clone(), new_task(spec.clone()), Duration::from_secs(3600)).await;
    first.status(TaskStatus::Running).await;
    first.runner.abort();
    let main_id = runtime.container(&container_name(ARN, "main")).unwrap().info.id;
    runtime.exit(&container_name(ARN, "side"), 9);
    runtime.clear_calls();

    let desired = DesiredTask {
        task_arn: ARN.into(),
        spec,
        desired_status: DesiredStatus::Running,
        last_status: TaskStatus::Running,
    };
    let mut found = Vec::new();
    for id in runtime.list_containers(labels::CONTAINER_INSTANCE, INSTANCE).await.unwrap() {
        found.push(runtime.inspect_container(&id).await.unwrap());
    }
    let second = Harness::start(runtime.clone(), initial_state(&desired, &found), Duration::from_secs(3600)).await;
    let report = second.report_where(|report| report.containers[1].exit_code == Some(9)).await;
    assert_eq!(report.last_status, TaskStatus::Running);
    assert_eq!(report.containers[0].runtime_id.as_deref(), Some(main_id.as_str()));
    assert!(runtime.calls().iter().all(|call| !matches!(call, Call::Create(_) | Call::Start(_) | Call::Stop(..))));
    second.signals.send(RunnerSignal::Resync).unwrap();
}

#[tokio::test]
async fn a_task_whose_containers_vanished_while_away_is_stopped_not_recreated() {
    let runtime = runtime_with_image();
    let desired = DesiredTask {
        task_arn: ARN.into(),
        spec: task_spec(vec![container("main")]),
        desired_status: DesiredStatus::Running,
        last_status: TaskStatus::Running,
    };
    let harness = Harness::start(runtime.clone(), initial_state(&desired, &[]), Duration::from_secs(3600)).await;
    let report = harness.status(TaskStatus::Stopped).await;
    assert_eq!(report.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert!(runtime.calls().iter().all(|call| !matches!(call, Call::Create(_))));
}

#[tokio::test]
async fn a_create_after_a_crash_adopts_the_container_of_the_same_name() {
    let runtime = runtime_with_image();
    let first =
        Harness::start(runtime.clone(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    first.status(TaskStatus::Running).await;
    first.runner.abort();
    let id = runtime.container(&container_name(ARN, "web")).unwrap().info.id;
    // The server still has the task PENDING (the RUNNING report was lost with the agent).
    let second =
        Harness::start(runtime.clone(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    let report = second.status(TaskStatus::Running).await;
    assert_eq!(report.containers[0].runtime_id.as_deref(), Some(id.as_str()));
    assert_eq!(runtime.containers().len(), 1);
}

#[tokio::test]
async fn a_purged_task_is_stopped_and_removed_at_once() {
    let runtime = runtime_with_image();
    let harness =
        Harness::start(runtime.clone(), new_task(task_spec(vec![container("web")])), Duration::from_secs(3600)).await;
    harness.status(TaskStatus::Running).await;
    harness.signals.send(RunnerSignal::Purge).unwrap();
    tokio::time::timeout(Duration::from_secs(10), harness.runner).await.unwrap().unwrap();
    assert!(runtime.containers().is_empty());
    assert!(harness.reporter.latest(ARN).is_none());
}

// ---- awslogs containers ----------------------------------------------------------------

const LOG_GROUP: &str = "/ecs/web";
const LOG_STREAM: &str = "web/web/0123456789abcdef0123456789abcdef";

/// A container `web` logging with awslogs to `LOG_GROUP`, streams prefixed `web`.
fn awslogs_web() -> berth_types::spec::ContainerSpec {
    let mut web = container("web");
    web.log_configuration = Some(berth_types::spec::LogConfigurationSpec {
        driver: "awslogs".into(),
        options: [("awslogs-group", LOG_GROUP), ("awslogs-region", "us-east-1"), ("awslogs-stream-prefix", "web")]
            .into_iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    });
    web
}

fn sink_with_group() -> Arc<MemoryLogSink> {
    let sink = Arc::new(MemoryLogSink::new());
    sink.create_group(LOG_GROUP);
    sink
}

/// Polls `check` until it holds (bounded, so that a broken runner fails the test).
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn print(runtime: &FakeRuntime, lines: std::ops::Range<usize>) {
    for index in lines {
        runtime.push_log(&container_name(ARN, "web"), crate::runtime::OutputStream::Stdout, &format!("line {index}"));
    }
}

fn printed(lines: std::ops::Range<usize>) -> Vec<String> {
    lines.map(|index| format!("line {index}")).collect()
}

#[tokio::test]
async fn a_missing_log_group_fails_the_container_start_with_ecs_words() {
    let runtime = runtime_with_image();
    let sink = Arc::new(MemoryLogSink::new());
    let spec = task_spec(vec![awslogs_web()]);
    let harness = Harness::start_with_sink(runtime.clone(), new_task(spec), Duration::from_secs(3600), sink).await;
    let report = harness.status(TaskStatus::Stopped).await;
    let expected = "CannotStartContainerError: ResourceNotFoundException: The specified log group does not exist.";
    assert_eq!(report.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert_eq!(report.stopped_reason.as_deref(), Some(expected));
    assert_eq!(report.containers[0].reason.as_deref(), Some(expected));
    assert!(!runtime.calls().iter().any(|call| matches!(call, Call::Start(_))));
}

#[tokio::test]
async fn an_awslogs_container_ships_while_it_runs_after_the_server_came_back() {
    let runtime = runtime_with_image();
    let sink = sink_with_group();
    // The server cannot be reached at first: the start waits for the stream, then goes on.
    sink.fail_next_opens(2);
    let spec = task_spec(vec![awslogs_web()]);
    let harness =
        Harness::start_with_sink(runtime.clone(), new_task(spec), Duration::from_secs(3600), sink.clone()).await;
    harness.status(TaskStatus::Running).await;
    let created = runtime.container(&container_name(ARN, "web")).unwrap();
    assert_eq!(created.request.log_configuration.driver, "json-file");
    // Docker keeps the output for the shipper, with no awslogs-* option (json-file refuses them).
    let options = &created.request.log_configuration.options;
    assert_eq!(options.get("max-size").map(String::as_str), Some("128m"));
    assert!(options.keys().all(|key| !key.starts_with("awslogs-")), "{options:?}");
    print(&runtime, 0..20);
    until("the lines are stored", || sink.messages(LOG_GROUP, LOG_STREAM).len() == 20).await;
    assert_eq!(sink.messages(LOG_GROUP, LOG_STREAM), printed(0..20));
    assert_eq!(harness.log_shippers.len(), 1);
}

/// With the clock paused, a sleep returns only once every other task is idle: the runner has
/// then done all it would do before the shipper finishes.
#[tokio::test(start_paused = true)]
async fn cleanup_removes_a_container_only_after_its_shipper_finished() {
    let runtime = runtime_with_image();
    let sink = sink_with_group();
    let spec = task_spec(vec![awslogs_web()]);
    let harness = Harness::start_with_sink(runtime.clone(), new_task(spec), Duration::ZERO, sink.clone()).await;
    harness.status(TaskStatus::Running).await;
    print(&runtime, 0..5);
    until("the first lines are stored", || sink.messages(LOG_GROUP, LOG_STREAM).len() == 5).await;
    // The server stops answering; the container prints its last lines and exits.
    sink.hold_ships(true);
    let attempts = sink.ship_attempts();
    print(&runtime, 5..8);
    until("the last lines are on their way", || sink.ship_attempts() > attempts).await;
    runtime.exit(&container_name(ARN, "web"), 0);
    harness.status(TaskStatus::Stopped).await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(runtime.container(&container_name(ARN, "web")).is_some(), "removed before its lines were shipped");
    assert!(!runtime.calls().iter().any(|call| matches!(call, Call::Remove(_))));
    assert!(!harness.runner.is_finished());

    sink.hold_ships(false);
    let final_state = harness.runner.await.unwrap();
    assert!(final_state.cleaned_up);
    assert!(runtime.containers().is_empty());
    assert_eq!(sink.messages(LOG_GROUP, LOG_STREAM), printed(0..8));
    assert!(harness.log_shippers.is_empty());
}

#[tokio::test]
async fn an_adopted_awslogs_container_gets_one_shipper_that_resumes_at_the_position() {
    let runtime = runtime_with_image();
    let sink = sink_with_group();
    let spec = task_spec(vec![awslogs_web()]);
    let first =
        Harness::start_with_sink(runtime.clone(), new_task(spec.clone()), Duration::from_secs(3600), sink.clone())
            .await;
    first.status(TaskStatus::Running).await;
    print(&runtime, 0..10);
    until("the first lines are stored", || sink.messages(LOG_GROUP, LOG_STREAM).len() == 10).await;
    // The agent dies with its runner and shippers; the container prints on, then exits.
    first.runner.abort();
    first.log_shippers.abort_all();
    print(&runtime, 10..20);
    runtime.exit(&container_name(ARN, "web"), 0);

    let id = runtime.container(&container_name(ARN, "web")).unwrap().info.id;
    let found = vec![runtime.inspect_container(&id).await.unwrap()];
    let desired = DesiredTask {
        task_arn: ARN.into(),
        spec,
        desired_status: DesiredStatus::Running,
        last_status: TaskStatus::Running,
    };
    let second = Harness::start_with_sink(
        runtime.clone(),
        initial_state(&desired, &found),
        Duration::from_secs(3600),
        sink.clone(),
    )
    .await;
    second.status(TaskStatus::Stopped).await;
    second.signals.send(RunnerSignal::Resync).unwrap();
    until("the later lines are stored", || sink.messages(LOG_GROUP, LOG_STREAM).len() >= 20).await;
    assert_eq!(second.log_shippers.finished(&id).await, Some(crate::log_shipper::ShipperOutcome::Finished));
    assert_eq!(sink.messages(LOG_GROUP, LOG_STREAM), printed(0..20));
    assert_eq!(second.log_shippers.len(), 1);
    let reads = runtime.calls().into_iter().filter(|call| matches!(call, Call::Logs(..))).count();
    // The first agent's shipper; the second's, and its read of the stopped container that
    // found nothing new.
    assert_eq!(reads, 3, "{:?}", runtime.calls());
}
