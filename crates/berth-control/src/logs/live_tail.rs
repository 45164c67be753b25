//! StartLiveTail: every event stored from the session's start on, offered to each session
//! whose log groups, streams and filter pattern it matches, one update a second.
//!
//! Stored events are published on one broadcast channel after their append committed (and
//! only while a session listens, so ingest pays nothing otherwise). A session gathers what
//! matches for a second and hands it out as one update of at most 500 events, sampled evenly
//! when more matched, as CloudWatch Logs does; a session that falls behind the channel says
//! its update was sampled. Sessions end after three hours.

use crate::logs::names::{check_stream_name, group_from_identifier};
use crate::logs::LogsError;
use crate::{ControlPlane, ControlResult};
use berth_log_pattern::FilterPattern;
use berth_log_store::NewEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// At most this many events go out in one update.
pub const MAX_UPDATE_EVENTS: usize = 500;
/// How often an update goes out.
pub const UPDATE_INTERVAL: Duration = Duration::from_secs(1);
/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(3 * 3600);
const MAX_GROUPS: usize = 10;
const MAX_STREAMS: usize = 100;
/// Batches the channel holds for a session that reads slowly before it skips some.
const CHANNEL_BATCHES: usize = 1024;

/// Events of one stream, as stored.
#[derive(Debug)]
pub struct TailedBatch {
    pub group: String,
    pub stream: String,
    pub events: Vec<TailedEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailedEvent {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
}

/// The channel stored events are offered on.
pub struct LiveTailHub {
    sender: broadcast::Sender<Arc<TailedBatch>>,
}

impl Default for LiveTailHub {
    fn default() -> Self {
        LiveTailHub { sender: broadcast::channel(CHANNEL_BATCHES).0 }
    }
}

impl LiveTailHub {
    /// Whether a session listens (else there is nothing to offer events to).
    pub fn listening(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Offers events just stored, as ingested now.
    pub fn publish(&self, group: &str, stream: &str, mut events: Vec<TailedEvent>) {
        if events.is_empty() {
            return;
        }
        let now = berth_types::Timestamp::now().0;
        for event in &mut events {
            event.ingestion_time = now;
        }
        let _ = self.sender.send(Arc::new(TailedBatch { group: group.into(), stream: stream.into(), events }));
    }
}

/// The events of an append a session may see: those after `position` (the store keeps only
/// those of an agent's batch), or all when `position` is None.
pub fn tailed(events: &[NewEvent], position: Option<i64>) -> Vec<TailedEvent> {
    events
        .iter()
        .filter(|event| match (event.source_ns, position) {
            (Some(source), Some(position)) => source > position,
            _ => true,
        })
        .map(|event| TailedEvent { timestamp: event.timestamp, ingestion_time: 0, message: event.message.clone() })
        .collect()
}

/// What a StartLiveTail request asks for.
#[derive(Debug, Clone, Default)]
pub struct LiveTailRequest {
    pub log_group_identifiers: Vec<String>,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefixes: Option<Vec<String>>,
    pub log_event_filter_pattern: Option<String>,
}

/// One event of an update, with where it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTailEvent {
    /// The group as the request named it.
    pub log_group_identifier: String,
    pub log_stream_name: String,
    pub event: TailedEvent,
}

/// One second's worth of matching events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTailUpdate {
    pub events: Vec<LiveTailEvent>,
    /// More matched than went out.
    pub sampled: bool,
}

/// What the stream carries next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveTailNext {
    Update(LiveTailUpdate),
    /// Three hours passed: the session is over.
    TimedOut,
}

/// An open session: what it matches, and the channel it reads.
pub struct LiveTailSession {
    pub session_id: String,
    pub request: LiveTailRequest,
    /// (group name, identifier as given).
    groups: Vec<(String, String)>,
    pattern: FilterPattern,
    receiver: broadcast::Receiver<Arc<TailedBatch>>,
    ends_at: Instant,
    next_update_at: Instant,
}

