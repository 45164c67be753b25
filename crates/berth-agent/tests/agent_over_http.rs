//! The whole agent against a small stand-in for the server's agent endpoints (real HTTP on
//! port 0) and the fake runtime: registration and its persistence, the long poll, reports,
//! a user stop, deregistration (410) and an agent restart that adopts instead of recreating.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_agent::fake::{Call, FakeRuntime};
use berth_agent::{run_agent, AgentConfig};
use berth_agent_protocol::{DesiredDocument, DesiredTask, ReportResponse, StateReport, TaskReport};
use berth_types::spec::{ContainerSpec, TaskSpec};
use berth_types::{DesiredStatus, TaskStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};

const TASK: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
const IMAGE: &str = "berth-test/busybox:latest";

#[derive(Default)]
struct Server {
    state: Mutex<ServerState>,
    changed: Notify,
}

#[derive(Default)]
struct ServerState {
    /// Registration bodies, in order.
    registrations: Vec<serde_json::Value>,
    /// Instance ID by host identity; `gone` instances answer 410.
    instances: HashMap<String, String>,
    gone: Vec<String>,
    generation: u64,
    tasks: Vec<DesiredTask>,
    /// Latest report per task, with the instance that sent it.
    reports: HashMap<String, (String, TaskReport)>,
    /// When set, polls that ask for changes only get an empty, incomplete document.
    answer_changes_only: bool,
    /// Every poll's `(after, changes_only)`, in order.
    polls: Vec<(u64, bool)>,
}

impl Server {
    fn update(&self, change: impl FnOnce(&mut ServerState)) {
        change(&mut self.state.lock().unwrap());
        self.changed.notify_waiters();
    }
}

async fn register(State(server): State<Arc<Server>>, body: String) -> Response {
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let document: serde_json::Value = serde_json::from_str(body["instanceIdentityDocument"].as_str().unwrap()).unwrap();
    let identity = document["instanceId"].as_str().unwrap().to_string();
    let mut state = server.state.lock().unwrap();
    state.registrations.push(body);
    let count = state.registrations.len();
    let id = state.instances.entry(identity).or_insert_with(|| format!("{count:032x}")).clone();
    let arn = format!("arn:aws:ecs:us-east-1:000000000000:container-instance/default/{id}");
    Json(serde_json::json!({"containerInstance": {"containerInstanceArn": arn}})).into_response()
}

