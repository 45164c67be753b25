//! Service events, typed, and their sentences in ECS's own phrasing.
//!
//! Invariant: a message is a pure function of the event and the service name, so the control
//! plane can store the sentence and tests can compare it. Ordering newest-first and the cap
//! of 100 events belong to the control plane.

use crate::progress::DeploymentId;
use berth_types::{ContainerInstanceId, ServiceName, TaskId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceEvent {
    /// Tasks the plan asks to launch. Executors keep only the IDs actually placed.
    StartedTasks(Vec<TaskId>),
    StoppedRunningTasks(Vec<TaskId>),
    StoppedPendingTasks(Vec<TaskId>),
    TaskFailedHealthChecks(TaskId),
    /// A task's target failed its load balancer's health checks (the task is replaced).
    TargetUnhealthy(crate::model::UnhealthyTarget),
    SteadyState,
    UnableToPlace {
        reason: String,
    },
    DeploymentCompleted(DeploymentId),
    DeploymentFailed(DeploymentId),
    RollingBack {
        failed: DeploymentId,
        target: DeploymentId,
        rollback: DeploymentId,
    },
    UnableToConsistentlyStartTasks,
    /// Tasks asked to stop because their instance was lost; replacements start elsewhere.
    TasksOnLostInstance {
        instance: ContainerInstanceId,
        tasks: Vec<TaskId>,
    },
    /// Scale-in or a deployment wants to stop this many more tasks, but they are protected.
    UnableToScaleInProtected {
        protected: u32,
    },
    DeploymentStuck {
        deployment: DeploymentId,
        running: u32,
        minimum_running: u32,
        occupying: u32,
        maximum_occupying: u32,
    },
}

impl ServiceEvent {
    pub fn message(&self, service: &ServiceName) -> String {
        match self {
            ServiceEvent::StartedTasks(tasks) => {
                format!("(service {service}) has started {} tasks: {}.", tasks.len(), task_list(tasks))
            }
            ServiceEvent::StoppedRunningTasks(tasks) => format!(
                "(service {service}) has stopped {} running tasks: {}.",
                tasks.len(),
                task_list(tasks)
            ),
            ServiceEvent::StoppedPendingTasks(tasks) => format!(
                "(service {service}) has stopped {} pending tasks: {}.",
                tasks.len(),
                task_list(tasks)
            ),
            ServiceEvent::TaskFailedHealthChecks(task) => {
                format!("(service {service}) (task {task}) failed container health checks.")
            }
            // ECS's sentence, e.g. "(service web) (instance i-0ab) (port 32768) is unhealthy in
            // (target-group arn:…) due to (reason Health checks failed with these codes: [500])."
            ServiceEvent::TargetUnhealthy(target) => format!(
                "(service {service}) (instance {}) (port {}) is unhealthy in (target-group {}) due to (reason {}).",
                target.target_id, target.port, target.target_group_arn, target.reason
            ),
            ServiceEvent::SteadyState => format!("(service {service}) has reached a steady state."),
            ServiceEvent::UnableToPlace { reason } => format!(
                "(service {service}) was unable to place a task because no container instance met all of its requirements. {reason}"
            ),
            ServiceEvent::DeploymentCompleted(deployment) => {
                format!("(service {service}) (deployment {deployment}) deployment completed.")
            }
            ServiceEvent::DeploymentFailed(deployment) => format!(
                "(service {service}) (deployment {deployment}) deployment failed: tasks failed to start."
            ),
            ServiceEvent::RollingBack { failed, target, rollback } => format!(
                "(service {service}) (deployment {rollback}) rolling back to (deployment {target}) after (deployment {failed}) failed."
            ),
            ServiceEvent::UnableToConsistentlyStartTasks => {
                format!("(service {service}) is unable to consistently start tasks successfully.")
            }
            ServiceEvent::TasksOnLostInstance { instance, tasks } => format!(
                "(service {service}) (container-instance {instance}) was lost: its agent stopped reporting. The service stopped its {} tasks, which no longer count, and is replacing them: {}.",
                tasks.len(),
                task_list(tasks)
            ),
            ServiceEvent::UnableToScaleInProtected { protected } => format!(
                "(service {service}) was unable to scale in due to (reason: {protected} tasks were protected)."
            ),
            ServiceEvent::DeploymentStuck {
                deployment,
                running,
                minimum_running,
                occupying,
                maximum_occupying,
            } => format!(
                "(service {service}) (deployment {deployment}) cannot make progress: minimumHealthyPercent needs {minimum_running} RUNNING tasks and {running} are, so none can stop; maximumPercent allows {maximum_occupying} running or pending tasks and {occupying} are, so none can start."
            ),
        }
    }
}

fn task_list(tasks: &[TaskId]) -> String {
    tasks.iter().map(|task| format!("(task {task})")).collect::<Vec<_>>().join(" ")
}
