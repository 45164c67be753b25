//! Events are stored in blocks: a run of one stream's events in key order, kept as one redb
//! value under the key of the block's first event. An agent's batch of 10,000 lines becomes a
//! few dozen B-tree entries instead of 10,000, which is what makes the writer keep up with a
//! container printing 100,000 lines a second.
//!
//! Invariant: the blocks of a stream never overlap — every event of a block sorts before the
//! first event of the stream's next block. So the events at or after a key begin in the block
//! at or before that key, and a range read starts there.
//!
//! A block's bytes: the event count (u32), then per event its timestamp (i64), arrival
//! sequence (u64), ingestion time (i64), message length (u32) and the message's UTF-8 bytes,
//! all big-endian.

use crate::keys::{decode, encode, EventKey};
use crate::StoredEvent;
use redb::{ReadableTable, StorageError, Table};
use std::ops::Range;

/// A block holds at most this many events …
pub(crate) const MAX_BLOCK_EVENTS: usize = 512;
/// … and at most about this many bytes of messages (one event of any size always fits).
pub(crate) const MAX_BLOCK_BYTES: usize = 48 * 1024;

const COUNT_LEN: usize = 4;
const EVENT_HEADER_LEN: usize = 8 + 8 + 8 + 4;

/// Where one event of a block's bytes is.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: EventKey,
    pub ingestion_time: i64,
    pub message: Range<usize>,
}

pub(crate) fn encode_block(events: &[StoredEvent]) -> Vec<u8> {
    let size = COUNT_LEN + events.iter().map(|event| EVENT_HEADER_LEN + event.message.len()).sum::<usize>();
    let mut bytes = Vec::with_capacity(size);
    bytes.extend_from_slice(&(events.len() as u32).to_be_bytes());
    for event in events {
        bytes.extend_from_slice(&event.key.timestamp.to_be_bytes());
        bytes.extend_from_slice(&event.key.sequence.to_be_bytes());
        bytes.extend_from_slice(&event.ingestion_time.to_be_bytes());
        bytes.extend_from_slice(&(event.message.len() as u32).to_be_bytes());
        bytes.extend_from_slice(event.message.as_bytes());
    }
    bytes
}

/// The entries of a block, in key order; `None` when the bytes are not a block.
pub(crate) fn entries(bytes: &[u8]) -> Option<Vec<Entry>> {
    let count = u32::from_be_bytes(bytes.get(..COUNT_LEN)?.try_into().ok()?) as usize;
    let word = |at: usize| -> Option<[u8; 8]> { bytes.get(at..at + 8)?.try_into().ok() };
    let mut entries = Vec::with_capacity(count.min(MAX_BLOCK_EVENTS));
    let mut at = COUNT_LEN;
    for _ in 0..count {
        let timestamp = i64::from_be_bytes(word(at)?);
        let sequence = u64::from_be_bytes(word(at + 8)?);
        let ingestion_time = i64::from_be_bytes(word(at + 16)?);
        let length = u32::from_be_bytes(bytes.get(at + 24..at + 28)?.try_into().ok()?) as usize;
        let start = at + EVENT_HEADER_LEN;
        bytes.get(start..start + length)?;
        entries.push(Entry { key: EventKey { timestamp, sequence }, ingestion_time, message: start..start + length });
        at = start + length;
    }
    Some(entries)
}

/// The message of `entry` (a message is stored as the `String` it was, so this only fails on
/// a damaged file, where the bytes are shown as lossy text rather than lost).
pub(crate) fn message<'a>(bytes: &'a [u8], entry: &Entry) -> std::borrow::Cow<'a, str> {
    String::from_utf8_lossy(&bytes[entry.message.clone()])
}

/// Every event of a block.
pub(crate) fn decode_block(bytes: &[u8]) -> Option<Vec<StoredEvent>> {
    let entries = entries(bytes)?;
    Some(
        entries
            .iter()
            .map(|entry| StoredEvent {
                key: entry.key,
                ingestion_time: entry.ingestion_time,
                message: message(bytes, entry).into_owned(),
            })
            .collect(),
    )
}

/// `events` (in key order) cut into blocks within the limits.
pub(crate) fn cut(events: &[StoredEvent]) -> impl Iterator<Item = &[StoredEvent]> {
    let mut rest = events;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut count = 0;
        while count < rest.len() && count < MAX_BLOCK_EVENTS && (count == 0 || bytes < MAX_BLOCK_BYTES) {
            bytes += rest[count].message.len();
            count += 1;
        }
        let (block, after) = rest.split_at(count);
        rest = after;
        Some(block)
    })
}