async fn desired(
    State(server): State<Arc<Server>>,
    Path((_cluster, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let after = query.get("after").and_then(|after| after.parse().ok()).unwrap_or(0);
    let changes_only = query.get("changes_only").is_some_and(|value| value == "true");
    server.state.lock().unwrap().polls.push((after, changes_only));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let notified = server.changed.notified();
        {
            let state = server.state.lock().unwrap();
            if state.gone.contains(&id) {
                return StatusCode::GONE.into_response();
            }
            if state.generation > after || tokio::time::Instant::now() >= deadline {
                // Unless told otherwise this server answers with the whole document, as a
                // server may even when asked for changes only.
                let document = if changes_only && state.answer_changes_only {
                    DesiredDocument { generation: state.generation, tasks: vec![], complete: false }
                } else {
                    DesiredDocument { generation: state.generation, tasks: state.tasks.clone(), complete: true }
                };
                return Json(document).into_response();
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn report(
    State(server): State<Arc<Server>>,
    Path((_cluster, id)): Path<(String, String)>,
    Json(report): Json<StateReport>,
) -> Response {
    let mut state = server.state.lock().unwrap();
    if state.gone.contains(&id) {
        return StatusCode::GONE.into_response();
    }
    let mut unknown_tasks = Vec::new();
    for task in report.tasks {
        if state.tasks.iter().any(|known| known.task_arn == task.task_arn) {
            state.reports.insert(task.task_arn.clone(), (id.clone(), task));
        } else {
            unknown_tasks.push(task.task_arn);
        }
    }
    Json(ReportResponse { unknown_tasks }).into_response()
}

async fn start_server() -> (Arc<Server>, String) {
    let server = Arc::new(Server::default());
    let app = Router::new()
        .route("/", post(register))
        .route("/agent/v1/clusters/{cluster}/instances/{id}/desired", get(desired))
        .route("/agent/v1/clusters/{cluster}/instances/{id}/report", post(report))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, url)
}

fn spec() -> TaskSpec {
    TaskSpec::new("web", 1, vec![ContainerSpec { memory: Some(64), ..ContainerSpec::new("web", IMAGE) }])
}

struct RunningAgent {
    stop: oneshot::Sender<()>,
    join: tokio::task::JoinHandle<()>,
}

fn start_agent(url: &str, data_dir: &std::path::Path, runtime: Arc<FakeRuntime>) -> RunningAgent {
    let mut config = AgentConfig::new(url, "default", data_dir);
    config.extra_reserved_ports = vec![23784];
    let (stop, stopped) = oneshot::channel::<()>();
    let join = tokio::spawn(async move {
        run_agent(config, runtime, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    RunningAgent { stop, join }
}

async fn eventually<T>(what: &str, server: &Server, check: impl Fn(&ServerState) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check(&server.state.lock().unwrap()) {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn reported(state: &ServerState, status: TaskStatus) -> Option<(String, TaskReport)> {
    state.reports.get(TASK).filter(|(_, report)| report.last_status == status).cloned()
}

/// The stand-in server, an agent data directory and a fake runtime that has the test image.
async fn fixtures() -> (Arc<Server>, String, tempfile::TempDir, Arc<FakeRuntime>) {
    let (server, url) = start_server().await;
    let runtime = Arc::new(FakeRuntime::new());
    runtime.add_image(IMAGE);
    (server, url, tempfile::tempdir().unwrap(), runtime)
}

/// Generation 1: the one task, wanted RUNNING and not yet started.
fn want_the_task_running(server: &Server) {
    server.update(|state| {
        state.generation = 1;
        state.tasks = vec![DesiredTask {
            task_arn: TASK.into(),
            spec: spec(),
            desired_status: DesiredStatus::Running,
            last_status: TaskStatus::Provisioning,
        }];
    });
}

#[tokio::test]
async fn register_run_restart_adopt_stop_and_reregister() {
    let (server, url, data_dir, runtime) = fixtures().await;
    let agent = start_agent(&url, data_dir.path(), runtime.clone());
    let first = eventually("a registration", &server, |state| state.registrations.first().cloned()).await;
    assert_eq!(first["cluster"], "default");
    assert!(first.get("containerInstanceArn").is_none());
    let ports = &first["totalResources"][2]["stringSetValue"];
    // The agent's own /metrics port is taken too, so that no task maps it.
    let metrics_port = std::fs::read_to_string(data_dir.path().join("metrics-port")).unwrap();
    assert_eq!(ports, &serde_json::json!(["22", "2375", "2376", "51678", "51679", "23784", metrics_port.trim()]));

    want_the_task_running(&server);
    let (_, running) = eventually("RUNNING", &server, |state| reported(state, TaskStatus::Running)).await;
    let container_id = running.containers[0].runtime_id.clone().unwrap();

    // Restart the agent: same identity, the saved ARN, and the container adopted, not recreated.
    agent.stop.send(()).unwrap();
    agent.join.await.unwrap();
    server.update(|state| state.tasks[0].last_status = TaskStatus::Running);
    runtime.clear_calls();
    let agent = start_agent(&url, data_dir.path(), runtime.clone());
    let second = eventually("a second registration", &server, |state| state.registrations.get(1).cloned()).await;
    assert_eq!(second["instanceIdentityDocument"], first["instanceIdentityDocument"]);
    assert!(second["containerInstanceArn"].as_str().unwrap().contains("container-instance/default/"));

    // A user stop.
    server.update(|state| {
        state.generation = 2;
        state.tasks[0].desired_status = DesiredStatus::Stopped;
    });
    let (_, stopped) = eventually("STOPPED", &server, |state| reported(state, TaskStatus::Stopped)).await;
    assert_eq!(stopped.containers[0].runtime_id.as_deref(), Some(container_id.as_str()));
    assert!(runtime.calls().iter().all(|call| !matches!(call, Call::Create(_) | Call::Start(_))));

    // Deregistration: the agent registers afresh without the saved ARN.
    let old_instance = server.state.lock().unwrap().instances.values().next().unwrap().clone();
    server.update(|state| {
        state.gone.push(old_instance.clone());
        state.instances.clear();
    });
    let third = eventually("a fresh registration", &server, |state| state.registrations.get(2).cloned()).await;
    assert!(third.get("containerInstanceArn").is_none());
    assert_eq!(third["instanceIdentityDocument"], first["instanceIdentityDocument"]);
    agent.stop.send(()).unwrap();
    agent.join.await.unwrap();
}

#[tokio::test]
async fn a_changes_only_document_leaves_unlisted_tasks_running() {
    let (server, url, data_dir, runtime) = fixtures().await;
    let agent = start_agent(&url, data_dir.path(), runtime.clone());
    want_the_task_running(&server);
    eventually("RUNNING", &server, |state| reported(state, TaskStatus::Running)).await;
    let first_poll = server.state.lock().unwrap().polls[0];
    assert_eq!(first_poll, (0, false), "the first poll after registering asks for the whole document");

    // A newer document that lists nothing but says it is only the changes: the task stays.
    server.update(|state| {
        state.answer_changes_only = true;
        state.generation = 2;
    });
    eventually("a poll after generation 2", &server, |state| state.polls.contains(&(2, true)).then_some(())).await;
    assert!(
        runtime.calls().iter().all(|call| !matches!(call, Call::Stop(..) | Call::Remove(_))),
        "an incomplete document stopped a task it did not list: {:?}",
        runtime.calls()
    );
    assert!(reported(&server.state.lock().unwrap(), TaskStatus::Running).is_some());

    // The same empty list in a whole document means the task is not wanted.
    server.update(|state| {
        state.answer_changes_only = false;
        state.tasks.clear();
        state.generation = 3;
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !runtime.calls().iter().any(|call| matches!(call, Call::Stop(..))) {
        assert!(tokio::time::Instant::now() < deadline, "a whole document without the task did not stop it");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    agent.stop.send(()).unwrap();
    agent.join.await.unwrap();
}
