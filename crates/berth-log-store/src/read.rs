//! Reads: one stream's events between two keys, either way (GetLogEvents), and a merge of
//! many streams in time order through a predicate (FilterLogEvents). Reads run in their own
//! redb read transaction and never wait for the writer.
//!
//! Both walk a stream's blocks with a [`Cursor`], which starts at the block holding the range's
//! first event (the block at or before its key, `blocks`' invariant) and makes a `String` only
//! of the events it hands out, so a filter that matches one line in a thousand allocates for
//! that one.

use crate::blocks::{block_at_or_before, entries, message, Entry};
use crate::keys::{encode, EventKey};
use crate::writer::EVENTS;
use crate::{LogStore, LogStoreError, LogStoreResult, StoredEvent};
use redb::ReadOnlyTable;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::{Bound, RangeBounds};

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

type EventsTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// One stream's events between two keys, one at a time, forward or backward.
struct Cursor<'t> {
    blocks: redb::Range<'t, &'static [u8], &'static [u8]>,
    bounds: (Bound<EventKey>, Bound<EventKey>),
    backward: bool,
    /// The block being read: its bytes and the entries not yet handed out.
    block: Vec<u8>,
    pending: std::vec::IntoIter<Entry>,
    finished: bool,
}

impl<'t> Cursor<'t> {
    fn open(
        table: &'t EventsTable,
        stream: u64,
        lower: Bound<EventKey>,
        upper: Bound<EventKey>,
        backward: bool,
    ) -> LogStoreResult<Cursor<'t>> {
        let lowest = match lower {
            Bound::Included(key) | Bound::Excluded(key) => key,
            Bound::Unbounded => EventKey::MIN,
        };
        let highest = match upper {
            Bound::Included(key) | Bound::Excluded(key) => key,
            Bound::Unbounded => EventKey::MAX,
        };
        let first_block = block_at_or_before(table, stream, lowest).map_err(|e| read_error(&e))?.unwrap_or(lowest);
        let (start, end) = (encode(stream, first_block), encode(stream, highest));
        let blocks = table.range::<&[u8]>(&start[..]..=&end[..]).map_err(|e| read_error(&e))?;
        Ok(Cursor {
            blocks,
            bounds: (lower, upper),
            backward,
            block: Vec::new(),
            pending: Vec::new().into_iter(),
            finished: false,
        })
    }

    /// The next event in the cursor's direction that `matches`.
    fn next_matching(&mut self, matches: &dyn Fn(&str) -> bool) -> LogStoreResult<Option<StoredEvent>> {
        while !self.finished {
            let entry = if self.backward { self.pending.next_back() } else { self.pending.next() };
            let Some(entry) = entry else {
                self.load_next_block()?;
                continue;
            };
            if !self.bounds.contains(&entry.key) {
                // Past the far end of the range, everything further is too.
                let beyond = if self.backward {
                    !matches!(self.bounds.0, Bound::Unbounded) && !key_above_lower(&self.bounds.0, entry.key)
                } else {
                    !matches!(self.bounds.1, Bound::Unbounded) && !key_below_upper(&self.bounds.1, entry.key)
                };
                self.finished |= beyond;
                continue;
            }
            let text = message(&self.block, &entry);
            if matches(&text) {
                let message = text.into_owned();
                return Ok(Some(StoredEvent { key: entry.key, ingestion_time: entry.ingestion_time, message }));
            }
        }
        Ok(None)
    }

    fn load_next_block(&mut self) -> LogStoreResult<()> {
        let row = if self.backward { self.blocks.next_back() } else { self.blocks.next() };
        let Some(row) = row else {
            self.finished = true;
            return Ok(());
        };
        let (_, value) = row.map_err(|e| read_error(&e))?;
        self.block = value.value().to_vec();
        let entries = entries(&self.block).ok_or_else(|| read_error(&"a block of events does not decode"))?;
        self.pending = entries.into_iter();
        Ok(())
    }
}

fn key_above_lower(lower: &Bound<EventKey>, key: EventKey) -> bool {
    match lower {
        Bound::Included(bound) => key >= *bound,
        Bound::Excluded(bound) => key > *bound,
        Bound::Unbounded => true,
    }
}

fn key_below_upper(upper: &Bound<EventKey>, key: EventKey) -> bool {
    match upper {
        Bound::Included(bound) => key <= *bound,
        Bound::Excluded(bound) => key < *bound,
        Bound::Unbounded => true,
    }
}

impl LogStore {
    fn events_table(&self) -> LogStoreResult<EventsTable> {
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
        let mut cursor = Cursor::open(&table, stream, lower, upper, backward)?;
        let mut events = Vec::new();
        let mut bytes = 0;
        while events.len() < limit && bytes < max_bytes {
            let Some(event) = cursor.next_matching(&|_| true)? else {
                break;
            };
            bytes += event.message.len() + 26;
            events.push(event);
        }
        if backward {
            events.reverse();
        }
        Ok(events)
    }

    /// The events of `query.streams` that `matches`, merged in order of (timestamp, stream,
    /// arrival), one page at a time.
    pub fn filter(&self, query: &FilterQuery, matches: &dyn Fn(&str) -> bool) -> LogStoreResult<Page> {
        let table = self.events_table()?;
        let end = query.end_time.map(EventKey::at);
        let mut cursors = Vec::with_capacity(query.streams.len());
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
            let lower_bound = if exclusive { Bound::Excluded(lower) } else { Bound::Included(lower) };
            let upper_bound = end.map_or(Bound::Unbounded, Bound::Excluded);
            cursors.push((stream, Cursor::open(&table, stream, lower_bound, upper_bound, false)?));
        }
        // The heap holds the next matching event of each stream.
        let mut heap = BinaryHeap::new();
        for (index, (stream, cursor)) in cursors.iter_mut().enumerate() {
            if let Some(event) = cursor.next_matching(matches)? {
                heap.push(Reverse(((event.key.timestamp, *stream, event.key.sequence), index, event)));
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
            let (stream, cursor) = &mut cursors[index];
            if let Some(event) = cursor.next_matching(matches)? {
                heap.push(Reverse(((event.key.timestamp, *stream, event.key.sequence), index, event)));
            }
        }
        Ok(page)
    }
}
