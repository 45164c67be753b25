//! Group commit. Writers hand their batches to one committer thread; while it flushes one
//! group, the batches that arrive meanwhile queue up and go to disk together in the next
//! flush. One fsync then acknowledges many writes, which is what lets RunTask scale past the
//! disk's flush rate.
//!
//! Each group's flush time, batch count and row count go to `berth_store_commit_*`
//! (`crate::metrics`).
//!
//! Invariant: batches reach the store in the order they were submitted (a later put of a key
//! wins), and a submitter hears "durable" only after the flush that holds its batch returned.

use crate::metrics::CommitMetrics;
use berth_store::{Store, StoreError, WriteBatch};
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;

type Submission = (WriteBatch, oneshot::Sender<Result<(), String>>);

pub struct Committer {
    /// `None` only while dropping.
    queue: Option<mpsc::Sender<Submission>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Committer {
    /// Starts the committer thread over `store`.
    pub fn start(store: Arc<dyn Store>, metrics: CommitMetrics) -> Committer {
        let (queue, submissions) = mpsc::channel::<Submission>();
        let thread = std::thread::Builder::new()
            .name("berth-committer".to_string())
            .spawn(move || run(store.as_ref(), submissions, &metrics))
            .expect("the committer thread starts");
        Committer { queue: Some(queue), thread: Some(thread) }
    }

    /// Queues `batch`; the returned receiver resolves once it is durable.
    pub fn submit(&self, batch: WriteBatch) -> oneshot::Receiver<Result<(), String>> {
        let (done, durable) = oneshot::channel();
        let queue = self.queue.as_ref().expect("the queue lives until drop");
        if let Err(mpsc::SendError((_, done))) = queue.send((batch, done)) {
            let _ = done.send(Err("the committer has stopped".to_string()));
        }
        durable
    }
}

impl Drop for Committer {
    /// Flushes what is queued and lets go of the store before the control plane is gone, so
    /// the same store can be opened again at once.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(store: &dyn Store, submissions: mpsc::Receiver<Submission>, metrics: &CommitMetrics) {
    while let Ok(first) = submissions.recv() {
        let mut group = vec![first];
        while let Ok(next) = submissions.try_recv() {
            group.push(next);
        }
        let mut merged = WriteBatch::default();
        for (batch, _) in &mut group {
            merged.operations.append(&mut batch.operations);
        }
        metrics.batches.observe(group.len() as f64);
        metrics.operations.observe(merged.operations.len() as f64);
        let started = std::time::Instant::now();
        let outcome = store.commit(merged).map_err(|error: StoreError| error.to_string());
        metrics.duration.observe(started.elapsed().as_secs_f64());
        for (_, done) in group {
            let _ = done.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::{MemoryStore, Table};

    #[tokio::test]
    async fn batches_land_in_submission_order() {
        let store = Arc::new(MemoryStore::default());
        let metrics = crate::metrics::ControlMetrics::default();
        let committer = Committer::start(store.clone(), metrics.commit.clone());
        let mut waits = Vec::new();
        for value in 0..50u8 {
            let mut batch = WriteBatch::default();
            batch.put(Table::Tasks, "same-key", vec![value]);
            waits.push(committer.submit(batch));
        }
        for wait in waits {
            wait.await.unwrap().unwrap();
        }
        assert_eq!(store.load(Table::Tasks).unwrap(), vec![("same-key".to_string(), vec![49])]);
        let batches = &metrics.commit.batches;
        assert!(batches.count() >= 1, "every group commit is counted");
        assert_eq!(batches.sum(), 50.0, "every batch is in exactly one group");
    }
}
