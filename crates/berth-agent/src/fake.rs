//! A recording, in-memory [`ContainerRuntime`] for tests: containers are records that move
//! between states when the agent (or the test) says so, every call is logged, and failures,
//! exits, OOM kills and health changes are injected by the test; so are the lines a container
//! prints (`push_log`), which `container_logs` follows until the container stops, and the
//! counters its stats show (`set_stats`). Shared with other crates'
//! tests (an in-process cluster with fake hosts), hence public.

use crate::runtime::{
    ContainerInfo, ContainerLogLine, ContainerRunState, ContainerRuntime, ContainerStatsSample, CreateContainerRequest,
    CreateVolumeRequest, HostInfo, LogLineStream, OutputStream, RuntimeError, RuntimeEvent, RuntimeEventKind,
    RuntimeEventStream, RuntimeHealth,
};
use async_trait::async_trait;
use berth_types::records::NetworkBinding;
use berth_types::spec::NetworkMode;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The fake's clock for log lines starts here (2023-11-14T22:13:20Z) and moves 1 ms a line,
/// so that a thousand lines share one second, as they do in Docker.
const FIRST_LOG_NS: i64 = 1_700_000_000_000_000_000;
const LOG_LINE_STEP_NS: i64 = 1_000_000;

/// One call the agent made, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    ImagePresent(String),
    Pull(String),
    CreateVolume(String),
    RemoveVolume(String),
    Create(String),
    Start(String),
    Stop(String, Duration),
    Remove(String),
    /// `container_logs(id, since_ns)`.
    Logs(String, Option<i64>),
}

#[derive(Debug, Clone)]
pub struct FakeContainer {
    pub request: CreateContainerRequest,
    pub info: ContainerInfo,
}

#[derive(Debug)]
struct State {
    host: HostInfo,
    images: BTreeSet<String>,
    pull_failures: HashMap<String, String>,
    create_failures: HashMap<String, String>,
    start_failures: HashMap<String, String>,
    containers: BTreeMap<String, FakeContainer>,
    volumes: BTreeSet<String>,
    calls: Vec<Call>,
    next_id: u64,
    next_port: u16,
    unavailable: bool,
    /// What each container printed, by container ID.
    logs: HashMap<String, Vec<ContainerLogLine>>,
    last_log_ns: i64,
    /// Bumped by `break_log_streams`: every stream opened before fails.
    log_breaks: u64,
    /// What `container_stats_sample` answers, by container ID (`set_stats`).
    stats: HashMap<String, ContainerStatsSample>,
    /// Set by `end_log_streams_early`: how many more streams end, once their container
    /// stopped, with lines still unread (as Docker's follow does for a reader behind).
    early_log_ends: u32,
}

pub struct FakeRuntime {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<RuntimeEvent>,
    /// Bumped on every printed line and container change, to wake log streams.
    log_changes: Arc<watch::Sender<u64>>,
}

impl Default for FakeRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeRuntime {
    pub fn new() -> Self {
        FakeRuntime {
            state: Arc::new(Mutex::new(State {
                host: HostInfo {
                    cpu_count: 2,
                    memory_bytes: 4 << 30,
                    server_version: "20.10.24".into(),
                    api_version: "1.41".into(),
                    architecture: "x86_64".into(),
                },
                images: BTreeSet::new(),
                pull_failures: HashMap::new(),
                create_failures: HashMap::new(),
                start_failures: HashMap::new(),
                containers: BTreeMap::new(),
                volumes: BTreeSet::new(),
                calls: Vec::new(),
                next_id: 0,
                next_port: 32768,
                unavailable: false,
                logs: HashMap::new(),
                last_log_ns: FIRST_LOG_NS - LOG_LINE_STEP_NS,
                log_breaks: 0,
                early_log_ends: 0,
                stats: HashMap::new(),
            })),
            events: broadcast::channel(1024).0,
            log_changes: Arc::new(watch::channel(0).0),
        }
    }

    /// The container named `name` prints `line`, 1 ms after the line before it.
    pub fn push_log(&self, name: &str, stream: OutputStream, line: &str) {
        let source_ns = self.state.lock().last_log_ns + LOG_LINE_STEP_NS;
        self.push_log_at(name, source_ns, stream, line);
    }

    /// The container named `name` prints `line` at `source_ns`.
    pub fn push_log_at(&self, name: &str, source_ns: i64, stream: OutputStream, line: &str) {
        let mut state = self.state.lock();
        let id = Self::lookup(&mut state, name).map(|container| container.info.id.clone());
        let id = id.unwrap_or_else(|_| panic!("no fake container named {name}"));
        state.last_log_ns = state.last_log_ns.max(source_ns);
        let line = ContainerLogLine { source_ns, stream, line: line.as_bytes().to_vec(), lines_lost_before: false };
        state.logs.entry(id).or_default().push(line);
        drop(state);
        self.wake_log_streams();
    }

