//! What a hollow instance says about a desired document: every task that should run and has
//! not been recorded RUNNING is reported RUNNING (its "containers" start at once), every task
//! that should stop and has not been recorded STOPPED is reported STOPPED with exit code 0.
//! Pure: the instance loop does the sending.
//!
//! Deliberately not here: image pulls that take time, failing containers, network bindings
//! for port mappings, health checks. A hollow task does nothing, so it has nothing to report
//! but its lifecycle.

use berth_agent_protocol::{DesiredDocument, DesiredTask, TaskReport};
use berth_types::records::ContainerState;
use berth_types::{DesiredStatus, TaskStatus, Timestamp};

/// Reports that move the document's tasks to where their desired status points.
pub fn reports_for(document: &DesiredDocument, now: Timestamp) -> Vec<TaskReport> {
    document.tasks.iter().filter_map(|task| report_for(task, now)).collect()
}

fn report_for(task: &DesiredTask, now: Timestamp) -> Option<TaskReport> {
    let status = match task.desired_status {
        DesiredStatus::Running if task.last_status < TaskStatus::Running => TaskStatus::Running,
        DesiredStatus::Stopped if task.last_status < TaskStatus::Stopped => TaskStatus::Stopped,
        _ => return None,
    };
    let running = status == TaskStatus::Running;
    let stopped = status == TaskStatus::Stopped;
    let containers = task
        .spec
        .containers
        .iter()
        .map(|container| ContainerState {
            exit_code: stopped.then_some(0),
            ..ContainerState::new(container.name.clone(), status)
        })
        .collect();
    Some(TaskReport {
        task_arn: task.task_arn.clone(),
        last_status: status,
        containers,
        // The "pull" of a hollow task takes no time; fields left `None` keep what the server
        // has, so a stop report does not overwrite when the task started.
        pull_started_at: running.then_some(now),
        pull_stopped_at: running.then_some(now),
        started_at: running.then_some(now),
        execution_stopped_at: stopped.then_some(now),
        stop_code: None,
        stopped_reason: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with one single-container task per `(desired, last)` pair, built through
    /// serde so that fields added to the spec later need no change here.
    fn document(tasks: &[(&str, &str)]) -> DesiredDocument {
        let container = serde_json::json!({
            "name": "app", "image": "none", "cpu": 0, "memory": 8, "memory_reservation": null,
            "port_mappings": [], "essential": true, "entry_point": null, "command": null,
            "environment": [], "working_directory": null, "user": null, "docker_labels": {},
            "stop_timeout_seconds": null, "health_check": null, "depends_on": [], "mount_points": [],
            "ulimits": [], "readonly_root_filesystem": false, "init_process_enabled": false,
            "log_configuration": null,
        });
        let spec = serde_json::json!({
            "family": "web", "revision": 1, "network_mode": "Bridge", "cpu": null, "memory": null,
            "containers": [container], "volumes": [],
        });
        let tasks: Vec<_> = tasks
            .iter()
            .enumerate()
            .map(|(index, (desired, last))| {
                serde_json::json!({"task_arn": format!("task-{index}"), "spec": spec,
                    "desired_status": desired, "last_status": last})
            })
            .collect();
        serde_json::from_value(serde_json::json!({"generation": 3, "tasks": tasks})).unwrap()
    }

    #[test]
    fn new_tasks_run_and_stopped_tasks_stop_with_exit_code_zero() {
        let now = Timestamp(1_000);
        let reports = reports_for(&document(&[("Running", "Pending"), ("Stopped", "Running")]), now);
        assert_eq!(reports.len(), 2);
        let (started, stopped) = (&reports[0], &reports[1]);
        assert_eq!((started.last_status, started.started_at), (TaskStatus::Running, Some(now)));
        assert_eq!(started.containers[0].last_status, TaskStatus::Running);
        assert_eq!(started.containers[0].exit_code, None);
        assert_eq!((stopped.last_status, stopped.started_at), (TaskStatus::Stopped, None));
        assert_eq!(stopped.execution_stopped_at, Some(now));
        assert_eq!(stopped.containers[0].exit_code, Some(0));
    }

    #[test]
    fn settled_tasks_say_nothing() {
        let settled = document(&[("Running", "Running"), ("Stopped", "Stopped"), ("Running", "Stopped")]);
        assert!(reports_for(&settled, Timestamp(1)).is_empty());
    }
}
