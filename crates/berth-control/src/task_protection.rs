//! Task scale-in protection (UpdateTaskProtection, GetTaskProtection), kept on the task record
//! as the instant protection ends (`TaskRecord::protected_until`).
//!
//! Invariant: only a task of a service that is still desired RUNNING can be protected; any
//! other known task is a `TASK_NOT_VALID` failure and an unknown one `MISSING`, and neither
//! changes anything. Protection is enabled exactly while `protected_until` lies in the future,
//! so expiry needs no write: the service planner compares it with its own clock and wakes
//! when it passes. Disabling clears the instant. Not here: what protection holds back (the
//! planner's `protection`), the wire shapes and limits (`berth-api`).

use crate::clusters::active_cluster;
use crate::state::{Change, State};
use crate::{ControlPlane, ControlResult};
use berth_types::records::TaskRecord;
use berth_types::{ClusterName, DesiredStatus, TaskId, Timestamp};
use std::time::Duration;

/// ECS's default protection period when `expiresInMinutes` is not given.
pub const DEFAULT_PROTECTION: Duration = Duration::from_secs(120 * 60);

/// One task's protection as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskProtectionState {
    pub task: TaskId,
    pub enabled: bool,
    /// When protection ends; `None` when it is not enabled.
    pub expires_at: Option<Timestamp>,
}

/// Why a task named in a request got no protection answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectionFailureReason {
    /// No such task in the cluster (`MISSING`).
    Missing,
    /// The task is not part of a service, or is stopping (`TASK_NOT_VALID`).
    NotAServiceTask,
    Stopping,
}

impl ProtectionFailureReason {
    pub fn reason(self) -> &'static str {
        match self {
            ProtectionFailureReason::Missing => "MISSING",
            ProtectionFailureReason::NotAServiceTask | ProtectionFailureReason::Stopping => "TASK_NOT_VALID",
        }
    }

    pub fn detail(self) -> Option<&'static str> {
        match self {
            ProtectionFailureReason::Missing => None,
            ProtectionFailureReason::NotAServiceTask => Some("The task is not part of a service."),
            ProtectionFailureReason::Stopping => Some("The task is stopping or stopped."),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectionAnswer {
    pub protected_tasks: Vec<TaskProtectionState>,
    pub failures: Vec<(TaskId, ProtectionFailureReason)>,
}

/// What an UpdateTaskProtection asks: protect for this long, or (`None`) disable.
pub type ProtectionRequest = Option<Duration>;

fn validity(task: &TaskRecord) -> Result<(), ProtectionFailureReason> {
    let in_service = task.group.starts_with("service:") && task.started_by.is_some();
    if !in_service {
        return Err(ProtectionFailureReason::NotAServiceTask);
    }
    if task.desired_status == DesiredStatus::Stopped {
        return Err(ProtectionFailureReason::Stopping);
    }
    Ok(())
}

fn state_of(task: &TaskRecord, now: Timestamp) -> TaskProtectionState {
    let expires_at = task.protected_until.filter(|until| *until > now);
    TaskProtectionState { task: task.id.clone(), enabled: expires_at.is_some(), expires_at }
}

fn find<'a>(state: &'a State, cluster: &ClusterName, id: &TaskId) -> Result<&'a TaskRecord, ProtectionFailureReason> {
    let task = state.tasks.get(id).filter(|task| &task.cluster == cluster).ok_or(ProtectionFailureReason::Missing)?;
    validity(task)?;
    Ok(task)
}

impl ControlPlane {
    /// Sets or clears the protection of `tasks`; each valid task's new state is answered, the
    /// others are failures.
    pub async fn update_task_protection(
        &self,
        cluster: &ClusterName,
        tasks: &[TaskId],
        request: ProtectionRequest,
    ) -> ControlResult<ProtectionAnswer> {
        let now = Timestamp::now();
        self.mutate(|state| {
            active_cluster(state, cluster)?;
            let mut answer = ProtectionAnswer::default();
            let mut changes = Vec::new();
            for id in tasks {
                match find(state, cluster, id) {
                    Ok(task) => {
                        let mut record = task.clone();
                        record.protected_until = request.map(|period| now.plus(period));
                        answer.protected_tasks.push(state_of(&record, now));
                        if record.protected_until != task.protected_until {
                            changes.push(Change::PutTask(record));
                        }
                    }
                    Err(reason) => answer.failures.push((id.clone(), reason)),
                }
            }
            Ok((changes, answer))
        })
        .await
    }