    /// The container named `name` now shows these counters to `container_stats_sample`.
    pub fn set_stats(&self, name: &str, sample: ContainerStatsSample) {
        let mut state = self.state.lock();
        let id = Self::lookup(&mut state, name).map(|container| container.info.id.clone());
        let id = id.unwrap_or_else(|_| panic!("no fake container named {name}"));
        state.stats.insert(id, sample);
    }

    /// Every open log stream fails, as when the connection to Docker breaks.
    pub fn break_log_streams(&self) {
        self.state.lock().log_breaks += 1;
        self.wake_log_streams();
    }

    /// The next `count` log streams opened while their container ran that find it stopped with
    /// lines still unread end there, as Docker's follow ends for a reader far behind a
    /// container that exits.
    pub fn end_log_streams_early(&self, count: u32) {
        self.state.lock().early_log_ends = count;
    }

    fn wake_log_streams(&self) {
        self.log_changes.send_modify(|changes| *changes += 1);
    }

    pub fn add_image(&self, image: &str) {
        self.state.lock().images.insert(image.to_string());
    }

    pub fn fail_pull(&self, image: &str, message: &str) {
        self.state.lock().pull_failures.insert(image.to_string(), message.to_string());
    }

    pub fn fail_create(&self, container_name: &str, message: &str) {
        self.state.lock().create_failures.insert(container_name.to_string(), message.to_string());
    }

    pub fn fail_start(&self, container_name: &str, message: &str) {
        self.state.lock().start_failures.insert(container_name.to_string(), message.to_string());
    }

    /// Makes every call fail as if Docker were down.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().unavailable = unavailable;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.state.lock().calls.clear();
    }

    pub fn containers(&self) -> Vec<FakeContainer> {
        self.state.lock().containers.values().cloned().collect()
    }

    /// The container with this Docker name, if it exists.
    pub fn container(&self, name: &str) -> Option<FakeContainer> {
        self.state.lock().containers.values().find(|container| container.info.name == name).cloned()
    }

    pub fn volumes(&self) -> BTreeSet<String> {
        self.state.lock().volumes.clone()
    }

    /// The main process of the container exits with `exit_code`.
    pub fn exit(&self, name: &str, exit_code: i32) {
        self.finish(name, exit_code, false);
    }

    /// The kernel kills the container for exceeding its memory limit.
    pub fn oom_kill(&self, name: &str) {
        self.finish(name, 137, true);
    }

    pub fn set_health(&self, name: &str, health: RuntimeHealth) {
        self.update(name, RuntimeEventKind::HealthChanged, |info| info.health = health);
    }

    fn finish(&self, name: &str, exit_code: i32, oom_killed: bool) {
        self.update(name, RuntimeEventKind::Died, |info| {
            info.state = ContainerRunState::Exited;
            info.exit_code = Some(exit_code);
            info.oom_killed = oom_killed;
        });
    }

    fn update(&self, name: &str, kind: RuntimeEventKind, change: impl FnOnce(&mut ContainerInfo)) {
        let mut state = self.state.lock();
        let container = state.containers.values_mut().find(|container| container.info.name == name);
        let container = container.unwrap_or_else(|| panic!("no fake container named {name}"));
        change(&mut container.info);
        let event = event(&container.info, kind);
        drop(state);
        self.wake_log_streams();
        let _ = self.events.send(event);
    }

    fn record(&self, call: Call) -> Result<(), RuntimeError> {
        let mut state = self.state.lock();
        state.calls.push(call);
        if state.unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "fake",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        Ok(())
    }

    fn lookup<'a>(state: &'a mut State, id_or_name: &str) -> Result<&'a mut FakeContainer, RuntimeError> {
        state
            .containers
            .values_mut()
            .find(|container| container.info.id == id_or_name || container.info.name == id_or_name)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "container".into(),
                message: format!("No such container: {id_or_name}"),
            })
    }
}

/// One open `container_logs` stream of the fake.
struct LogFollow {
    state: Arc<Mutex<State>>,
    changes: watch::Receiver<u64>,
    /// Empty once the stream failed: it then ends.
    id: String,
    breaks: u64,
    /// The container ran when the stream was opened (a follow, in Docker's terms).
    opened_running: bool,
}

