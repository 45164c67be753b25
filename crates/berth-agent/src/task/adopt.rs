//! Rebuilding a task's state when the agent (re)learns of a task: from the server's desired
//! task and the containers found on the host with the task's labels. A restarted agent adopts
//! what runs (same container IDs, never a restart) and learns what died while it was away.

use crate::runtime::ContainerInfo;
use crate::task::state::TaskState;
use berth_agent_protocol::{labels, DesiredTask};
use berth_types::TaskStatus;

/// The state to start from for `desired`, given the containers of that task found on the host.
pub fn initial_state(desired: &DesiredTask, found: &[ContainerInfo]) -> TaskState {
    let mut state = TaskState::new(&desired.task_arn, desired.spec.clone(), desired.desired_status);
    // Resume at the status the server recorded: what was reported once is not reported again
    // as something earlier.
    state.status = match desired.last_status {
        status if status < TaskStatus::Running => TaskStatus::Pending,
        status if status < TaskStatus::Stopping => TaskStatus::Running,
        _ => TaskStatus::Stopping,
    };
    for (index, container) in desired.spec.containers.iter().enumerate() {
        let info = found.iter().find(|info| info.labels.get(labels::CONTAINER_NAME) == Some(&container.name));
        match info {
            Some(info) => state.observe(index, info),
            // The server saw this task run: a container that is gone now died (and was removed)
            // while no agent watched. Creating it again would run the task twice.
            None if state.status >= TaskStatus::Running => state.observe_missing(index),
            None => {}
        }
    }
    state
}
