//! Tasks on lost instances: an instance whose agent has been away longer than the control
//! plane's lost-after interval no longer counts, so its tasks are replaced elsewhere. Each such
//! task that is still desired RUNNING is asked to stop here, once: it leaves the service's
//! counts, the event says why, and a returning agent stops it at once instead of running a
//! copy too many.
//!
//! Invariant: a task on a lost instance never counts toward the floor or the ceiling
//! (`classify` makes it `Gone`), so these stops never reduce what the service has.

use crate::classify::Presence;
use crate::events::ServiceEvent;
use crate::pass::Pass;
use crate::plan::StopReason;
use berth_types::{ContainerInstanceId, DesiredStatus, TaskId};
use std::collections::BTreeMap;

pub(crate) fn stop_tasks_on_lost_instances(pass: &mut Pass) {
    let lost = pass.task_indexes(|task| {
        task.on_lost_instance
            && task.presence == Presence::Gone
            && task.task.desired_status == DesiredStatus::Running
            && task.task.last_status != berth_types::TaskStatus::Stopped
    });
    let mut by_instance: BTreeMap<ContainerInstanceId, Vec<TaskId>> = BTreeMap::new();
    for index in lost {
        let task = pass.tasks[index].task;
        by_instance.entry(task.instance.clone()).or_default().push(task.id.clone());
        pass.stop(index, StopReason::InstanceLost);
    }
    for (instance, tasks) in by_instance {
        pass.events.push(ServiceEvent::TasksOnLostInstance { instance, tasks });
    }
}
