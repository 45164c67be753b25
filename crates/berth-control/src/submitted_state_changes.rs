//! The ECS agent's own reporting calls (SubmitTaskStateChange, SubmitContainerStateChange) and
//! UpdateContainerAgent, for agents that speak the ECS API instead of Berth's agent protocol.
//!
//! Invariant: a submitted change is turned into the same `TaskReport` Berth's agents send and
//! merged by the one report merge (`agents::merge_report`), so the same rules hold: resending
//! is harmless, `lastStatus` never moves backwards and `version` grows only on a visible change.
//! What a submission leaves out keeps its recorded value.

use crate::agents::merge_report;
use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_agent_protocol::TaskReport;
use berth_types::records::{ContainerState, NetworkBinding, TaskRecord};
use berth_types::{
    Arn, ClusterName, ContainerInstanceId, ContainerInstanceStatus, TaskId, TaskStatus, TaskStopCode, Timestamp,
};

/// One container's reported state; absent members are left as recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmittedContainerChange {
    pub name: String,
    pub runtime_id: Option<String>,
    pub image_digest: Option<String>,
    pub status: Option<TaskStatus>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub network_bindings: Option<Vec<NetworkBinding>>,
}

/// A task's reported state; absent members are left as recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmittedTaskChange {
    pub status: Option<TaskStatus>,
    pub reason: Option<String>,
    pub containers: Vec<SubmittedContainerChange>,
    pub pull_started_at: Option<Timestamp>,
    pub pull_stopped_at: Option<Timestamp>,
    pub execution_stopped_at: Option<Timestamp>,
}

/// Why UpdateContainerAgent cannot update an instance's agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentUpdateRefusal {
    /// The agent reported its version and it is current (Berth agents update with the binary).
    NoUpdateAvailable,
    /// The instance reported no agent version, so there is nothing to compare against.
    MissingVersion,
}

impl ControlPlane {
    /// Merges a SubmitTaskStateChange (or, with only `containers`, a
    /// SubmitContainerStateChange) into the task. An unknown cluster or task is refused; a
    /// container the task does not have is refused and changes nothing.
    pub async fn submit_task_state_change(
        &self,
        cluster: &ClusterName,
        task_id: &TaskId,
        change: SubmittedTaskChange,
    ) -> ControlResult<()> {
        let instance = self
            .mutate(|state| {
                active_cluster(state, cluster)?;
                let task = submitted_task(state, cluster, task_id)?;
                let report = task_report(self, task, change)?;
                let instance = task.container_instance.clone();
                let changes = merge_report(task, report).map(Change::PutTask).into_iter().collect();
                Ok((changes, instance))
            })
            .await?;
        // A report is a sign of life from the instance's agent, as it is on Berth's channel.
        self.record_agent_contact(&instance);
        Ok(())
    }

    /// SubmitAttachmentStateChanges: Berth gives tasks no attachments (no awsvpc ENIs), so
    /// every attachment ARN names nothing and the call is refused, changing nothing.
    pub fn submit_attachment_state_changes(
        &self,
        cluster: &ClusterName,
        attachment_arns: &[String],
    ) -> ControlResult<()> {
        active_cluster(&self.read(), cluster)?;
        match attachment_arns.first() {
            None => Ok(()),
            Some(arn) => Err(ControlError::InvalidParameter(format!(
                "attachments[0].attachmentArn: {arn:?} names no attachment; Berth tasks have none (awsvpc networking is not supported)."
            ))),
        }
    }

    /// UpdateContainerAgent: Berth agents are updated by replacing the binary, so ECS's
    /// answer for an agent that is already current is the only one there is.
    pub fn update_container_agent(
        &self,
        cluster: &ClusterName,
        instance: &ContainerInstanceId,
    ) -> ControlResult<AgentUpdateRefusal> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let record = state
            .instances
            .get(instance)
            .filter(|record| &record.cluster == cluster && record.status != ContainerInstanceStatus::Inactive)
            .ok_or_else(|| ControlError::InvalidParameter("containerInstance: Container instance not found.".into()))?;
        Ok(match record.version_info.agent_version {
            Some(_) => AgentUpdateRefusal::NoUpdateAvailable,
            None => AgentUpdateRefusal::MissingVersion,
        })
    }
}

fn submitted_task<'a>(state: &'a State, cluster: &ClusterName, id: &TaskId) -> ControlResult<&'a TaskRecord> {
    state
        .tasks
        .get(id)
        .filter(|task| &task.cluster == cluster)
        .ok_or_else(|| ControlError::InvalidParameter("task: The referenced task was not found.".to_string()))
}

/// The report Berth's own agent would have sent for this submission.
fn task_report(control: &ControlPlane, task: &TaskRecord, change: SubmittedTaskChange) -> ControlResult<TaskReport> {
    let mut containers = Vec::with_capacity(change.containers.len());
    for submitted in change.containers {
        let Some(recorded) = task.containers.iter().find(|container| container.name == submitted.name) else {
            return Err(ControlError::InvalidParameter(format!(
                "containerName: the task has no container named {:?}.",
                submitted.name
            )));
        };
        containers.push(overlay(recorded, submitted));
    }
    let status = change.status.unwrap_or(task.last_status);
    let stopped = status == TaskStatus::Stopped;
    Ok(TaskReport {
        task_arn: Arn::Task(task.cluster.clone(), task.id.clone()).render(control.arn_context()),
        last_status: status,
        containers,
        pull_started_at: change.pull_started_at,
        pull_stopped_at: change.pull_stopped_at,
        started_at: (status == TaskStatus::Running).then(Timestamp::now),
        execution_stopped_at: change.execution_stopped_at,
        // The agent stopping a task on its own means its essential container exited; a user's
        // or scheduler's stop already carries its code, which the merge keeps.
        stop_code: stopped.then_some(TaskStopCode::EssentialContainerExited),
        stopped_reason: change.reason.filter(|_| stopped),
    })
}

