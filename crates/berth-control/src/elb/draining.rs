//! The drain reconciler: a deregistered target leaves its group once the group's
//! `deregistration_delay.timeout_seconds` has passed since it began draining. Until then the
//! proxy finishes its in-flight requests and sends it no new ones. Service tasks held
//! DEACTIVATING for their drain are handed to their agents to stop here too, and gateway routes
//! whose services gave them up go once their groups are empty (`gateways::cleanup`).

use super::{ElbChange, ElbState};
use crate::error::ControlResult;
use crate::state::Change;
use crate::ControlPlane;
use berth_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// The target groups with targets whose drain is over at `now`, without those targets.
pub fn drained(state: &ElbState, now: Timestamp) -> Vec<ElbChange> {
    let mut changes = Vec::new();
    for group in state.target_groups.values() {
        let delay = group.deregistration_delay();
        let over = |since: Option<Timestamp>| since.is_some_and(|since| now >= since.plus(delay));
        if group.targets.iter().any(|target| over(target.draining_since)) {
            let mut group = group.clone();
            group.targets.retain(|target| !over(target.draining_since));
            changes.push(ElbChange::PutTargetGroup(Box::new(group)));
        }
    }
    changes
}

impl ControlPlane {
    /// Removes the targets whose drain is over and lets the agents of tasks whose
    /// deactivation is over stop them; answers how many records changed.
    pub async fn drain_pass(&self, now: Timestamp) -> ControlResult<usize> {
        let _timer = self.metrics().reconciler_pass("draining");
        self.mutate_with(false, |state| {
            let mut changes: Vec<Change> = drained(&state.elb, now).into_iter().map(Change::Elb).collect();
            changes.extend(super::service_targets::released(state, now));
            changes.extend(crate::gateways::cleanup::finished(state));
            let count = changes.len();
            Ok((changes, count))
        })
        .await
    }
}

/// Runs a drain pass every `interval`.
pub async fn run_draining(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = control.drain_pass(Timestamp::now()).await {
            tracing::warn!(%error, "drain pass failed; retrying on the next tick");
        }
    }
}
