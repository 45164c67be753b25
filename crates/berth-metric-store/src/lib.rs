//! The metric store: CloudWatch metric datapoints, kept on disk in one redb file as buckets
//! of statistic sets, (series id, level, bucket start, unit) → (count, sum, min, max).
//!
//! Levels follow CloudWatch's retention: 1 s buckets (high-resolution datapoints only) for
//! 3 hours, 60 s buckets for 15 days, 300 s buckets for 63 days, 3600 s buckets for 455 days.
//! A standard datapoint lands in its 60 s bucket, a high-resolution one in its 1 s bucket;
//! [`MetricStore::sweep`] moves buckets that aged out of a level into the next one, and drops
//! the last level's.
//!
//! Units: the unit is part of the bucket key, so datapoints of different units for the same
//! time are kept apart; a read for one unit sees only its buckets, a read for no unit merges
//! them all (and says "None" for a period that mixed units).
//!
//! Writes go through one writer thread that gathers every command queued meanwhile into one
//! write transaction with an fsync (group commit).
//!
//! Invariants:
//! - A put returns only once its datapoints are durable; a crash loses no acknowledged one.
//! - Every datapoint is in exactly one level at any moment, so a read (the union of every
//!   level's buckets in range) counts each once.
//! - The series table and the buckets change in the same transaction, and the series index in
//!   memory moves only after that transaction committed.
//! - Every bucket's series id has a record in the series table.

mod index;
mod keys;
mod read;
mod sweep;
mod types;
mod writer;

pub use types::{Dimension, NewDatapoint, PeriodStats, Resolution, SeriesInfo, SeriesKey, StatisticSet, SweepOutcome};

use parking_lot::RwLock;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricStoreError {
    #[error("cannot open the metric store {path}: {message}")]
    Open { path: String, message: String },
    #[error("metric store read failed: {0}")]
    Read(String),
    #[error("metric store write failed: {0}")]
    Write(String),
    #[error("the metric store's writer has stopped")]
    Stopped,
}

pub type MetricStoreResult<T> = Result<T, MetricStoreError>;

pub struct MetricStore {
    database: Arc<redb::Database>,
    index: Arc<RwLock<index::Index>>,
    writer: writer::Writer,
}

/// redb's page cache: a day of a busy series' minutes is a few hundred pages; recent buckets
/// of every series stay cached, older ranges come from the OS page cache.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

impl MetricStore {
    /// Opens (or creates) the metric store file `path`.
    pub fn open(path: &Path) -> MetricStoreResult<MetricStore> {
        let open_error = |message: String| MetricStoreError::Open { path: path.display().to_string(), message };
        let database = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|error| open_error(error.to_string()))?;
        Self::start(database).map_err(|error| open_error(error.to_string()))
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> MetricStore {
        let database = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("an in-memory redb always opens");
        Self::start(database).expect("an in-memory redb always opens")
    }

    fn start(database: redb::Database) -> MetricStoreResult<MetricStore> {
        let index = writer::prepare(&database)?;
        let database = Arc::new(database);
        let index = Arc::new(RwLock::new(index));
        let writer = writer::Writer::start(Arc::clone(&database), Arc::clone(&index));
        Ok(MetricStore { database, index, writer })
    }

    /// Stores `datapoints` (of any number of series); returns once every one is durable.
    pub fn put(&self, datapoints: Vec<NewDatapoint>) -> MetricStoreResult<()> {
        if datapoints.is_empty() {
            return Ok(());
        }
        self.writer.call(|reply| writer::Command::Put { datapoints, reply })
    }

    /// Every series with a datapoint timestamp at or after `active_since_ms`, in (namespace,
    /// metric name, dimensions) order. Served from memory.
    pub fn series(&self, active_since_ms: i64) -> Vec<SeriesInfo> {
        self.index.read().active_since(active_since_ms)
    }

    /// Rolls up and expires buckets by their age at `now_ms`: 1 s buckets older than 3 h into
    /// 60 s, 60 s older than 15 d into 300 s, 300 s older than 63 d into 3600 s, and 3600 s
    /// older than 455 d deleted; then drops series left with nothing. Each step is one write
    /// transaction (shared with whatever else the writer commits then). A bucket is older than
    /// an age once its whole span is.
    pub fn sweep(&self, now_ms: i64) -> MetricStoreResult<SweepOutcome> {
        let mut total = SweepOutcome::default();
        for level in 0..keys::LEVELS.len() as u8 {
            let outcome = self.writer.call(|reply| writer::Command::Sweep { level, now_ms, reply })?;
            total.rolled_up += outcome.rolled_up;
            total.deleted += outcome.deleted;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests;
