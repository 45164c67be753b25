//! The retention reconciler: forgets stopped tasks once they have been describable for the
//! configured retention, and client tokens once they expire. Each pass re-reads the state and
//! is idempotent; a failed pass is simply retried by the next one.

use crate::error::ControlResult;
use crate::state::Change;
use crate::tasks::CLIENT_TOKEN_LIFETIME;
use crate::ControlPlane;
use berth_types::{TaskStatus, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// What one pass removed, for the operator's log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPass {
    pub tasks_forgotten: usize,
    pub tokens_forgotten: usize,
}

impl ControlPlane {
    pub async fn retention_pass(&self, now: Timestamp) -> ControlResult<RetentionPass> {
        let _timer = self.metrics().reconciler_pass("retention");
        let retention = self.config().stopped_task_retention;
        self.mutate(|state| {
            let mut changes = Vec::new();
            let mut pass = RetentionPass::default();
            for task in state.tasks.values() {
                let expired = task.last_status == TaskStatus::Stopped
                    && task.stopped_at.is_some_and(|stopped_at| now.since(stopped_at) >= retention);
                if expired {
                    changes.push(Change::DeleteTask(task.id.clone()));
                    pass.tasks_forgotten += 1;
                }
            }
            for (key, record) in &state.idempotency {
                if now.since(record.created_at) >= CLIENT_TOKEN_LIFETIME {
                    changes.push(Change::DeleteIdempotency(key.clone()));
                    pass.tokens_forgotten += 1;
                }
            }
            changes.extend(ControlPlane::expired_history(state, now));
            Ok((changes, pass))
        })
        .await
    }
}

/// Runs retention passes every `interval` until the process ends.
pub async fn run_retention(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        match control.retention_pass(Timestamp::now()).await {
            Ok(pass) if pass != RetentionPass::default() => tracing::info!(?pass, "retention pass"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention pass failed; the next one retries"),
        }
    }
}