impl ControlPlane {
    /// Opens a Live Tail session; refuses groups that do not exist and requests CloudWatch
    /// Logs refuses.
    pub fn start_live_tail(&self, request: LiveTailRequest) -> ControlResult<LiveTailSession> {
        let count = request.log_group_identifiers.len();
        if count == 0 || count > MAX_GROUPS {
            return Err(LogsError::invalid(format!(
                "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length between 1 and {MAX_GROUPS}"
            ))
            .into());
        }
        let names = request.log_stream_names.as_deref().unwrap_or_default();
        let prefixes = request.log_stream_name_prefixes.as_deref().unwrap_or_default();
        if !names.is_empty() && !prefixes.is_empty() {
            return Err(LogsError::invalid("logStreamNames and logStreamNamePrefixes are mutually exclusive.").into());
        }
        for (field, list) in [("logStreamNames", names), ("logStreamNamePrefixes", prefixes)] {
            if list.len() > MAX_STREAMS {
                return Err(LogsError::invalid(format!(
                    "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {MAX_STREAMS}"
                ))
                .into());
            }
            if !list.is_empty() && count > 1 {
                return Err(LogsError::invalid(format!(
                    "{field} can be specified only when logGroupIdentifiers has exactly one log group."
                ))
                .into());
            }
            for name in list {
                check_stream_name(field, name)?;
            }
        }
        let mut groups = Vec::with_capacity(count);
        {
            let state = self.read();
            for identifier in &request.log_group_identifiers {
                let name = group_from_identifier("logGroupIdentifiers", identifier)?;
                if !state.logs.groups.contains_key(&name) {
                    return Err(LogsError::group_not_found().into());
                }
                groups.push((name, identifier.clone()));
            }
        }
        let pattern = FilterPattern::parse(request.log_event_filter_pattern.as_deref().unwrap_or_default())
            .map_err(|error| LogsError::invalid(error.message))?;
        let now = Instant::now();
        Ok(LiveTailSession {
            session_id: uuid::Uuid::new_v4().to_string(),
            request,
            groups,
            pattern,
            receiver: self.live_tail().sender.subscribe(),
            ends_at: now + SESSION_LIFETIME,
            next_update_at: now + UPDATE_INTERVAL,
        })
    }
}

impl LiveTailSession {
    /// Waits for the next second's update (empty when nothing matched), or the session's end.
    pub async fn next(&mut self) -> LiveTailNext {
        if Instant::now() >= self.ends_at {
            return LiveTailNext::TimedOut;
        }
        let due = self.next_update_at.min(self.ends_at);
        let mut matched = Vec::new();
        let mut skipped = false;
        loop {
            let received = tokio::select! {
                received = self.receiver.recv() => received,
                () = tokio::time::sleep_until(due) => break,
            };
            match received {
                Ok(batch) => self.take(&batch, &mut matched),
                Err(broadcast::error::RecvError::Lagged(_)) => skipped = true,
                Err(broadcast::error::RecvError::Closed) => {
                    tokio::time::sleep_until(due).await;
                    break;
                }
            }
        }
        self.next_update_at = due + UPDATE_INTERVAL;
        let sampled = skipped || matched.len() > MAX_UPDATE_EVENTS;
        LiveTailNext::Update(LiveTailUpdate { events: sample(matched, MAX_UPDATE_EVENTS), sampled })
    }

    fn take(&self, batch: &TailedBatch, matched: &mut Vec<LiveTailEvent>) {
        let Some((_, identifier)) = self.groups.iter().find(|(name, _)| *name == batch.group) else {
            return;
        };
        if let Some(names) = &self.request.log_stream_names {
            if !names.is_empty() && !names.contains(&batch.stream) {
                return;
            }
        }
        if let Some(prefixes) = &self.request.log_stream_name_prefixes {
            if !prefixes.is_empty() && !prefixes.iter().any(|prefix| batch.stream.starts_with(prefix.as_str())) {
                return;
            }
        }
        for event in &batch.events {
            if self.pattern.matches(&event.message) {
                matched.push(LiveTailEvent {
                    log_group_identifier: identifier.clone(),
                    log_stream_name: batch.stream.clone(),
                    event: event.clone(),
                });
            }
        }
    }
}

/// At most `limit` of `events`, evenly spread and in order.
fn sample<T>(events: Vec<T>, limit: usize) -> Vec<T> {
    let count = events.len();
    if count <= limit {
        return events;
    }
    events
        .into_iter()
        .enumerate()
        .filter(|(index, _)| index * limit / count != (index + 1) * limit / count)
        .map(|(_, event)| event)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn sampling_keeps_the_limit_spread_over_the_second() {
        let kept = sample((0..2000).collect(), 500);
        assert_eq!(kept.len(), 500);
        assert!(kept.windows(2).all(|pair| pair[1] - pair[0] == 4), "{:?}", &kept[..8]);
        assert_eq!(sample((0..3).collect::<Vec<_>>(), 500), [0, 1, 2]);
    }
}
