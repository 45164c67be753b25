//! The events ECS emits, found in the changes of a batch: a task whose last or desired status
//! moved is an "ECS Task State Change". They join the outbox in the same batch, so an event is
//! durable exactly when the change it reports is.

use super::records::{PendingEvent, PendingKind};
use super::EventsChange;
use crate::state::{Change, State};
use berth_types::Timestamp;

/// The outbox rows for the ECS events in `changes`, judged against `state` as it was before
/// them; none while no enabled rule has a target (no rule could match them).
pub(crate) fn outbox_changes(state: &State, changes: &[Change]) -> Vec<Change> {
    if !state.events.any_enabled_rule() {
        return Vec::new();
    }
    let now = Timestamp::now();
    changes
        .iter()
        .filter_map(|change| match change {
            Change::PutTask(task) => {
                let moved = state.tasks.get(&task.id).is_none_or(|before| {
                    before.last_status != task.last_status || before.desired_status != task.desired_status
                });
                moved.then(|| {
                    let kind = PendingKind::TaskStateChange(Box::new(task.clone()));
                    PendingEvent::new(uuid::Uuid::new_v4().to_string(), now, kind)
                })
            }
            _ => None,
        })
        .map(|event| Change::Events(EventsChange::PutPending(Box::new(event))))
        .collect()
}
