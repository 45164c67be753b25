use super::*;
use std::collections::HashSet;
use std::ops::Bound;

fn line(timestamp: i64, message: &str) -> NewEvent {
    NewEvent { timestamp, source_ns: None, message: message.to_string() }
}

fn shipped(source_ns: i64, message: &str) -> NewEvent {
    NewEvent { timestamp: source_ns / 1_000_000, source_ns: Some(source_ns), message: message.to_string() }
}

fn messages(events: &[StoredEvent]) -> Vec<&str> {
    events.iter().map(|event| event.message.as_str()).collect()
}

fn all(store: &LogStore, stream: u64) -> Vec<StoredEvent> {
    store.events(stream, Bound::Unbounded, Bound::Unbounded, false, usize::MAX, usize::MAX).unwrap()
}

#[test]
fn events_read_back_in_time_order_and_figures_follow() {
    let store = LogStore::in_memory();
    store.append(7, vec![line(2_000, "b"), line(1_000, "a"), line(2_000, "c")]).unwrap();
    assert_eq!(messages(&all(&store, 7)), ["a", "b", "c"]);
    assert!(all(&store, 8).is_empty(), "streams are apart");
    let stats = store.stats(7);
    assert_eq!(
        (stats.first_timestamp, stats.last_timestamp, stats.event_count, stats.stored_bytes),
        (Some(1_000), Some(2_000), 3, 3)
    );
    assert!(stats.last_ingestion_time.is_some());
}

#[test]
fn ranges_read_forward_or_from_the_end() {
    let store = LogStore::in_memory();
    store.append(1, (0..10).map(|n| line(n * 10, &format!("e{n}"))).collect()).unwrap();
    let first = store
        .events(1, Bound::Included(EventKey::at(20)), Bound::Excluded(EventKey::at(60)), false, 2, usize::MAX)
        .unwrap();
    assert_eq!(messages(&first), ["e2", "e3"]);
    let last = store.events(1, Bound::Unbounded, Bound::Excluded(EventKey::at(60)), true, 2, usize::MAX).unwrap();
    assert_eq!(messages(&last), ["e4", "e5"]);
    let after = store.events(1, Bound::Excluded(last[1].key), Bound::Unbounded, false, 100, usize::MAX).unwrap();
    assert_eq!(messages(&after), ["e6", "e7", "e8", "e9"]);
}

#[test]
fn shipped_lines_at_or_before_the_position_are_stored_once() {
    let store = LogStore::in_memory();
    let outcome = store.append(3, vec![shipped(1_000_000_001, "one"), shipped(1_000_000_002, "two")]).unwrap();
    assert_eq!((outcome.stored, outcome.source_position_ns), (2, Some(1_000_000_002)));
    // The agent died before it heard the answer and sends the batch again, with one more line.
    let again = store
        .append(3, vec![shipped(1_000_000_001, "one"), shipped(1_000_000_002, "two"), shipped(1_000_000_003, "three")])
        .unwrap();
    assert_eq!(again.stored, 1);
    assert_eq!(messages(&all(&store, 3)), ["one", "two", "three"]);
    assert_eq!(store.stats(3).source_position_ns, Some(1_000_000_003));
}

#[test]
fn everything_acknowledged_survives_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("logs.redb");
    {
        let store = LogStore::open(&path).unwrap();
        store.append(1, vec![shipped(5_000_000, "kept")]).unwrap();
        store.append(2, vec![line(1, "gone")]).unwrap();
        store.delete_stream(2).unwrap();
    }
    let store = LogStore::open(&path).unwrap();
    assert_eq!(messages(&all(&store, 1)), ["kept"]);
    assert_eq!(store.stats(1).source_position_ns, Some(5_000_000));
    assert!(all(&store, 2).is_empty());
    assert_eq!(store.stats(2), StreamStats::default());
}

#[test]
fn expiry_removes_old_events_and_moves_the_first_timestamp() {
    let store = LogStore::in_memory();
    store.append(1, vec![line(100, "old"), line(200, "older?"), line(300, "new")]).unwrap();
    assert_eq!(store.expire(1, 250).unwrap(), 2);
    assert_eq!(messages(&all(&store, 1)), ["new"]);
    let stats = store.stats(1);
    assert_eq!((stats.first_timestamp, stats.event_count, stats.stored_bytes), (Some(300), 1, 3));
    assert_eq!(store.expire(1, 1_000).unwrap(), 1);
    assert_eq!(store.stats(1).first_timestamp, None);
}

#[test]
fn streams_without_a_record_are_swept() {
    let store = LogStore::in_memory();
    for stream in 1..=3 {
        store.append(stream, vec![line(1, "x")]).unwrap();
    }
    assert_eq!(store.retain_streams(&HashSet::from([2])).unwrap(), 2);
    assert!(all(&store, 1).is_empty() && all(&store, 3).is_empty());
    assert_eq!(messages(&all(&store, 2)), ["x"]);
}

