//! An in-memory [`LogSink`] that keeps streams as the server does (only lines after the
//! stream's position are stored), for tests: groups are created by the test or by
//! `create_group`, and failures, lost answers and held ships are injected. Shared with other
//! crates' tests, hence public.

use crate::log_shipper::sink::{LogSink, SinkError};
use async_trait::async_trait;
use berth_agent_protocol::logs::{LogBatch, LogLine, LogPosition, OpenLogStream};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::watch;

/// CloudWatch Logs' words for a missing group.
pub const GROUP_MISSING: &str = "ResourceNotFoundException: The specified log group does not exist.";
const STREAM_MISSING: &str = "ResourceNotFoundException: The specified log stream does not exist.";

#[derive(Debug, Default)]
struct Stream {
    lines: Vec<LogLine>,
    position_ns: Option<i64>,
}

#[derive(Debug, Default)]
struct State {
    groups: BTreeSet<String>,
    streams: BTreeMap<(String, String), Stream>,
    failing_opens: usize,
    failing_ships: usize,
    lost_answers: usize,
    opens: usize,
    ship_attempts: usize,
    /// The number of lines of every batch taken, in order.
    batch_sizes: Vec<usize>,
}

pub struct MemoryLogSink {
    state: Mutex<State>,
    /// False while ships are held (they wait before touching anything).
    ships_open: watch::Sender<bool>,
}

impl Default for MemoryLogSink {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLogSink {
    pub fn new() -> Self {
        MemoryLogSink { state: Mutex::new(State::default()), ships_open: watch::channel(true).0 }
    }

    pub fn create_group(&self, group: &str) {
        self.state.lock().groups.insert(group.to_string());
    }

    /// The next `count` opens fail as if the server were unreachable.
    pub fn fail_next_opens(&self, count: usize) {
        self.state.lock().failing_opens = count;
    }

    /// The next `count` ships fail before storing anything.
    pub fn fail_next_ships(&self, count: usize) {
        self.state.lock().failing_ships = count;
    }

    /// The next `count` ships store their lines, then fail as if the answer were lost.
    pub fn lose_next_answers(&self, count: usize) {
        self.state.lock().lost_answers = count;
    }

    /// Ships wait (before storing anything) until released.
    pub fn hold_ships(&self, held: bool) {
        self.ships_open.send_replace(!held);
    }

    /// The stored messages of a stream, in order.
    pub fn messages(&self, group: &str, stream: &str) -> Vec<String> {
        self.lines(group, stream).into_iter().map(|line| line.message).collect()
    }

    pub fn lines(&self, group: &str, stream: &str) -> Vec<LogLine> {
        let state = self.state.lock();
        state
            .streams
            .get(&(group.to_string(), stream.to_string()))
            .map(|stream| stream.lines.clone())
            .unwrap_or_default()
    }

    /// The streams of a group, by name.
    pub fn stream_names(&self, group: &str) -> Vec<String> {
        let state = self.state.lock();
        state.streams.keys().filter(|(owner, _)| owner == group).map(|(_, stream)| stream.clone()).collect()
    }

    pub fn position(&self, group: &str, stream: &str) -> Option<i64> {
        let state = self.state.lock();
        state.streams.get(&(group.to_string(), stream.to_string())).and_then(|stream| stream.position_ns)
    }

    pub fn opens(&self) -> usize {
        self.state.lock().opens
    }

    /// The number of lines of every batch taken (stored or repeated), in order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.state.lock().batch_sizes.clone()
    }

    /// Ship calls so far, including held, failed and refused ones.
    pub fn ship_attempts(&self) -> usize {
        self.state.lock().ship_attempts
    }
}

#[async_trait]
impl LogSink for MemoryLogSink {
    async fn open(&self, request: &OpenLogStream) -> Result<LogPosition, SinkError> {
        let mut state = self.state.lock();
        state.opens += 1;
        if state.failing_opens > 0 {
            state.failing_opens -= 1;
            return Err(SinkError::Transient { message: "connection refused".into() });
        }
        if !state.groups.contains(&request.log_group) {
            if !request.create_group {
                return Err(SinkError::Refused { message: GROUP_MISSING.into() });
            }
            state.groups.insert(request.log_group.clone());
        }
        let stream = state.streams.entry((request.log_group.clone(), request.log_stream.clone())).or_default();
        Ok(LogPosition { position_ns: stream.position_ns })
    }

    async fn ship(&self, batch: &LogBatch) -> Result<LogPosition, SinkError> {
        self.state.lock().ship_attempts += 1;
        let mut released = self.ships_open.subscribe();
        let _ = released.wait_for(|open| *open).await;
        let mut state = self.state.lock();
        if state.failing_ships > 0 {
            state.failing_ships -= 1;
            return Err(SinkError::Transient { message: "503 Service Unavailable".into() });
        }
        let key = (batch.log_group.clone(), batch.log_stream.clone());
        let Some(stream) = state.streams.get_mut(&key) else {
            return Err(SinkError::Refused { message: STREAM_MISSING.into() });
        };
        for line in &batch.lines {
            if stream.position_ns.is_none_or(|position| line.source_ns > position) {
                stream.position_ns = Some(line.source_ns);
                stream.lines.push(line.clone());
            }
        }
        let position = LogPosition { position_ns: stream.position_ns };
        state.batch_sizes.push(batch.lines.len());
        if state.lost_answers > 0 {
            state.lost_answers -= 1;
            return Err(SinkError::Transient { message: "connection reset by peer".into() });
        }
        Ok(position)
    }
}