/// The recorded container with the submitted members laid over it.
fn overlay(recorded: &ContainerState, submitted: SubmittedContainerChange) -> ContainerState {
    let mut container = recorded.clone();
    if let Some(status) = submitted.status {
        container.last_status = status;
    }
    if submitted.runtime_id.is_some() {
        container.runtime_id = submitted.runtime_id;
    }
    if submitted.image_digest.is_some() {
        container.image_digest = submitted.image_digest;
    }
    if submitted.exit_code.is_some() {
        container.exit_code = submitted.exit_code;
    }
    if submitted.reason.is_some() {
        container.reason = submitted.reason;
    }
    if let Some(bindings) = submitted.network_bindings {
        container.network_bindings = bindings;
    }
    container
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster_with_instance, control_plane, name, run_web};
    use berth_types::{DesiredStatus, PortProtocol};

    fn described(control: &ControlPlane, id: &TaskId) -> TaskRecord {
        control.with_described_tasks(&name("prod"), std::slice::from_ref(id), |found, _| found[0].clone()).unwrap()
    }

    fn container(status: TaskStatus) -> SubmittedContainerChange {
        SubmittedContainerChange { name: "web".into(), status: Some(status), ..Default::default() }
    }

    #[tokio::test]
    async fn submissions_merge_like_agent_reports() {
        let control = control_plane();
        cluster_with_instance(&control, "prod", 1024, 1024).await;
        let task = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks.remove(0);
        let running = SubmittedTaskChange {
            status: Some(TaskStatus::Running),
            containers: vec![SubmittedContainerChange {
                runtime_id: Some("c0ffee".into()),
                network_bindings: Some(vec![NetworkBinding {
                    bind_ip: "0.0.0.0".into(),
                    container_port: 80,
                    host_port: 32768,
                    protocol: PortProtocol::Tcp,
                }]),
                ..container(TaskStatus::Running)
            }],
            pull_started_at: Some(Timestamp(1_000)),
            pull_stopped_at: Some(Timestamp(2_000)),
            ..Default::default()
        };
        control.submit_task_state_change(&name("prod"), &task.id, running.clone()).await.unwrap();
        let after_running = described(&control, &task.id);
        assert_eq!(after_running.last_status, TaskStatus::Running);
        assert!(after_running.started_at.is_some());
        assert_eq!(after_running.pull_stopped_at, Some(Timestamp(2_000)));
        assert_eq!(after_running.containers[0].network_bindings[0].host_port, 32768);

        // Resent, or older, it changes nothing at all.
        control.submit_task_state_change(&name("prod"), &task.id, running).await.unwrap();
        let backwards = SubmittedTaskChange { status: Some(TaskStatus::Pending), ..Default::default() };
        control.submit_task_state_change(&name("prod"), &task.id, backwards).await.unwrap();
        assert_eq!(described(&control, &task.id), after_running);

        // A container change alone keeps what it does not mention.
        let exited = SubmittedContainerChange { exit_code: Some(7), ..container(TaskStatus::Stopped) };
        let only_container = SubmittedTaskChange { containers: vec![exited], ..Default::default() };
        control.submit_task_state_change(&name("prod"), &task.id, only_container).await.unwrap();
        let after_exit = described(&control, &task.id);
        assert_eq!(after_exit.last_status, TaskStatus::Running);
        assert_eq!(after_exit.containers[0].exit_code, Some(7));
        assert_eq!(after_exit.containers[0].runtime_id.as_deref(), Some("c0ffee"));
        assert_eq!(after_exit.version, after_running.version + 1);

        let stopped = SubmittedTaskChange {
            status: Some(TaskStatus::Stopped),
            reason: Some("Essential container in task exited".into()),
            ..Default::default()
        };
        control.submit_task_state_change(&name("prod"), &task.id, stopped).await.unwrap();
        let after_stop = described(&control, &task.id);
        assert_eq!((after_stop.last_status, after_stop.desired_status), (TaskStatus::Stopped, DesiredStatus::Stopped));
        assert_eq!(after_stop.stop_code, Some(TaskStopCode::EssentialContainerExited));
        assert!(after_stop.stopped_at.is_some() && after_stop.execution_stopped_at.is_some());
    }

    #[tokio::test]
    async fn unknown_tasks_and_containers_are_refused() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 1024, 1024).await;
        let task = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks.remove(0);
        let stranger = SubmittedTaskChange {
            containers: vec![SubmittedContainerChange { name: "nope".into(), ..Default::default() }],
            ..Default::default()
        };
        let refused = control.submit_task_state_change(&name("prod"), &task.id, stranger).await.unwrap_err();
        assert!(matches!(refused, ControlError::InvalidParameter(message) if message.contains("containerName")));
        let unknown = control.submit_task_state_change(&name("prod"), &TaskId::generate(), Default::default()).await;
        assert!(matches!(unknown, Err(ControlError::InvalidParameter(_))));
        let no_cluster = control.submit_task_state_change(&name("elsewhere"), &task.id, Default::default()).await;
        assert!(matches!(no_cluster, Err(ControlError::ClusterNotFound)));
        assert_eq!(described(&control, &task.id).version, task.version, "refusals change nothing");

        let update = control.update_container_agent(&name("prod"), &instance.record.id);
        assert!(update.is_ok());
    }
}