fn event(info: &ContainerInfo, kind: RuntimeEventKind) -> RuntimeEvent {
    RuntimeEvent { container_id: info.id.clone(), labels: info.labels.clone(), kind }
}

#[async_trait]
impl ContainerRuntime for FakeRuntime {
    async fn host_info(&self) -> Result<HostInfo, RuntimeError> {
        let state = self.state.lock();
        if state.unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "info",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        Ok(state.host.clone())
    }

    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError> {
        self.record(Call::ImagePresent(image.to_string()))?;
        Ok(self.state.lock().images.contains(image))
    }

    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError> {
        self.record(Call::Pull(image.to_string()))?;
        let mut state = self.state.lock();
        if let Some(message) = state.pull_failures.get(image) {
            return Err(RuntimeError::Failed { operation: "pull", message: message.clone() });
        }
        state.images.insert(image.to_string());
        Ok(())
    }

    async fn create_volume(&self, request: &CreateVolumeRequest) -> Result<(), RuntimeError> {
        self.record(Call::CreateVolume(request.name.clone()))?;
        self.state.lock().volumes.insert(request.name.clone());
        Ok(())
    }

    async fn remove_volume(&self, name: &str) -> Result<(), RuntimeError> {
        self.record(Call::RemoveVolume(name.to_string()))?;
        self.state.lock().volumes.remove(name);
        Ok(())
    }

    async fn create_container(&self, request: &CreateContainerRequest) -> Result<String, RuntimeError> {
        self.record(Call::Create(request.name.clone()))?;
        let mut state = self.state.lock();
        if let Some(message) = state.create_failures.get(&request.name) {
            return Err(RuntimeError::Failed { operation: "create", message: message.clone() });
        }
        if !state.images.contains(&request.image) {
            return Err(RuntimeError::NotFound {
                what: "image".into(),
                message: format!("No such image: {}", request.image),
            });
        }
        if state.containers.values().any(|container| container.info.name == request.name) {
            return Err(RuntimeError::NameConflict { name: request.name.clone() });
        }
        state.next_id += 1;
        let id = format!("{:064x}", state.next_id);
        for mount in &request.mounts {
            if let crate::runtime::MountSource::Volume(name) = &mount.source {
                state.volumes.insert(name.clone());
            }
        }
        let info = ContainerInfo {
            id: id.clone(),
            name: request.name.clone(),
            labels: request.labels.clone(),
            state: ContainerRunState::Created,
            exit_code: None,
            oom_killed: false,
            error: None,
            health: if request.health_check.is_some() { RuntimeHealth::Starting } else { RuntimeHealth::None },
            network_bindings: Vec::new(),
            image_digest: None,
        };
        state.containers.insert(id.clone(), FakeContainer { request: request.clone(), info });
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> Result<(), RuntimeError> {
        self.record(Call::Start(id.to_string()))?;
        let mut state = self.state.lock();
        let mut next_port = state.next_port;
        let name = Self::lookup(&mut state, id)?.info.name.clone();
        if let Some(message) = state.start_failures.get(&name).cloned() {
            Self::lookup(&mut state, id)?.info.error = Some(message.clone());
            return Err(RuntimeError::Failed { operation: "start", message });
        }
        let container = Self::lookup(&mut state, id)?;
        if container.info.state == ContainerRunState::Running {
            return Ok(());
        }
        container.info.state = ContainerRunState::Running;
        if container.request.network_mode == NetworkMode::Bridge {
            container.info.network_bindings = container
                .request
                .port_bindings
                .iter()
                .map(|binding| NetworkBinding {
                    bind_ip: "0.0.0.0".into(),
                    container_port: binding.container_port,
                    host_port: binding.host_port.unwrap_or_else(|| {
                        next_port += 1;
                        next_port
                    }),
                    protocol: binding.protocol,
                })
                .collect();
        }
        let event = event(&container.info, RuntimeEventKind::Started);
        state.next_port = next_port;
        drop(state);
        let _ = self.events.send(event);
        Ok(())
    }

    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        self.record(Call::Stop(id.to_string(), timeout))?;
        let mut state = self.state.lock();
        let container = Self::lookup(&mut state, id)?;
        if container.info.state != ContainerRunState::Running {
            return Ok(());
        }
        // The process takes SIGTERM and exits as a shell does: 128 + 15.
        container.info.state = ContainerRunState::Exited;
        container.info.exit_code = Some(143);
        let event = event(&container.info, RuntimeEventKind::Died);
        drop(state);
        self.wake_log_streams();
        let _ = self.events.send(event);
        Ok(())
    }

