//! Task scale-in protection within a pass: which stop candidates a scale-in or a rolling
//! replacement must leave alone, and the event saying the service waits for them.
//!
//! Invariant: protection holds back only the planner's own scale-in and deployment stops.
//! Tasks that fail their health checks, tasks on lost instances and StopTask by a user stop
//! whether protected or not (as in ECS). The event is said when the number of held-back
//! tasks changes, and repeated at most once per `placement_failure_event_interval` while it
//! stays the same, so a long protection does not flood the service's events.

use crate::events::ServiceEvent;
use crate::pass::Pass;

/// Splits stop candidates into those that may stop and the number that are protected.
pub(crate) fn unprotected(pass: &Pass, candidates: Vec<usize>) -> (Vec<usize>, usize) {
    let (protected, free): (Vec<usize>, Vec<usize>) =
        candidates.into_iter().partition(|&index| pass.tasks[index].protected);
    (free, protected.len())
}

/// Records that `wanted` stops were asked for, `chosen` could be made, and up to `protected`
/// of the rest were held back by protection alone.
pub(crate) fn note_held_back(pass: &mut Pass, wanted: usize, chosen: usize, protected: usize) {
    let held_back = wanted.saturating_sub(chosen).min(protected);
    pass.protected_held_back = pass.protected_held_back.saturating_add(u32::try_from(held_back).unwrap_or(u32::MAX));
}

/// Says, when due, that protected tasks keep the service from scaling in.
pub(crate) fn report(pass: &mut Pass) {
    let now = pass.now();
    let held_back = pass.protected_held_back;
    if held_back == 0 {
        pass.progress.last_protection_event = None;
        return;
    }
    let interval = pass.snapshot.settings.placement_failure_event_interval;
    let due = match pass.progress.last_protection_event {
        Some((count, at)) => count != held_back || now >= at.plus(interval),
        None => true,
    };
    if due {
        pass.events.push(ServiceEvent::UnableToScaleInProtected { protected: held_back });
        pass.progress.last_protection_event = Some((held_back, now));
    }
    if let Some((_, at)) = pass.progress.last_protection_event {
        pass.wake(at.plus(interval));
    }
}