    /// The protection of `tasks`, or (`None`) of every protected task of the cluster.
    pub fn get_task_protection(
        &self,
        cluster: &ClusterName,
        tasks: Option<&[TaskId]>,
    ) -> ControlResult<ProtectionAnswer> {
        let now = Timestamp::now();
        let state = self.read();
        active_cluster(&state, cluster)?;
        let mut answer = ProtectionAnswer::default();
        match tasks {
            Some(ids) => {
                for id in ids {
                    match find(&state, cluster, id) {
                        Ok(task) => answer.protected_tasks.push(state_of(task, now)),
                        Err(reason) => answer.failures.push((id.clone(), reason)),
                    }
                }
            }
            None => {
                answer.protected_tasks = state
                    .tasks
                    .values()
                    .filter(|task| &task.cluster == cluster && validity(task).is_ok())
                    .map(|task| state_of(task, now))
                    .filter(|protection| protection.enabled)
                    .collect();
            }
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster_with_instance, control_plane, name, run_web};

    #[tokio::test]
    async fn only_service_tasks_are_protected_and_disabling_clears_it() {
        let control = control_plane();
        cluster_with_instance(&control, "prod", 4096, 4096).await;
        let standalone = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks[0].id.clone();
        let mut as_service = run_web("prod", 1, None);
        as_service.started_by = Some("ecs-svc/1234567890123456789".to_string());
        as_service.group = Some("service:web".to_string());
        let service_task = control.launch_tasks(as_service).await.unwrap().tasks[0].id.clone();
        let unknown = TaskId::generate();
        let cluster = name("prod");

        let ids = [service_task.clone(), standalone.clone(), unknown.clone()];
        let answer = control.update_task_protection(&cluster, &ids, Some(Duration::from_secs(60))).await.unwrap();
        assert_eq!(answer.protected_tasks.len(), 1);
        let protection = &answer.protected_tasks[0];
        assert_eq!((&protection.task, protection.enabled), (&service_task, true));
        let expires = protection.expires_at.unwrap();
        assert!(expires > Timestamp::now().plus(Duration::from_secs(50)));
        assert_eq!(
            answer.failures,
            vec![
                (standalone.clone(), ProtectionFailureReason::NotAServiceTask),
                (unknown, ProtectionFailureReason::Missing)
            ]
        );
        assert_eq!(control.read().tasks[&standalone].protected_until, None, "a failure changes nothing");

        let listed = control.get_task_protection(&cluster, None).unwrap();
        assert_eq!(listed.protected_tasks, answer.protected_tasks);

        let disabled =
            control.update_task_protection(&cluster, std::slice::from_ref(&service_task), None).await.unwrap();
        assert_eq!(
            disabled.protected_tasks,
            vec![TaskProtectionState { task: service_task.clone(), enabled: false, expires_at: None }]
        );
        let got = control.get_task_protection(&cluster, Some(&[service_task])).unwrap();
        assert!(!got.protected_tasks[0].enabled);
        assert!(control.get_task_protection(&cluster, None).unwrap().protected_tasks.is_empty());
    }

    #[tokio::test]
    async fn protection_survives_a_restart() {
        let store = std::sync::Arc::new(berth_store::MemoryStore::default());
        let control = ControlPlane::open(crate::ControlConfig::default(), store.clone()).unwrap();
        cluster_with_instance(&control, "prod", 4096, 4096).await;
        let mut as_service = run_web("prod", 1, None);
        as_service.started_by = Some("ecs-svc/1234567890123456789".to_string());
        as_service.group = Some("service:web".to_string());
        let task = control.launch_tasks(as_service).await.unwrap().tasks[0].id.clone();
        let ids = [task.clone()];
        let before = control
            .update_task_protection(&name("prod"), &ids, Some(DEFAULT_PROTECTION))
            .await
            .unwrap()
            .protected_tasks;
        drop(control);

        let reopened = ControlPlane::open(crate::ControlConfig::default(), store).unwrap();
        let after = reopened.get_task_protection(&name("prod"), Some(&ids)).unwrap();
        assert_eq!(after.protected_tasks, before);
        assert!(after.protected_tasks[0].enabled);
    }

    #[tokio::test]
    async fn an_unknown_cluster_is_refused() {
        let control = control_plane();
        let outcome = control.update_task_protection(&name("nowhere"), &[TaskId::generate()], None).await;
        assert!(matches!(outcome, Err(crate::ControlError::ClusterNotFound)));
    }
}
