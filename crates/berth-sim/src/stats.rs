//! Counters a fleet keeps while it runs, shared by all its instances: cheap atomics, read as
//! a [`FleetSnapshot`] by whoever wants to know how far the fleet has got.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct FleetStats {
    pub(crate) registered: AtomicU64,
    pub(crate) registrations_again: AtomicU64,
    pub(crate) documents: AtomicU64,
    pub(crate) reports: AtomicU64,
    pub(crate) tasks_running: AtomicU64,
    pub(crate) tasks_stopped: AtomicU64,
    pub(crate) failed_requests: AtomicU64,
}

/// A point-in-time copy of [`FleetStats`]. Task counts are acknowledged reports: the server
/// answered them, so they are durable there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetSnapshot {
    /// Instances registered (first registrations).
    pub registered: u64,
    /// Registrations after the server said it no longer knows an instance.
    pub registrations_again: u64,
    /// Desired documents received.
    pub documents: u64,
    /// State reports the server acknowledged.
    pub reports: u64,
    /// Tasks reported RUNNING and acknowledged.
    pub tasks_running: u64,
    /// Tasks reported STOPPED and acknowledged.
    pub tasks_stopped: u64,
    /// Polls, reports and registrations that failed (and were retried).
    pub failed_requests: u64,
}

impl FleetStats {
    pub fn snapshot(&self) -> FleetSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        FleetSnapshot {
            registered: read(&self.registered),
            registrations_again: read(&self.registrations_again),
            documents: read(&self.documents),
            reports: read(&self.reports),
            tasks_running: read(&self.tasks_running),
            tasks_stopped: read(&self.tasks_stopped),
            failed_requests: read(&self.failed_requests),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }
}

impl fmt::Display for FleetSnapshot {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} instances ({} registered again), {} documents, {} reports, {} tasks RUNNING, {} STOPPED, {} failed requests",
            self.registered,
            self.registrations_again,
            self.documents,
            self.reports,
            self.tasks_running,
            self.tasks_stopped,
            self.failed_requests
        )
    }
}