    async fn inspect_container(&self, id_or_name: &str) -> Result<ContainerInfo, RuntimeError> {
        let mut state = self.state.lock();
        if state.unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "inspect",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        Ok(Self::lookup(&mut state, id_or_name)?.info.clone())
    }

    async fn list_containers(&self, label: &str, value: &str) -> Result<Vec<String>, RuntimeError> {
        let state = self.state.lock();
        if state.unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "list",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        Ok(state
            .containers
            .values()
            .filter(|container| container.info.labels.get(label).map(String::as_str) == Some(value))
            .map(|container| container.info.id.clone())
            .collect())
    }

    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError> {
        self.record(Call::Remove(id.to_string()))?;
        let mut state = self.state.lock();
        let Ok(container) = Self::lookup(&mut state, id) else {
            return Ok(());
        };
        if container.info.state == ContainerRunState::Running {
            return Err(RuntimeError::Failed {
                operation: "remove",
                message: "cannot remove a running container".into(),
            });
        }
        let id = container.info.id.clone();
        let removed = state.containers.remove(&id);
        state.logs.remove(&id);
        drop(state);
        self.wake_log_streams();
        if let Some(removed) = removed {
            let _ = self.events.send(event(&removed.info, RuntimeEventKind::Destroyed));
        }
        Ok(())
    }

    /// Counters set with `set_stats` (zeros until then); a missing container is not found.
    async fn container_stats_sample(&self, id: &str) -> Result<ContainerStatsSample, RuntimeError> {
        let mut state = self.state.lock();
        if state.unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "stats",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        let id = Self::lookup(&mut state, id)?.info.id.clone();
        Ok(state.stats.get(&id).copied().unwrap_or_default())
    }

    async fn container_logs(&self, id: &str, since_ns: Option<i64>) -> Result<LogLineStream, RuntimeError> {
        self.record(Call::Logs(id.to_string(), since_ns))?;
        let (id, breaks, opened_running) = {
            let mut state = self.state.lock();
            let info = &Self::lookup(&mut state, id)?.info;
            let running = matches!(info.state, ContainerRunState::Created | ContainerRunState::Running);
            (info.id.clone(), state.log_breaks, running)
        };
        // Like Docker, the fake honours `since` only to the second.
        let from_ns = since_ns.map_or(i64::MIN, |since| since.div_euclid(1_000_000_000) * 1_000_000_000);
        let follow = LogFollow {
            state: Arc::clone(&self.state),
            changes: self.log_changes.subscribe(),
            id,
            breaks,
            opened_running,
        };
        let stream = futures_util::stream::unfold((follow, 0usize), move |(mut follow, mut index)| async move {
            loop {
                follow.changes.borrow_and_update();
                {
                    let shared = Arc::clone(&follow.state);
                    let state = shared.lock();
                    if state.log_breaks != follow.breaks {
                        let error =
                            RuntimeError::Unavailable { operation: "logs", message: "log stream broken".into() };
                        // Fail once, then end.
                        follow.breaks = state.log_breaks;
                        drop(state);
                        follow.id.clear();
                        return Some((Err(error), (follow, index)));
                    }
                    let running = state.containers.get(&follow.id).is_some_and(|container| {
                        matches!(container.info.state, ContainerRunState::Created | ContainerRunState::Running)
                    });
                    let lines = state.logs.get(&follow.id).map(Vec::as_slice).unwrap_or_default();
                    if follow.opened_running && !running && index < lines.len() && state.early_log_ends > 0 {
                        drop(state);
                        shared.lock().early_log_ends -= 1;
                        return None;
                    }
                    while let Some(line) = lines.get(index) {
                        index += 1;
                        if line.source_ns >= from_ns {
                            return Some((Ok(line.clone()), (follow, index)));
                        }
                    }
                    if !running {
                        return None;
                    }
                }
                if follow.changes.changed().await.is_err() {
                    return None;
                }
            }
        });
        Ok(Box::pin(stream))
    }

    async fn events(&self, label: &str, value: &str) -> Result<RuntimeEventStream, RuntimeError> {
        if self.state.lock().unavailable {
            return Err(RuntimeError::Unavailable {
                operation: "events",
                message: "Cannot connect to the Docker daemon".into(),
            });
        }
        let receiver = self.events.subscribe();
        let (label, value) = (label.to_string(), value.to_string());
        let stream = futures_util::stream::unfold(receiver, move |mut receiver| {
            let (label, value) = (label.clone(), value.clone());
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if event.labels.get(&label) == Some(&value) => return Some((Ok(event), receiver)),
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            let error =
                                RuntimeError::Failed { operation: "events", message: "event stream lagged".into() };
                            return Some((Err(error), receiver));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
