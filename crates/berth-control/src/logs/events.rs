//! PutLogEvents, GetLogEvents and FilterLogEvents: the group and stream are looked up in the
//! state, the events written to or read from the log store off the async threads.

use super::live_tail;
use super::names::{check_group_name, check_stream_name};
use super::streams::stream;
use super::tokens::{parse_filter_token, render_filter_token, StreamToken};
use super::{LogsError, LogsErrorKind};
use crate::error::ControlResult;
use crate::ControlPlane;
use berth_log_pattern::FilterPattern;
use berth_log_store::{EventKey, FilterQuery, LogStore, NewEvent, StoredEvent};
use berth_types::Timestamp;
use std::ops::Bound;
use std::sync::Arc;

/// Events and bytes one PutLogEvents may carry; each event counts 26 bytes more than its
/// message, as CloudWatch counts.
pub const MAX_BATCH_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Events a read answers at most, and about how many bytes.
pub const MAX_READ_EVENTS: usize = 10_000;
pub const MAX_READ_BYTES: usize = 1_048_576;
/// Longest filter pattern.
pub const MAX_PATTERN_CHARS: usize = 1024;

const HOUR_MS: i64 = 3_600_000;

/// One event of a PutLogEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEvent {
    pub timestamp: i64,
    pub message: String,
}

/// The events PutLogEvents did not store, as index ranges of the batch (CloudWatch's
/// `rejectedLogEventsInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RejectedEvents {
    pub too_new_start: Option<usize>,
    pub too_old_end: Option<usize>,
    pub expired_end: Option<usize>,
}

/// GetLogEvents' question.
#[derive(Debug, Clone, Default)]
pub struct StreamRead {
    pub group: String,
    pub stream: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub token: Option<String>,
    pub limit: Option<i32>,
    pub start_from_head: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamPage {
    pub events: Vec<StoredEvent>,
    pub forward_token: String,
    pub backward_token: String,
}

/// FilterLogEvents' question.
#[derive(Debug, Clone, Default)]
pub struct FilterRead {
    pub group: String,
    pub stream_names: Option<Vec<String>>,
    pub stream_prefix: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub pattern: Option<String>,
    pub token: Option<String>,
    pub limit: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundEvent {
    pub stream: String,
    pub event_id: String,
    pub event: StoredEvent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterPage {
    pub events: Vec<FoundEvent>,
    pub next_token: Option<String>,
}

fn read_limit(limit: Option<i32>) -> Result<usize, LogsError> {
    match limit {
        None => Ok(MAX_READ_EVENTS),
        Some(limit) if (1..=MAX_READ_EVENTS as i32).contains(&limit) => Ok(limit as usize),
        Some(limit) => Err(LogsError::invalid(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {MAX_READ_EVENTS}"
        ))),
    }
}

/// Checks a batch and sorts out the events CloudWatch would refuse for their time.
fn screen(
    events: &[InputEvent],
    now: i64,
    day_ms: i64,
    retention_days: Option<i32>,
) -> Result<(usize, usize, RejectedEvents), LogsError> {
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(LogsError::invalid(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and {MAX_BATCH_EVENTS}"
        )));
    }
    let bytes: usize = events.iter().map(|event| event.message.len() + EVENT_OVERHEAD_BYTES).sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(LogsError::invalid(format!("Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}")));
    }
    if let Some(index) = events.iter().position(|event| event.message.is_empty()) {
        return Err(LogsError::invalid(format!(
            "1 validation error detected: Value '' at 'logEvents.{}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
            index + 1
        )));
    }
    if events.windows(2).any(|pair| pair[1].timestamp < pair[0].timestamp) {
        return Err(LogsError::invalid("Log events in a single PutLogEvents request must be in chronological order."));
    }
    if events[events.len() - 1].timestamp - events[0].timestamp > 24 * HOUR_MS {
        return Err(LogsError::invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let too_old_before = now - 14 * day_ms;
    let expired_before = retention_days.map(|days| now - i64::from(days) * day_ms);
    let too_new_after = now + 2 * HOUR_MS;
    let mut rejected = RejectedEvents::default();
    let old = events.iter().take_while(|event| event.timestamp < too_old_before).count();
    if old > 0 {
        rejected.too_old_end = Some(old - 1);
    }
    let expired = expired_before.map_or(0, |before| events.iter().take_while(|event| event.timestamp < before).count());
    if expired > 0 {
        rejected.expired_end = Some(expired - 1);
    }
    let first = old.max(expired);
    let last = events.len() - events.iter().rev().take_while(|event| event.timestamp > too_new_after).count();
    if last < events.len() {
        rejected.too_new_start = Some(last);
    }
    Ok((first, last.max(first), rejected))
}

fn unavailable() -> LogsError {
    LogsError::new(LogsErrorKind::ServiceUnavailable, "The log store is unavailable; retry the request.")
}

/// Runs a log store call on the blocking pool (appends wait for an fsync, filters may scan).
pub(crate) async fn blocking<T: Send + 'static>(
    store: Arc<LogStore>,
    call: impl FnOnce(&LogStore) -> Result<T, berth_log_store::LogStoreError> + Send + 'static,
) -> Result<T, LogsError> {
    tokio::task::spawn_blocking(move || call(&store)).await.map_err(|_| unavailable())?.map_err(LogsError::from)
}

