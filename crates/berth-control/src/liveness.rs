//! The liveness reconciler: agents are never told they have gone silent, so something must
//! notice. Every tick it compares each instance's agent presence with what placement believes
//! and flips `agentConnected` where they differ (an agent that comes back is noticed at once by
//! its first poll instead).

use crate::ControlPlane;
use std::sync::Arc;
use std::time::Duration;

/// Refreshes agent connectivity every `interval` until the process ends.
pub async fn run_liveness(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        control.refresh_agent_connectivity();
    }
}