#[test]
fn filters_merge_streams_in_time_order_and_page() {
    let store = LogStore::in_memory();
    store.append(1, vec![line(10, "a ERROR"), line(30, "c ok"), line(50, "e ERROR")]).unwrap();
    store.append(2, vec![line(20, "b ERROR"), line(30, "d ERROR"), line(60, "f ERROR")]).unwrap();
    let errors = |message: &str| message.contains("ERROR");
    let mut query = FilterQuery {
        streams: vec![1, 2],
        start_time: None,
        end_time: Some(60),
        after: None,
        limit: 2,
        max_bytes: usize::MAX,
    };
    let mut seen = Vec::new();
    loop {
        let page = store.filter(&query, &errors).unwrap();
        seen.extend(page.events.iter().map(|found| (found.stream, found.event.message.clone())));
        match page.resume_after {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    let expected = [(1, "a ERROR"), (2, "b ERROR"), (2, "d ERROR"), (1, "e ERROR")];
    assert_eq!(seen, expected.map(|(stream, message)| (stream, message.to_string())));
}

#[test]
fn concurrent_appends_are_all_stored() {
    let store = std::sync::Arc::new(LogStore::in_memory());
    let writers: Vec<_> = (0..8u64)
        .map(|stream| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                for batch in 0..20 {
                    store.append(stream, vec![line(batch, "x"); 10]).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    for stream in 0..8 {
        assert_eq!(all(&store, stream).len(), 200);
        assert_eq!(store.stats(stream).event_count, 200);
    }
}

/// Events spread over many blocks: `count` events 10 ms apart, in appends of `per_append`.
fn many(store: &LogStore, stream: u64, count: i64, per_append: i64) {
    for first in (0..count).step_by(per_append as usize) {
        let events = (first..(first + per_append).min(count)).map(|n| line(n * 10, &format!("e{n}"))).collect();
        store.append(stream, events).unwrap();
    }
}

#[test]
fn ranges_across_many_blocks_read_exactly_their_events() {
    let store = LogStore::in_memory();
    many(&store, 1, 5_000, 2_500);
    many(&store, 2, 10, 10);
    let read = |lower, upper, backward, limit| {
        let events = store.events(1, lower, upper, backward, limit, usize::MAX).unwrap();
        events.iter().map(|event| event.key.timestamp / 10).collect::<Vec<_>>()
    };
    let middle = read(Bound::Included(EventKey::at(12_340)), Bound::Excluded(EventKey::at(40_000)), false, usize::MAX);
    assert_eq!(middle, (1_234..4_000).collect::<Vec<_>>());
    let last = read(Bound::Unbounded, Bound::Excluded(EventKey::at(30_010)), true, 3);
    assert_eq!(last, [2_998, 2_999, 3_000]);
    let first = read(Bound::Excluded(EventKey { timestamp: 0, sequence: 0 }), Bound::Unbounded, false, 2);
    assert_eq!(first, [1, 2]);
    assert_eq!(all(&store, 1).len(), 5_000, "stream 2's events are not stream 1's");
}

#[test]
fn late_events_land_in_order_among_stored_blocks() {
    let store = LogStore::in_memory();
    many(&store, 1, 2_000, 1_000);
    // Late events: before everything, inside blocks, and at the same times as stored ones.
    store.append(1, vec![line(-10, "first"), line(5_005, "late-a"), line(15_000, "late-b")]).unwrap();
    let late: Vec<NewEvent> = (0..1_500).map(|n| line(n * 10 + 3, "late-many")).collect();
    store.append(1, late).unwrap();
    store.append(1, vec![line(30_000, "new")]).unwrap();
    let events = all(&store, 1);
    assert_eq!(events.len(), 2_000 + 3 + 1_500 + 1);
    assert!(events.windows(2).all(|pair| pair[0].key < pair[1].key), "in key order");
    assert_eq!(events[0].message, "first");
    assert_eq!(events.last().unwrap().message, "new");
    let at_15000: Vec<&str> =
        events.iter().filter(|event| event.key.timestamp == 15_000).map(|event| event.message.as_str()).collect();
    assert_eq!(at_15000, ["e1500", "late-b"], "equal times keep their arrival order");
    let stats = store.stats(1);
    assert_eq!((stats.first_timestamp, stats.last_timestamp, stats.event_count), (Some(-10), Some(30_000), 3_504));
}

#[test]
fn expiry_cuts_through_a_block() {
    let store = LogStore::in_memory();
    many(&store, 1, 3_000, 3_000);
    let removed = store.expire(1, 12_345).unwrap();
    assert_eq!(removed, 1_235);
    let events = all(&store, 1);
    assert_eq!(events.len(), 3_000 - 1_235);
    assert_eq!(events[0].message, "e1235");
    let stats = store.stats(1);
    assert_eq!((stats.first_timestamp, stats.event_count), (Some(12_350), 1_765));
    let page = store
        .filter(
            &FilterQuery {
                streams: vec![1],
                start_time: None,
                end_time: None,
                after: None,
                limit: 10,
                max_bytes: usize::MAX,
            },
            &|message: &str| message.ends_with('7'),
        )
        .unwrap();
    assert_eq!(page.events[0].event.message, "e1237");
}

#[test]
fn a_store_from_before_blocks_opens_with_its_events() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("logs.redb");
    {
        // The old layout: one row an event, and the figures of each stream.
        let database = redb::Database::create(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        {
            let old: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("events");
            let mut table = transaction.open_table(old).unwrap();
            for (stream, sequence, message) in [(1, 0, "one"), (1, 1, "two"), (2, 0, "other")] {
                let key = crate::keys::encode(stream, EventKey { timestamp: 100 + sequence as i64, sequence });
                table.insert(&key[..], &crate::keys::encode_value(5, message)[..]).unwrap();
            }
        }
        transaction.commit().unwrap();
    }
    let store = LogStore::open(&path).unwrap();
    assert_eq!(messages(&all(&store, 1)), ["one", "two"]);
    assert_eq!(messages(&all(&store, 2)), ["other"]);
    assert_eq!(all(&store, 1)[1].ingestion_time, 5);
}