/// The key just before `key`, so "after it" includes `key`.
fn before(key: EventKey) -> EventKey {
    match key.sequence.checked_sub(1) {
        Some(sequence) => EventKey { timestamp: key.timestamp, sequence },
        None => EventKey { timestamp: key.timestamp.saturating_sub(1), sequence: u64::MAX },
    }
}

impl ControlPlane {
    /// Stores a PutLogEvents batch; answers what it refused for its time.
    pub async fn put_log_events(
        &self,
        group_name: &str,
        stream_name: &str,
        events: Vec<InputEvent>,
    ) -> ControlResult<RejectedEvents> {
        check_group_name("logGroupName", group_name)?;
        check_stream_name("logStreamName", stream_name)?;
        let (id, retention) = {
            let state = self.read();
            let record = stream(&state, group_name, stream_name)?;
            (record.id, state.logs.groups[group_name].retention_days)
        };
        let day_ms = self.config().log_day.as_millis() as i64;
        let (first, last, rejected) = screen(&events, Timestamp::now().0, day_ms, retention)?;
        let accepted: Vec<NewEvent> = events
            .into_iter()
            .skip(first)
            .take(last - first)
            .map(|event| NewEvent { timestamp: event.timestamp, source_ns: None, message: event.message })
            .collect();
        if !accepted.is_empty() {
            let tailed = self.live_tail().listening().then(|| live_tail::tailed(&accepted, None));
            let outcome = blocking(self.log_store(), move |store| store.append(id, accepted)).await?;
            self.metrics().put_log_events_stored(outcome.stored);
            if let Some(tailed) = tailed {
                self.live_tail().publish(group_name, stream_name, tailed);
            }
        }
        Ok(rejected)
    }

