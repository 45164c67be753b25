//! What the agent knows about one task: its specification, what the server wants, and what the
//! runtime last showed for each container. `observe` folds an inspect into the state and
//! `report` renders the state as the server sees it. No I/O here.

use crate::runtime::{ContainerInfo, ContainerRunState, RuntimeHealth};
use berth_agent_protocol::TaskReport;
use berth_types::records::{ContainerState, NetworkBinding};
use berth_types::spec::{NetworkMode, TaskSpec};
use berth_types::{DesiredStatus, HealthStatus, TaskStatus, TaskStopCode, Timestamp};

/// The reason ECS gives an OOM-killed container.
pub const OUT_OF_MEMORY_REASON: &str = "OutOfMemoryError: Container killed due to memory usage";
/// The reason of a task whose essential container exited.
pub const ESSENTIAL_EXITED_REASON: &str = "Essential container in task exited";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContainerPhase {
    NotCreated,
    Created,
    Running,
    /// Ran and stopped, or will never run (the task stopped before starting it).
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerTrack {
    pub name: String,
    pub runtime_id: Option<String>,
    pub phase: ContainerPhase,
    /// Whether the container ever ran (a container stopped before it started has no exit).
    pub started: bool,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub network_bindings: Vec<NetworkBinding>,
    pub health: HealthStatus,
    pub image_digest: Option<String>,
}

impl ContainerTrack {
    pub fn new(name: &str) -> Self {
        ContainerTrack {
            name: name.to_string(),
            runtime_id: None,
            phase: ContainerPhase::NotCreated,
            started: false,
            exit_code: None,
            reason: None,
            network_bindings: Vec::new(),
            health: HealthStatus::Unknown,
            image_digest: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    pub task_arn: String,
    pub spec: TaskSpec,
    pub desired: DesiredStatus,
    /// The task's `lastStatus` as this agent reports it: PENDING, RUNNING, STOPPING, STOPPED.
    pub status: TaskStatus,
    /// One per container of the spec, in the spec's order.
    pub containers: Vec<ContainerTrack>,
    pub images_ready: bool,
    pub volumes_ready: bool,
    pub pull_started_at: Option<Timestamp>,
    pub pull_stopped_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub execution_stopped_at: Option<Timestamp>,
    /// Set when the agent decided the task stops (a failure or an essential exit).
    pub stop_code: Option<TaskStopCode>,
    pub stopped_reason: Option<String>,
    /// The server does not know the task: stop it, remove it at once and report nothing.
    pub purge: bool,
    pub cleaned_up: bool,
}

impl TaskState {
    pub fn new(task_arn: &str, spec: TaskSpec, desired: DesiredStatus) -> Self {
        let containers = spec.containers.iter().map(|container| ContainerTrack::new(&container.name)).collect();
        TaskState {
            task_arn: task_arn.to_string(),
            spec,
            desired,
            status: TaskStatus::Pending,
            containers,
            images_ready: false,
            volumes_ready: false,
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: None,
            execution_stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            purge: false,
            cleaned_up: false,
        }
    }

    /// Records that the agent stops the task for `reason`, unless a reason is already set:
    /// the first cause is the one ECS reports.
    pub fn fail(&mut self, stop_code: TaskStopCode, reason: String) {
        if self.stop_code.is_none() {
            self.stop_code = Some(stop_code);
            self.stopped_reason = Some(reason);
        }
    }

    /// Folds an inspect of container `index` into the state.
    pub fn observe(&mut self, index: usize, info: &ContainerInfo) {
        let host_mode_bindings = self.host_mode_bindings(index);
        let track = &mut self.containers[index];
        track.runtime_id = Some(info.id.clone());
        if info.image_digest.is_some() {
            track.image_digest = info.image_digest.clone();
        }
        track.health = match info.health {
            RuntimeHealth::Healthy => HealthStatus::Healthy,
            RuntimeHealth::Unhealthy => HealthStatus::Unhealthy,
            RuntimeHealth::None | RuntimeHealth::Starting => HealthStatus::Unknown,
        };
        match info.state {
            ContainerRunState::Created => {
                if track.phase < ContainerPhase::Created {
                    track.phase = ContainerPhase::Created;
                }
            }
            ContainerRunState::Running => {
                // A container never moves back from Stopped: the runtime may restart it by
                // hand, but ECS does not bring a stopped container back into its task.
                if track.phase != ContainerPhase::Stopped {
                    track.phase = ContainerPhase::Running;
                    track.started = true;
                    track.network_bindings = host_mode_bindings.unwrap_or_else(|| info.network_bindings.clone());
                }
            }
            ContainerRunState::Exited => {
                if track.phase != ContainerPhase::Stopped {
                    track.phase = ContainerPhase::Stopped;
                    track.started = true;
                    track.exit_code = info.exit_code;
                    if info.oom_killed {
                        track.exit_code = Some(info.exit_code.filter(|code| *code != 0).unwrap_or(137));
                        track.reason = Some(OUT_OF_MEMORY_REASON.to_string());
                    } else if track.reason.is_none() {
                        track.reason = info.error.clone().filter(|error| !error.is_empty());
                    }
                }
            }
        }
    }

    /// The container disappeared from the runtime (removed behind the agent's back).
    pub fn observe_missing(&mut self, index: usize) {
        let track = &mut self.containers[index];
        if track.phase != ContainerPhase::Stopped {
            track.phase = ContainerPhase::Stopped;
            if track.reason.is_none() {
                track.reason = Some("ContainerMissing: the container no longer exists on the host".to_string());
            }
        }
    }

    /// In host mode Docker reports no port bindings: the container ports are the host ports.
    fn host_mode_bindings(&self, index: usize) -> Option<Vec<NetworkBinding>> {
        (self.spec.network_mode == NetworkMode::Host).then(|| {
            self.spec.containers[index]
                .port_mappings
                .iter()
                .map(|mapping| NetworkBinding {
                    bind_ip: "0.0.0.0".to_string(),
                    container_port: mapping.container_port,
                    host_port: mapping.container_port,
                    protocol: mapping.protocol,
                })
                .collect()
        })
    }

    pub fn index_of_runtime_id(&self, runtime_id: &str) -> Option<usize> {
        self.containers.iter().position(|track| track.runtime_id.as_deref() == Some(runtime_id))
    }

    pub fn report(&self) -> TaskReport {
        TaskReport {
            task_arn: self.task_arn.clone(),
            last_status: self.status,
            containers: self
                .containers
                .iter()
                .map(|track| ContainerState {
                    name: track.name.clone(),
                    runtime_id: track.runtime_id.clone(),
                    last_status: match track.phase {
                        ContainerPhase::NotCreated | ContainerPhase::Created => TaskStatus::Pending,
                        ContainerPhase::Running => TaskStatus::Running,
                        ContainerPhase::Stopped => TaskStatus::Stopped,
                    },
                    exit_code: track.exit_code,
                    reason: track.reason.clone(),
                    network_bindings: track.network_bindings.clone(),
                    health_status: track.health,
                    image_digest: track.image_digest.clone(),
                })
                .collect(),
            pull_started_at: self.pull_started_at,
            pull_stopped_at: self.pull_stopped_at,
            started_at: self.started_at,
            execution_stopped_at: self.execution_stopped_at,
            stop_code: self.stop_code,
            stopped_reason: self.stopped_reason.clone(),
        }
    }
}
