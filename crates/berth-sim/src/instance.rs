//! One hollow instance: registers through `RegisterContainerInstance`, then long-polls its
//! desired document and reports what [`crate::respond`] says, for as long as its task lives.
//!
//! Invariant: the instance moves its `after` generation forward only once the reports for a
//! document were acknowledged; a failed report makes the next poll answer at once with the
//! current document, so the report is retried without waiting out a long poll. At most one
//! request per instance is in flight, so a fleet holds about one connection per instance.

use crate::config::FleetConfig;
use crate::registration::register_request;
use crate::respond::reports_for;
use crate::stats::FleetStats;
use berth_agent::client::{instance_id_from_arn, ClientError, ServerClient};
use berth_agent_protocol::{StateReport, TaskReport};
use berth_types::{TaskStatus, Timestamp};
use std::sync::Arc;
use std::time::Duration;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const LAST_BACKOFF: Duration = Duration::from_secs(5);

pub(crate) struct HollowInstance {
    pub index: usize,
    pub client: ServerClient,
    pub config: Arc<FleetConfig>,
    pub stats: Arc<FleetStats>,
}

impl HollowInstance {
    /// Registers the instance; returns its container instance ID.
    pub async fn register(&self) -> Result<String, ClientError> {
        let result = self.client.register(&register_request(&self.config, self.index)).await;
        if result.is_err() {
            FleetStats::add(&self.stats.failed_requests, 1);
        }
        Ok(instance_id_from_arn(&result?).to_string())
    }

    /// Serves the registered instance `instance_id` until the task running this is aborted.
    pub async fn serve(self, mut instance_id: String) {
        let mut generation = 0;
        let mut failures = 0u32;
        loop {
            let outcome = match self.client.poll_desired(&instance_id, generation, true).await {
                Ok(document) => {
                    FleetStats::add(&self.stats.documents, 1);
                    let reports = reports_for(&document, Timestamp::now());
                    match self.send(&instance_id, reports).await {
                        Ok(()) => {
                            generation = generation.max(document.generation);
                            Ok(())
                        }
                        Err(error) => Err(error),
                    }
                }
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => failures = 0,
                Err(error) => {
                    FleetStats::add(&self.stats.failed_requests, 1);
                    failures = failures.saturating_add(1);
                    tokio::time::sleep(self.backoff(failures)).await;
                    if matches!(error, ClientError::Gone | ClientError::NotFound(_)) {
                        // The server lost or retired the instance (a new data directory, a
                        // deregistration): join again as a real agent would.
                        if let Ok(id) = self.register().await {
                            FleetStats::add(&self.stats.registrations_again, 1);
                            instance_id = id;
                            generation = 0;
                        }
                    } else {
                        tracing::debug!(index = self.index, %error, "hollow instance request failed");
                    }
                }
            }
        }
    }

    async fn send(&self, instance_id: &str, reports: Vec<TaskReport>) -> Result<(), ClientError> {
        if reports.is_empty() {
            return Ok(());
        }
        let running = reports.iter().filter(|report| report.last_status == TaskStatus::Running).count();
        let stopped = reports.len() - running;
        self.client.report(instance_id, &StateReport { tasks: reports }).await?;
        FleetStats::add(&self.stats.reports, 1);
        FleetStats::add(&self.stats.tasks_running, running as u64);
        FleetStats::add(&self.stats.tasks_stopped, stopped as u64);
        Ok(())
    }

    /// Doubling backoff, spread by instance so a fleet does not retry in lockstep after the
    /// server comes back.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled = FIRST_BACKOFF.saturating_mul(1 << failures.min(8).saturating_sub(1));
        let spread = Duration::from_millis((self.index as u64 * 37) % 100);
        doubled.min(LAST_BACKOFF) + spread
    }
}
