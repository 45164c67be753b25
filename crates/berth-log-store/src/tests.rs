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