/// The key of the block of `stream` that holds the events at `key` or is the last before it.
pub(crate) fn block_at_or_before(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    stream: u64,
    key: EventKey,
) -> Result<Option<EventKey>, StorageError> {
    let (start, at) = (encode(stream, EventKey::MIN), encode(stream, key));
    let found = table.range::<&[u8]>(&start[..]..=&at[..])?.next_back();
    Ok(match found {
        Some(row) => decode(row?.0.value()).map(|(_, key)| key),
        None => None,
    })
}

/// The stream's first block key after `key` (exclusive).
fn block_after(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    stream: u64,
    key: EventKey,
) -> Result<Option<EventKey>, StorageError> {
    let (from, end) = (encode(stream, key), encode(stream, EventKey::MAX));
    let mut range =
        table.range::<&[u8]>((std::ops::Bound::Excluded(&from[..]), std::ops::Bound::Included(&end[..])))?;
    Ok(match range.next() {
        Some(row) => decode(row?.0.value()).map(|(_, key)| key),
        None => None,
    })
}

/// The stream's first block: its key and events.
pub(crate) fn first_block(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    stream: u64,
) -> Result<Option<(EventKey, Vec<StoredEvent>)>, StorageError> {
    let (start, end) = (encode(stream, EventKey::MIN), encode(stream, EventKey::MAX));
    let found = table.range::<&[u8]>(&start[..]..=&end[..])?.next();
    Ok(match found {
        Some(row) => {
            let (key, value) = row?;
            match (decode(key.value()), decode_block(value.value())) {
                (Some((_, key)), Some(events)) => Some((key, events)),
                _ => None,
            }
        }
        None => None,
    })
}

fn read_block(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    stream: u64,
    key: EventKey,
) -> Result<Vec<StoredEvent>, StorageError> {
    let found = table.get(&encode(stream, key)[..])?;
    Ok(found.and_then(|value| decode_block(value.value())).unwrap_or_default())
}

/// Writes `events` (in key order, after every block of the stream or merged already) as
/// new blocks.
pub(crate) fn put_blocks(
    table: &mut Table<&'static [u8], &'static [u8]>,
    stream: u64,
    events: &[StoredEvent],
) -> Result<(), StorageError> {
    for block in cut(events) {
        table.insert(&encode(stream, block[0].key)[..], &encode_block(block)[..])?;
    }
    Ok(())
}

/// Stores `events` (in key order) that sort before the stream's last stored event: each goes
/// into the block whose range it falls in (or the first block, when it is before them all),
/// and each block touched is written again, cut anew when it outgrew the limits.
pub(crate) fn merge_into_blocks(
    table: &mut Table<&'static [u8], &'static [u8]>,
    stream: u64,
    events: Vec<StoredEvent>,
) -> Result<(), StorageError> {
    let mut rest = events.into_iter().peekable();
    while let Some(next) = rest.peek() {
        let home = match block_at_or_before(table, stream, next.key)? {
            Some(key) => Some(key),
            None => first_block(table, stream)?.map(|(key, _)| key),
        };
        let Some(home) = home else {
            // The stream has no block at all: these events are the first.
            let events: Vec<StoredEvent> = rest.collect();
            return put_blocks(table, stream, &events);
        };
        let limit = block_after(table, stream, home)?;
        let mut merged = read_block(table, stream, home)?;
        while let Some(event) = rest.next_if(|event| limit.is_none_or(|limit| event.key < limit)) {
            merged.push(event);
        }
        merged.sort_by_key(|event| event.key);
        table.remove(&encode(stream, home)[..])?;
        put_blocks(table, stream, &merged)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: i64, sequence: u64, message: &str) -> StoredEvent {
        StoredEvent { key: EventKey { timestamp, sequence }, ingestion_time: 7, message: message.to_string() }
    }

    #[test]
    fn a_block_reads_back_as_it_was_written() {
        let events = vec![event(-5, 0, ""), event(10, 1, "héllo"), event(10, 2, "x".repeat(70_000).as_str())];
        let bytes = encode_block(&events);
        assert_eq!(decode_block(&bytes), Some(events));
        assert_eq!(decode_block(&bytes[..bytes.len() - 1]), None, "a cut block is not read as one");
    }

    #[test]
    fn blocks_are_cut_within_the_limits() {
        let small: Vec<StoredEvent> = (0..1_100).map(|n| event(n, n as u64, "m")).collect();
        let sizes: Vec<usize> = cut(&small).map(<[StoredEvent]>::len).collect();
        assert_eq!(sizes, [MAX_BLOCK_EVENTS, MAX_BLOCK_EVENTS, 1_100 - 2 * MAX_BLOCK_EVENTS]);
        let big: Vec<StoredEvent> = (0..3).map(|n| event(n, n as u64, &"b".repeat(MAX_BLOCK_BYTES))).collect();
        assert_eq!(cut(&big).map(<[StoredEvent]>::len).collect::<Vec<_>>(), [1, 1, 1]);
    }
}
