//! The drain reconciler: a deregistered target leaves its group once the group's
//! `deregistration_delay.timeout_seconds` has passed since it began draining. Until then the
//! proxy finishes its in-flight requests and sends it no new ones.

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
        let delay_ms = group
            .attributes
            .get("deregistration_delay.timeout_seconds")
            .and_then(|value| value.parse::<i64>().ok())
            .unwrap_or(300)
            * 1000;
        let over = |since: Option<Timestamp>| since.is_some_and(|since| now.0 >= since.0 + delay_ms);
        if group.targets.iter().any(|target| over(target.draining_since)) {
            let mut group = group.clone();
            group.targets.retain(|target| !over(target.draining_since));
            changes.push(ElbChange::PutTargetGroup(Box::new(group)));
        }
    }
    changes
}

impl ControlPlane {
    /// Removes the targets whose drain is over; answers how many groups changed.
    pub async fn drain_pass(&self, now: Timestamp) -> ControlResult<usize> {
        self.mutate_with(false, |state| {
            let changes: Vec<Change> = drained(&state.elb, now).into_iter().map(Change::Elb).collect();
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
