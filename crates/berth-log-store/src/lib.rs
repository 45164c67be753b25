//! The log event store: every log stream's events, kept on disk in one redb file beside the
//! control plane's store, ordered by stream, timestamp and arrival, so that a stream's events
//! between two times are one range read.
//!
//! Streams are numbered by the control plane (which keeps log groups and streams as records of
//! its own store); this crate knows only stream numbers, events and per-stream figures
//! ([`StreamStats`]: first and last timestamps, stored bytes, the agent's position).
//!
//! Writes go through one writer thread that gathers every append queued meanwhile into one
//! write transaction with an fsync (group commit), so a thousand agents shipping at once cost
//! one flush, not a thousand.
//!
//! Invariants:
//! - An append returns only once its events are durable; a crash loses no acknowledged event.
//! - An event carrying a source position (`NewEvent::source_ns`, Docker's timestamp of the
//!   line) is stored only if that position is after the stream's, and the position moves in
//!   the same transaction: a batch sent twice is stored once.
//! - [`StreamStats`] in memory move only after their transaction committed.

mod blocks;
mod keys;
mod read;
mod writer;

pub use keys::EventKey;
pub use read::{FilterQuery, FilteredEvent, Page};

use parking_lot::RwLock;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogStoreError {
    #[error("cannot open the log store {path}: {message}")]
    Open { path: String, message: String },
    #[error("log store read failed: {0}")]
    Read(String),
    #[error("log store write failed: {0}")]
    Write(String),
    #[error("the log store's writer has stopped")]
    Stopped,
}

pub type LogStoreResult<T> = Result<T, LogStoreError>;

/// One event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Milliseconds since the Unix epoch, the event's own time.
    pub timestamp: i64,
    /// Where the line stands in its source (Docker's timestamp, ns), for lines an agent
    /// ships; `None` for PutLogEvents.
    pub source_ns: Option<i64>,
    pub message: String,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredEvent {
    pub key: EventKey,
    /// When the store committed it, ms since the Unix epoch.
    pub ingestion_time: i64,
    pub message: String,
}

/// What DescribeLogStreams and DescribeLogGroups show of a stream, and the agent's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    /// Sum of the stored messages' UTF-8 sizes.
    pub stored_bytes: u64,
    pub event_count: u64,
    /// The arrival number the next event of the stream gets.
    pub next_sequence: u64,
    /// The last `source_ns` stored.
    pub source_position_ns: Option<i64>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Events stored (those at or before the source position are not).
    pub stored: usize,
    pub source_position_ns: Option<i64>,
    pub ingestion_time: i64,
}

pub struct LogStore {
    database: Arc<redb::Database>,
    stats: Arc<RwLock<HashMap<u64, StreamStats>>>,
    writer: writer::Writer,
}

/// redb's page cache for log events: reads of recent events hit it; older ranges come from
/// the OS page cache.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

impl LogStore {
    /// Opens (or creates) the log store file `path`.
    pub fn open(path: &Path) -> LogStoreResult<LogStore> {
        let open_error = |message: String| LogStoreError::Open { path: path.display().to_string(), message };
        let database = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|error| open_error(error.to_string()))?;
        Self::start(database).map_err(|error| open_error(error.to_string()))
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> LogStore {
        let database = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("an in-memory redb always opens");
        Self::start(database).expect("an in-memory redb always opens")
    }

    fn start(database: redb::Database) -> LogStoreResult<LogStore> {
        let stats = writer::prepare(&database)?;
        let database = Arc::new(database);
        let stats = Arc::new(RwLock::new(stats));
        let writer = writer::Writer::start(Arc::clone(&database), Arc::clone(&stats));
        Ok(LogStore { database, stats, writer })
    }

    /// Appends `events` to `stream`; returns once they are durable.
    pub fn append(&self, stream: u64, events: Vec<NewEvent>) -> LogStoreResult<AppendOutcome> {
        self.writer.call(|reply| writer::Command::Append { stream, events, reply })
    }

    /// Deletes every event of `stream` and its figures.
    pub fn delete_stream(&self, stream: u64) -> LogStoreResult<()> {
        self.writer.call(|reply| writer::Command::DeleteStream { stream, reply })
    }

    /// Deletes the events of `stream` older than `before` (ms); returns how many went.
    pub fn expire(&self, stream: u64, before: i64) -> LogStoreResult<u64> {
        self.writer.call(|reply| writer::Command::Expire { stream, before, reply })
    }

    /// Deletes the events of every stream not in `live` (streams whose records went while
    /// their events were still being deleted, before a crash).
    pub fn retain_streams(&self, live: &std::collections::HashSet<u64>) -> LogStoreResult<usize> {
        let dead: Vec<u64> = self.stats.read().keys().filter(|stream| !live.contains(stream)).copied().collect();
        for stream in &dead {
            self.delete_stream(*stream)?;
        }
        Ok(dead.len())
    }

    pub fn stats(&self, stream: u64) -> StreamStats {
        self.stats.read().get(&stream).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