    pub async fn get_log_events(&self, read: StreamRead) -> ControlResult<StreamPage> {
        check_stream_name("logStreamName", &read.stream)?;
        let limit = read_limit(read.limit)?;
        let id = stream(&self.read(), &read.group, &read.stream)?.id;
        let token = read.token.as_deref().map(StreamToken::parse).transpose()?;
        let mut lower = read.start_time.map_or(Bound::Unbounded, |time| Bound::Included(EventKey::at(time)));
        let mut upper = read.end_time.map_or(Bound::Unbounded, |time| Bound::Excluded(EventKey::at(time)));
        let backward = match token {
            None => !read.start_from_head,
            Some(StreamToken::After(key)) => {
                lower = Bound::Excluded(match lower {
                    Bound::Included(start) => key.max(before(start)),
                    _ => key,
                });
                false
            }
            Some(StreamToken::Before(key)) => {
                upper = Bound::Excluded(match upper {
                    Bound::Excluded(end) => key.min(end),
                    _ => key,
                });
                true
            }
        };
        let events =
            blocking(self.log_store(), move |store| store.events(id, lower, upper, backward, limit, MAX_READ_BYTES))
                .await?;
        let (forward, backward) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (StreamToken::After(last.key), StreamToken::Before(first.key)),
            _ => {
                let after = match lower {
                    Bound::Included(key) => before(key),
                    Bound::Excluded(key) => key,
                    Bound::Unbounded => EventKey::MIN,
                };
                let until = match upper {
                    Bound::Excluded(key) | Bound::Included(key) => key,
                    Bound::Unbounded => EventKey::MAX,
                };
                (StreamToken::After(after), StreamToken::Before(until))
            }
        };
        Ok(StreamPage { events, forward_token: forward.render(), backward_token: backward.render() })
    }

    pub async fn filter_log_events(&self, read: FilterRead) -> ControlResult<FilterPage> {
        let limit = read_limit(read.limit)?;
        let pattern = match read.pattern.as_deref() {
            Some(text) if text.chars().count() > MAX_PATTERN_CHARS => {
                return Err(LogsError::invalid(format!(
                    "1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to {MAX_PATTERN_CHARS}"
                ))
                .into())
            }
            Some(text) => FilterPattern::parse(text).map_err(|error| LogsError::invalid(error.message))?,
            None => FilterPattern::parse("").expect("the empty pattern parses"),
        };
        if read.stream_names.is_some() && read.stream_prefix.is_some() {
            return Err(LogsError::invalid("Cannot specify both LogStreamNames and LogStreamNamePrefix.").into());
        }
        if let Some(names) = &read.stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(LogsError::invalid(
                    "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100",
                )
                .into());
            }
        }
        let after = read.token.as_deref().map(parse_filter_token).transpose()?;
        let streams: Vec<(u64, String)> = {
            let state = self.read();
            super::groups::group(&state, &read.group)?;
            state
                .logs
                .streams_of(&read.group)
                .filter(|stream| read.stream_names.as_ref().is_none_or(|names| names.contains(&stream.name)))
                .filter(|stream| {
                    read.stream_prefix.as_ref().is_none_or(|prefix| stream.name.starts_with(prefix.as_str()))
                })
                .map(|stream| (stream.id, stream.name.clone()))
                .collect()
        };
        let query = FilterQuery {
            streams: streams.iter().map(|(id, _)| *id).collect(),
            start_time: read.start_time,
            end_time: read.end_time,
            after,
            limit,
            max_bytes: MAX_READ_BYTES,
        };
        let page = blocking(self.log_store(), move |store| {
            if pattern.matches_everything() {
                store.filter(&query, &|_| true)
            } else {
                store.filter(&query, &|message| pattern.matches(message))
            }
        })
        .await?;
        let names: std::collections::HashMap<u64, String> = streams.into_iter().collect();
        let events = page
            .events
            .into_iter()
            .map(|found| FoundEvent {
                stream: names.get(&found.stream).cloned().unwrap_or_default(),
                event_id: format!(
                    "{:020}{:010}{:020}",
                    found.event.key.timestamp.max(0),
                    found.stream,
                    found.event.key.sequence
                ),
                event: found.event,
            })
            .collect();
        Ok(FilterPage { events, next_token: page.resume_after.map(render_filter_token) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: i64) -> InputEvent {
        InputEvent { timestamp, message: "m".into() }
    }

    #[test]
    fn batches_are_screened_as_cloudwatch_screens_them() {
        let day = 86_400_000;
        let now = 100 * day;
        let (first, last, rejected) = screen(&[event(now), event(now + 3 * HOUR_MS)], now, day, None).unwrap();
        assert_eq!((first, last, rejected.too_new_start), (0, 1, Some(1)));
        let (first, last, rejected) =
            screen(&[event(now - 15 * day), event(now - 15 * day + 1)], now, day, None).unwrap();
        assert_eq!((first, last, rejected.too_old_end), (2, 2, Some(1)));
        let (first, _, rejected) = screen(&[event(now - 2 * HOUR_MS), event(now)], now, HOUR_MS, Some(1)).unwrap();
        assert_eq!((first, rejected.expired_end), (1, Some(0)));
        assert!(screen(&[event(2), event(1)], now, day, None).unwrap_err().message.contains("chronological"));
        assert!(screen(&[event(now - 2 * day), event(now)], now, day, None).unwrap_err().message.contains("24 hours"));
        assert!(screen(&[], now, day, None).is_err());
        let big = InputEvent { timestamp: now, message: "x".repeat(MAX_BATCH_BYTES) };
        assert!(screen(&[big], now, day, None).unwrap_err().message.contains("Upload too large"));
    }
}
