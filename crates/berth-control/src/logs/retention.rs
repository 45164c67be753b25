//! Log retention: events older than their group's `retentionInDays` leave the log store.
//! Each pass re-reads the groups; a failed pass is retried by the next.

use super::events::blocking;
use crate::error::ControlResult;
use crate::ControlPlane;
use berth_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

impl ControlPlane {
    /// Expires what is due at `now`; answers how many events went.
    pub async fn log_retention_pass(&self, now: Timestamp) -> ControlResult<u64> {
        let _timer = self.metrics().reconciler_pass("log_retention");
        let day_ms = self.config().log_day.as_millis() as i64;
        let due: Vec<(u64, i64)> = {
            let state = self.read();
            state
                .logs
                .groups
                .values()
                .filter_map(|group| group.retention_days.map(|days| (group, now.0 - i64::from(days) * day_ms)))
                .flat_map(|(group, before)| state.logs.streams_of(&group.name).map(move |stream| (stream.id, before)))
                .collect()
        };
        let store = self.log_store();
        let due: Vec<(u64, i64)> = due
            .into_iter()
            .filter(|(id, before)| store.stats(*id).first_timestamp.is_some_and(|first| first < *before))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let removed = blocking(store, move |store| {
            due.into_iter().try_fold(0, |removed, (id, before)| Ok(removed + store.expire(id, before)?))
        })
        .await?;
        Ok(removed)
    }
}

/// Runs log retention every `interval` until the process ends.
pub async fn run_log_retention(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match control.log_retention_pass(Timestamp::now()).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "expired log events past their retention"),
            Err(error) => tracing::warn!(%error, "log retention pass failed; retrying next tick"),
        }
    }
}
