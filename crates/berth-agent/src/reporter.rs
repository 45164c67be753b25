//! The outbox of task reports. Runners submit each task's latest observed state; the sender
//! loop (in `agent`) takes what is not yet acknowledged, posts it, and acknowledges it only
//! when the server accepted it. Only the newest report of a task is kept: it carries every
//! field of the older ones, so coalescing loses nothing, and a STOPPED stays queued until the
//! server has it.

use berth_agent_protocol::TaskReport;
use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Reporter {
    entries: Mutex<HashMap<String, Entry>>,
    wake: Notify,
}

#[derive(Debug)]
struct Entry {
    report: TaskReport,
    /// Bumped on every submit, so that an acknowledgement of an older copy does not clear a
    /// newer one submitted while the request was in flight.
    sequence: u64,
    acknowledged: bool,
    /// The runner is gone: drop the entry once it is acknowledged.
    forget_when_acknowledged: bool,
}

/// Reports taken for sending, with the sequence numbers to acknowledge.
#[derive(Debug)]
pub struct Batch {
    pub reports: Vec<TaskReport>,
    sequences: Vec<(String, u64)>,
}

impl Reporter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn submit(&self, report: TaskReport) {
        let mut entries = self.entries.lock();
        let arn = report.task_arn.clone();
        let sequence = entries.get(&arn).map_or(0, |entry| entry.sequence + 1);
        entries.insert(arn, Entry { report, sequence, acknowledged: false, forget_when_acknowledged: false });
        drop(entries);
        self.wake.notify_one();
    }

    /// After a (re)registration every known task is reported again.
    pub fn unacknowledge_all(&self) {
        let mut entries = self.entries.lock();
        for entry in entries.values_mut() {
            entry.acknowledged = false;
        }
        let any = !entries.is_empty();
        drop(entries);
        if any {
            self.wake.notify_one();
        }
    }

    /// The server does not know the task: never report it again.
    pub fn drop_task(&self, task_arn: &str) {
        self.entries.lock().remove(task_arn);
    }

    /// The task's runner has finished; keep its last report only until it is acknowledged.
    pub fn forget_when_acknowledged(&self, task_arn: &str) {
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get_mut(task_arn) {
            if entry.acknowledged {
                entries.remove(task_arn);
            } else {
                entry.forget_when_acknowledged = true;
            }
        }
    }

    /// Everything not yet acknowledged, or `None`.
    pub fn take_unacknowledged(&self) -> Option<Batch> {
        let entries = self.entries.lock();
        let mut batch = Batch { reports: Vec::new(), sequences: Vec::new() };
        for (arn, entry) in entries.iter().filter(|(_, entry)| !entry.acknowledged) {
            batch.reports.push(entry.report.clone());
            batch.sequences.push((arn.clone(), entry.sequence));
        }
        (!batch.reports.is_empty()).then_some(batch)
    }

    pub fn acknowledge(&self, batch: &Batch) {
        let mut entries = self.entries.lock();
        for (arn, sequence) in &batch.sequences {
            let Some(entry) = entries.get_mut(arn) else {
                continue;
            };
            if entry.sequence == *sequence {
                entry.acknowledged = true;
                if entry.forget_when_acknowledged {
                    entries.remove(arn);
                }
            }
        }
    }

    /// Waits until something was submitted or unacknowledged since the last wait.
    pub async fn changed(&self) {
        self.wake.notified().await;
    }

    /// How many tasks' latest reports are in each status (the metrics' task counts).
    pub fn count_by_status(&self) -> std::collections::BTreeMap<berth_types::TaskStatus, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for entry in self.entries.lock().values() {
            *counts.entry(entry.report.last_status).or_default() += 1;
        }
        counts
    }

    /// The latest report of a task, for tests and diagnostics.
    pub fn latest(&self, task_arn: &str) -> Option<TaskReport> {
        self.entries.lock().get(task_arn).map(|entry| entry.report.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::TaskStatus;

    use crate::test_support::report;

    #[test]
    fn a_newer_submit_survives_the_acknowledgement_of_an_older_one() {
        let reporter = Reporter::new();
        reporter.submit(report("a", TaskStatus::Running));
        let in_flight = reporter.take_unacknowledged().unwrap();
        reporter.submit(report("a", TaskStatus::Stopped));
        reporter.acknowledge(&in_flight);
        let retry = reporter.take_unacknowledged().unwrap();
        assert_eq!(retry.reports[0].last_status, TaskStatus::Stopped);
        reporter.acknowledge(&retry);
        assert!(reporter.take_unacknowledged().is_none());
    }

    #[test]
    fn unacknowledged_reports_are_kept_until_sent_and_resent_after_reconnect() {
        let reporter = Reporter::new();
        reporter.submit(report("a", TaskStatus::Stopped));
        let failed = reporter.take_unacknowledged().unwrap();
        drop(failed);
        let batch = reporter.take_unacknowledged().unwrap();
        reporter.acknowledge(&batch);
        assert!(reporter.take_unacknowledged().is_none());
        reporter.unacknowledge_all();
        assert_eq!(reporter.take_unacknowledged().unwrap().reports.len(), 1);

        reporter.forget_when_acknowledged("a");
        let batch = reporter.take_unacknowledged().unwrap();
        reporter.acknowledge(&batch);
        assert!(reporter.latest("a").is_none());
        reporter.submit(report("b", TaskStatus::Running));
        reporter.drop_task("b");
        assert!(reporter.take_unacknowledged().is_none());
    }
}
