//! ECS Exec sessions as durable records: ExecuteCommand's checks (the task runs, was launched
//! with `enableExecuteCommand`, its agent is connected, the container is unambiguous and
//! running), the record of who ran what where, and its end (exit code, failure or expiry).
//!
//! Invariant: a session is recorded durably before its token is handed out, and a record only
//! moves from `Pending` to one final status, once; the operator's listing reads these records.
//!
//! Not here: tokens and the streams themselves (in memory only, at the edge: `berth-api`'s
//! `exec`), Docker (the agent).

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::Change;
use crate::ControlPlane;
use berth_types::{ClusterName, ContainerInstanceId, TaskId, TaskStatus, Timestamp};
use serde::{Deserialize, Serialize};

/// ECS's words for a task launched without `enableExecuteCommand`.
pub const NOT_ENABLED_MESSAGE: &str = "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try the command again.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecSessionStatus {
    /// Handed out, the command not finished (or not started) yet.
    Pending,
    /// The command ran and exited with `exit_code`.
    Exited,
    /// The session broke (agent or client gone, Docker refused); see `reason`.
    Failed,
    /// Nobody attached with the token in time.
    Expired,
}

impl ExecSessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecSessionStatus::Pending => "PENDING",
            ExecSessionStatus::Exited => "EXITED",
            ExecSessionStatus::Failed => "FAILED",
            ExecSessionStatus::Expired => "EXPIRED",
        }
    }
}

/// One ExecuteCommand: who, where, what, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecSessionRecord {
    pub id: String,
    pub cluster: ClusterName,
    pub task: TaskId,
    pub container_instance: ContainerInstanceId,
    pub container_name: String,
    /// The Docker container the agent execs into.
    pub container_runtime_id: String,
    /// The command as the caller gave it (one string, as ECS takes it).
    pub command: String,
    pub interactive: bool,
    /// The caller's access key ID, or `anonymous`.
    pub principal: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub status: ExecSessionStatus,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

/// A validated ExecuteCommand.
#[derive(Debug, Clone)]
pub struct BeginExecSession {
    pub cluster: ClusterName,
    pub task: TaskId,
    pub container: Option<String>,
    pub command: String,
    pub interactive: bool,
    pub principal: String,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecSessionEnd {
    Exited(i64),
    Failed(String),
    Expired,
}

/// Session IDs look like ECS's (`ecs-execute-command-…`) and sort by creation time.
fn new_session_id() -> String {
    let stamp = Timestamp::now().0;
    let random: [u8; 6] = rand::random();
    let random: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("ecs-execute-command-{stamp:013x}{random}")
}

impl ControlPlane {
    /// Checks an ExecuteCommand against the task and records the session durably.
    pub async fn begin_exec_session(&self, request: BeginExecSession) -> ControlResult<ExecSessionRecord> {
        let connected = |instance: &ContainerInstanceId| self.agent_connected(instance);
        self.mutate(|state| {
            active_cluster(state, &request.cluster)?;
            let task = state
                .tasks
                .get(&request.task)
                .filter(|task| task.cluster == request.cluster)
                .ok_or_else(|| ControlError::InvalidParameter("The specified task was not found.".to_string()))?;
            if !task.enable_execute_command {
                return Err(ControlError::InvalidParameter(NOT_ENABLED_MESSAGE.to_string()));
            }
            if task.last_status != TaskStatus::Running || task.desired_status != berth_types::DesiredStatus::Running {
                return Err(ControlError::TargetNotConnected(format!(
                    "The execute command failed because the task is {}, not RUNNING.",
                    task.last_status.as_str()
                )));
            }
            let container = match &request.container {
                Some(name) => task.containers.iter().find(|container| &container.name == name).ok_or_else(|| {
                    ControlError::InvalidParameter(format!("container: the task has no container named {name:?}."))
                })?,
                None if task.containers.len() == 1 => &task.containers[0],
                None => {
                    return Err(ControlError::InvalidParameter(
                        "container: the task has more than one container; name the one to run the command in."
                            .to_string(),
                    ))
                }
            };
            let runtime_id = container.runtime_id.clone().filter(|_| container.last_status == TaskStatus::Running);
            let Some(runtime_id) = runtime_id else {
                return Err(ControlError::TargetNotConnected(format!(
                    "The execute command failed because container {} is not running.",
                    container.name
                )));
            };
            if !connected(&task.container_instance) {
                return Err(ControlError::TargetNotConnected(
                    "The execute command failed because the agent of the task's container instance is not connected."
                        .to_string(),
                ));
            }
            let record = ExecSessionRecord {
                id: new_session_id(),
                cluster: request.cluster.clone(),
                task: task.id.clone(),
                container_instance: task.container_instance.clone(),
                container_name: container.name.clone(),
                container_runtime_id: runtime_id,
                command: request.command.clone(),
                interactive: request.interactive,
                principal: request.principal.clone(),
                started_at: Timestamp::now(),
                ended_at: None,
                status: ExecSessionStatus::Pending,
                exit_code: None,
                reason: None,
            };
            Ok((vec![Change::PutExecSession(Box::new(record.clone()))], record))
        })
        .await
    }

