//! Reads: one stream's events between two keys, either way (GetLogEvents), and a merge of
//! many streams in time order through a predicate (FilterLogEvents). Reads run in their own
//! redb read transaction and never wait for the writer.

use crate::keys::{decode, decode_value, encode, EventKey};
use crate::writer::EVENTS;
use crate::{LogStore, LogStoreError, LogStoreResult, StoredEvent};
use redb::{AccessGuard, ReadOnlyTable, StorageError};

type Row<'a> = Result<(AccessGuard<'a, &'static [u8]>, AccessGuard<'a, &'static [u8]>), StorageError>;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Bound;

/// FilterLogEvents' question.
#[derive(Debug, Clone)]
pub struct FilterQuery {
    pub streams: Vec<u64>,
    /// Inclusive, ms.
    pub start_time: Option<i64>,
    /// Exclusive, ms.
    pub end_time: Option<i64>,
    /// Resume after this event (timestamp, stream, sequence), from a previous page.
    pub after: Option<(i64, u64, u64)>,
    pub limit: usize,
    /// The page ends once its messages reach this many bytes.
    pub max_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredEvent {
    pub stream: u64,
    pub event: StoredEvent,
}

/// One page of a filter: its events in time order and, when more match, where the next
/// page starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub events: Vec<FilteredEvent>,
    pub resume_after: Option<(i64, u64, u64)>,
}

fn read_error(error: &dyn std::fmt::Display) -> LogStoreError {
    LogStoreError::Read(error.to_string())
}

fn as_slice(bound: &Bound<[u8; 24]>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(bytes) => Bound::Included(&bytes[..]),
        Bound::Excluded(bytes) => Bound::Excluded(&bytes[..]),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn event_of(key: &[u8], value: &[u8]) -> Option<(u64, StoredEvent)> {
    let (stream, key) = decode(key)?;
    let (ingestion_time, message) = decode_value(value)?;
    Some((stream, StoredEvent { key, ingestion_time, message }))
}

fn bound(stream: u64, bound: Bound<EventKey>) -> Bound<[u8; 24]> {
    match bound {
        Bound::Included(key) => Bound::Included(encode(stream, key)),
        Bound::Excluded(key) => Bound::Excluded(encode(stream, key)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl LogStore {
    fn events_table(&self) -> LogStoreResult<ReadOnlyTable<&'static [u8], &'static [u8]>> {
        let transaction = self.database.begin_read().map_err(|e| read_error(&e))?;
        transaction.open_table(EVENTS).map_err(|e| read_error(&e))
    }

    /// Up to `limit` events of `stream` between `lower` and `upper` (and at most about
    /// `max_bytes` of messages), the first ones of the range or, `backward`, the last ones;
    /// either way in ascending order.
    pub fn events(
        &self,
        stream: u64,
        lower: Bound<EventKey>,
        upper: Bound<EventKey>,
        backward: bool,
        limit: usize,
        max_bytes: usize,
    ) -> LogStoreResult<Vec<StoredEvent>> {
        let table = self.events_table()?;
        let lower = match bound(stream, lower) {
            Bound::Unbounded => Bound::Included(encode(stream, EventKey::MIN)),
            other => other,
        };
        let upper = match bound(stream, upper) {
            Bound::Unbounded => Bound::Included(encode(stream, EventKey::MAX)),
            other => other,
        };
        let range = table.range::<&[u8]>((as_slice(&lower), as_slice(&upper))).map_err(|e| read_error(&e))?;
        let mut events = Vec::new();
        let mut bytes = 0;
        let mut take = |row: Row<'_>| {
            let (key, value) = row.map_err(|e| read_error(&e))?;
            if let Some((_, event)) = event_of(key.value(), value.value()) {
                bytes += event.message.len() + 26;
                events.push(event);
            }
            Ok::<bool, LogStoreError>(events.len() < limit && bytes < max_bytes)
        };
        if backward {
            for row in range.rev() {
                if !take(row)? {
                    break;
                }
            }
            events.reverse();
        } else {
            for row in range {
                if !take(row)? {
                    break;
                }
            }
        }
        Ok(events)
    }

    /// The events of `query.streams` that `matches`, merged in order of (timestamp, stream,
    /// arrival), one page at a time.
    pub fn filter(&self, query: &FilterQuery, matches: &dyn Fn(&str) -> bool) -> LogStoreResult<Page> {
        let table = self.events_table()?;
        let end = query.end_time.map(EventKey::at);
        let mut ranges = Vec::with_capacity(query.streams.len());
        for &stream in &query.streams {
            let mut lower = query.start_time.map_or(EventKey::MIN, EventKey::at);
            let mut exclusive = false;
            if let Some((timestamp, after_stream, sequence)) = query.after {
                let resume = match stream.cmp(&after_stream) {
                    std::cmp::Ordering::Greater => EventKey::at(timestamp),
                    std::cmp::Ordering::Equal => {
                        exclusive = true;
                        EventKey { timestamp, sequence }
                    }
                    std::cmp::Ordering::Less => match timestamp.checked_add(1) {
                        Some(next) => EventKey::at(next),
                        None => continue,
                    },
                };
                if resume > lower {
                    lower = resume;
                } else {
                    exclusive = false;
                }
            }
            let start = encode(stream, lower);
            let stop = encode(stream, end.unwrap_or(EventKey::MAX));
            let lower_bound = if exclusive { Bound::Excluded(&start[..]) } else { Bound::Included(&start[..]) };
            let upper_bound = if end.is_some() { Bound::Excluded(&stop[..]) } else { Bound::Included(&stop[..]) };
            ranges.push(table.range::<&[u8]>((lower_bound, upper_bound)).map_err(|e| read_error(&e))?);
        }
        // The heap holds the next matching event of each stream.
        let mut heap = BinaryHeap::new();
        let next_match =
            |range: &mut redb::Range<&'static [u8], &'static [u8]>| -> LogStoreResult<Option<(u64, StoredEvent)>> {
                for row in range.by_ref() {
                    let (key, value) = row.map_err(|e| read_error(&e))?;
                    if let Some((stream, event)) = event_of(key.value(), value.value()) {
                        if matches(&event.message) {
                            return Ok(Some((stream, event)));
                        }
                    }
                }
                Ok(None)
            };
        for (index, range) in ranges.iter_mut().enumerate() {
            if let Some((stream, event)) = next_match(range)? {
                heap.push(Reverse(((event.key.timestamp, stream, event.key.sequence), index, event)));
            }
        }
        let mut page = Page { events: Vec::new(), resume_after: None };
        let mut bytes = 0;
        while let Some(Reverse((position, index, event))) = heap.pop() {
            if page.events.len() >= query.limit || bytes >= query.max_bytes {
                page.resume_after =
                    page.events.last().map(|last| (last.event.key.timestamp, last.stream, last.event.key.sequence));
                break;
            }
            bytes += event.message.len() + 26;
            page.events.push(FilteredEvent { stream: position.1, event });
            if let Some((stream, event)) = next_match(&mut ranges[index])? {
                heap.push(Reverse(((event.key.timestamp, stream, event.key.sequence), index, event)));
            }
        }
        Ok(page)
    }
}