    /// Records how a session ended; a session that has already ended keeps its first ending.
    pub async fn end_exec_session(&self, id: &str, end: ExecSessionEnd) -> ControlResult<()> {
        self.mutate(|state| {
            let Some(existing) = state.exec_sessions.get(id).filter(|record| record.ended_at.is_none()) else {
                return Ok((vec![], ()));
            };
            let mut record = existing.clone();
            record.ended_at = Some(Timestamp::now());
            match end {
                ExecSessionEnd::Exited(code) => {
                    record.status = ExecSessionStatus::Exited;
                    record.exit_code = Some(code);
                }
                ExecSessionEnd::Failed(reason) => {
                    record.status = ExecSessionStatus::Failed;
                    record.reason = Some(reason);
                }
                ExecSessionEnd::Expired => {
                    record.status = ExecSessionStatus::Expired;
                    record.reason = Some("nobody attached to the session in time".to_string());
                }
            }
            Ok((vec![Change::PutExecSession(Box::new(record))], ()))
        })
        .await
    }

    /// At start-up: sessions a previous run left open are over (their streams and tokens lived
    /// in that process's memory), so they are recorded as failed rather than left pending.
    pub async fn end_interrupted_exec_sessions(&self) -> ControlResult<usize> {
        self.mutate(|state| {
            let now = Timestamp::now();
            let changes: Vec<Change> = state
                .exec_sessions
                .values()
                .filter(|record| record.ended_at.is_none())
                .map(|record| {
                    let mut record = record.clone();
                    record.ended_at = Some(now);
                    record.status = ExecSessionStatus::Failed;
                    record.reason = Some("the server restarted while the session was open".to_string());
                    Change::PutExecSession(Box::new(record))
                })
                .collect();
            let count = changes.len();
            Ok((changes, count))
        })
        .await
    }

    /// Every recorded session, oldest first.
    pub fn list_exec_sessions(&self) -> Vec<ExecSessionRecord> {
        self.read().exec_sessions.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster_with_instance, control_plane, name, run_web};
    use crate::ControlConfig;
    use berth_agent_protocol::{StateReport, TaskReport};
    use berth_store::EmbeddedStore;
    use std::sync::Arc;

    async fn running_task(control: &ControlPlane, enable: bool) -> TaskId {
        let instance = cluster_with_instance(control, "prod", 1024, 1024).await;
        let mut request = run_web("prod", 1, None);
        request.enable_execute_command = enable;
        let task = control.launch_tasks(request).await.unwrap().tasks.remove(0);
        let arn = berth_types::Arn::Task(name("prod"), task.id.clone()).render(control.arn_context());
        let mut container = berth_types::records::ContainerState::new("web", TaskStatus::Running);
        container.runtime_id = Some("docker-id".to_string());
        let report = StateReport {
            tasks: vec![TaskReport {
                task_arn: arn,
                last_status: TaskStatus::Running,
                containers: vec![container],
                pull_started_at: None,
                pull_stopped_at: None,
                started_at: Some(Timestamp::now()),
                execution_stopped_at: None,
                stop_code: None,
                stopped_reason: None,
            }],
        };
        control.apply_report(&name("prod"), &instance.record.id, report).await.unwrap().unwrap();
        task.id
    }

    fn begin(task: &TaskId) -> BeginExecSession {
        BeginExecSession {
            cluster: name("prod"),
            task: task.clone(),
            container: None,
            command: "sh".to_string(),
            interactive: true,
            principal: "AKIDEXAMPLE".to_string(),
        }
    }

    #[tokio::test]
    async fn a_task_run_without_the_flag_is_refused_with_ecs_words() {
        let control = control_plane();
        let task = running_task(&control, false).await;
        let error = control.begin_exec_session(begin(&task)).await.unwrap_err();
        assert!(matches!(&error, ControlError::InvalidParameter(message) if message == NOT_ENABLED_MESSAGE));
        assert!(control.list_exec_sessions().is_empty(), "a refused session is not recorded");
    }

    #[tokio::test]
    async fn sessions_are_recorded_and_end_once() {
        let control = control_plane();
        let task = running_task(&control, true).await;
        let unknown = BeginExecSession { container: Some("nope".to_string()), ..begin(&task) };
        assert!(matches!(control.begin_exec_session(unknown).await, Err(ControlError::InvalidParameter(_))));
        let session = control.begin_exec_session(begin(&task)).await.unwrap();
        assert_eq!((session.container_name.as_str(), session.container_runtime_id.as_str()), ("web", "docker-id"));
        control.end_exec_session(&session.id, ExecSessionEnd::Exited(3)).await.unwrap();
        control.end_exec_session(&session.id, ExecSessionEnd::Expired).await.unwrap();
        let listed = control.list_exec_sessions();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].status, listed[0].exit_code), (ExecSessionStatus::Exited, Some(3)));
        assert_eq!(listed[0].principal, "AKIDEXAMPLE");
    }

    #[tokio::test]
    async fn records_survive_a_restart_and_open_ones_end_as_interrupted() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("berth.redb");
        let (finished, open) = {
            let control =
                ControlPlane::open(ControlConfig::default(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
            let task = running_task(&control, true).await;
            let finished = control.begin_exec_session(begin(&task)).await.unwrap();
            control.end_exec_session(&finished.id, ExecSessionEnd::Exited(0)).await.unwrap();
            let open = control.begin_exec_session(begin(&task)).await.unwrap();
            (finished.id, open.id)
        };
        let reopened =
            ControlPlane::open(ControlConfig::default(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
        assert_eq!(reopened.end_interrupted_exec_sessions().await.unwrap(), 1);
        let listed = reopened.list_exec_sessions();
        let status_of = |id: &str| listed.iter().find(|record| record.id == id).map(|record| record.status);
        assert_eq!(status_of(&finished), Some(ExecSessionStatus::Exited));
        assert_eq!(status_of(&open), Some(ExecSessionStatus::Failed));
        assert_eq!(reopened.end_interrupted_exec_sessions().await.unwrap(), 0, "ended once");
    }
}
