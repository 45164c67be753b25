use super::*;
use std::sync::Arc;

/// An hour-aligned time, so every level's buckets start at it.
const T0: i64 = 1_699_999_200_000;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn series(name: &str) -> SeriesKey {
    SeriesKey::new("Berth/Test", name, vec![Dimension::new("ClusterName", "default")])
}

fn point(series: &SeriesKey, timestamp_ms: i64, value: f64) -> NewDatapoint {
    NewDatapoint {
        series: series.clone(),
        timestamp_ms,
        resolution: Resolution::Standard,
        unit: "Count".to_string(),
        stats: StatisticSet::of_value(value),
    }
}

fn high(series: &SeriesKey, timestamp_ms: i64, value: f64) -> NewDatapoint {
    NewDatapoint { resolution: Resolution::High, ..point(series, timestamp_ms, value) }
}

fn set(sample_count: f64, sum: f64, minimum: f64, maximum: f64) -> StatisticSet {
    StatisticSet { sample_count, sum, minimum, maximum }
}

/// (start relative to T0, statistic set) of every period.
fn periods(read: Vec<PeriodStats>) -> Vec<(i64, StatisticSet)> {
    read.into_iter().map(|period| (period.start_ms - T0, period.stats)).collect()
}

fn read(store: &MetricStore, key: &SeriesKey, start: i64, end: i64, period_s: u32) -> Vec<(i64, StatisticSet)> {
    periods(store.read(key, None, start, end, period_s).unwrap())
}

/// One sample per datapoint: the count over a range says how many datapoints it holds.
fn total(store: &MetricStore, key: &SeriesKey) -> StatisticSet {
    let all = store.read(key, None, 0, i64::MAX / 2, 3_600).unwrap();
    let mut sum = set(0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for period in all {
        sum.merge(&period.stats);
    }
    sum
}

#[test]
fn statistic_sets_merge() {
    let mut stats = StatisticSet::of_values(4.0, 3.0);
    assert_eq!(stats, set(3.0, 12.0, 4.0, 4.0));
    stats.merge(&StatisticSet::of_value(-2.0));
    assert_eq!(stats, set(4.0, 10.0, -2.0, 4.0));
    assert_eq!(stats.average(), 2.5);
    assert_eq!(set(0.0, 0.0, 0.0, 0.0).average(), 0.0);
}

#[test]
fn puts_aggregate_into_periods_aligned_to_the_start() {
    let store = MetricStore::in_memory();
    let cpu = series("CPUUtilization");
    let mut datapoints = vec![point(&cpu, T0, 1.0), point(&cpu, T0 + 10 * SECOND, 2.0)];
    datapoints.push(NewDatapoint { stats: StatisticSet::of_values(3.0, 2.0), ..point(&cpu, T0 + 70 * SECOND, 0.0) });
    datapoints.extend([point(&cpu, T0 + 400 * SECOND, 10.0), point(&cpu, T0 + 3_700 * SECOND, 5.0)]);
    store.put(datapoints).unwrap();
    // Another put into a bucket already stored merges with it.
    store.put(vec![point(&cpu, T0 + 30 * SECOND, -1.0)]).unwrap();

    let end = T0 + 2 * HOUR;
    assert_eq!(
        read(&store, &cpu, T0, end, 60),
        [
            (0, set(3.0, 2.0, -1.0, 2.0)),
            (MINUTE, set(2.0, 6.0, 3.0, 3.0)),
            (6 * MINUTE, set(1.0, 10.0, 10.0, 10.0)),
            (61 * MINUTE, set(1.0, 5.0, 5.0, 5.0)),
        ]
    );
    assert_eq!(
        read(&store, &cpu, T0, end, 300),
        [(0, set(5.0, 8.0, -1.0, 3.0)), (5 * MINUTE, set(1.0, 10.0, 10.0, 10.0)), (HOUR, set(1.0, 5.0, 5.0, 5.0))]
    );
    assert_eq!(read(&store, &cpu, T0, end, 3_600), [(0, set(6.0, 18.0, -1.0, 10.0)), (HOUR, set(1.0, 5.0, 5.0, 5.0))]);
    // Periods count from the start asked for; the bucket at T0 starts before it, so is left out.
    assert_eq!(
        read(&store, &cpu, T0 + 30 * SECOND, end, 120),
        [
            (30 * SECOND, set(2.0, 6.0, 3.0, 3.0)),
            (270 * SECOND, set(1.0, 10.0, 10.0, 10.0)),
            (3_630 * SECOND, set(1.0, 5.0, 5.0, 5.0))
        ]
    );
    // The end is exclusive.
    assert_eq!(read(&store, &cpu, T0, T0 + MINUTE, 60), [(0, set(3.0, 2.0, -1.0, 2.0))]);
    assert!(read(&store, &series("Other"), T0, end, 60).is_empty());
    assert!(read(&store, &cpu, end, T0, 60).is_empty());
}

#[test]
fn units_are_kept_apart_and_merged_only_when_no_unit_is_asked() {
    let store = MetricStore::in_memory();
    let latency = series("Latency");
    let seconds = NewDatapoint { unit: "Seconds".to_string(), ..point(&latency, T0 + SECOND, 0.5) };
    store.put(vec![point(&latency, T0, 3.0), seconds, point(&latency, T0 + MINUTE, 4.0)]).unwrap();
    let by_unit = |unit: Option<&str>| -> Vec<(i64, StatisticSet, String)> {
        let read = store.read(&latency, unit, T0, T0 + HOUR, 60).unwrap();
        read.into_iter().map(|period| (period.start_ms - T0, period.stats, period.unit)).collect()
    };
    let count = |value: f64| set(1.0, value, value, value);
    assert_eq!(by_unit(Some("Count")), [(0, count(3.0), "Count".into()), (MINUTE, count(4.0), "Count".into())]);
    assert_eq!(by_unit(Some("Seconds")), [(0, count(0.5), "Seconds".into())]);
    assert!(by_unit(Some("Bytes")).is_empty());
    assert_eq!(
        by_unit(None),
        [(0, set(2.0, 3.5, 0.5, 3.0), "None".into()), (MINUTE, count(4.0), "Count".into())],
        "no unit merges them all, and a period of mixed units says None"
    );
}

#[test]
fn high_resolution_datapoints_read_by_the_second() {
    let store = MetricStore::in_memory();
    let requests = series("Requests");
    let seconds = [500, 1_200, 1_700, 12_000, 61_000];
    let mut datapoints: Vec<NewDatapoint> = seconds.iter().map(|ms| high(&requests, T0 + ms, 1.0)).collect();
    // A standard datapoint of the same minute is in that minute's bucket, which starts at T0.
    datapoints.push(point(&requests, T0 + 30 * SECOND, 10.0));
    store.put(datapoints).unwrap();
    let end = T0 + HOUR;
    assert_eq!(
        read(&store, &requests, T0, end, 1),
        [
            (0, set(2.0, 11.0, 1.0, 10.0)),
            (SECOND, set(2.0, 2.0, 1.0, 1.0)),
            (12 * SECOND, set(1.0, 1.0, 1.0, 1.0)),
            (61 * SECOND, set(1.0, 1.0, 1.0, 1.0)),
        ]
    );
    assert_eq!(
        read(&store, &requests, T0, end, 10),
        [(0, set(4.0, 13.0, 1.0, 10.0)), (10 * SECOND, set(1.0, 1.0, 1.0, 1.0)), (MINUTE, set(1.0, 1.0, 1.0, 1.0))]
    );
    assert_eq!(
        read(&store, &requests, T0, end, 60),
        [(0, set(5.0, 14.0, 1.0, 10.0)), (MINUTE, set(1.0, 1.0, 1.0, 1.0))]
    );
}

#[test]
fn everything_acknowledged_survives_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("metrics.redb");
    let (cpu, memory) = (series("CPUUtilization"), series("MemoryUtilization"));
    let before = {
        let store = MetricStore::open(&path).unwrap();
        store.put(vec![point(&cpu, T0, 1.0), high(&cpu, T0 + 1_500, 2.0), point(&memory, T0 + HOUR, 3.0)]).unwrap();
        store.put(vec![point(&cpu, T0 + 5 * MINUTE, 4.0)]).unwrap();
        // A series swept away stays away.
        store.put(vec![point(&series("Ancient"), T0 - 500 * DAY, 1.0)]).unwrap();
        assert_eq!(store.sweep(T0).unwrap().deleted, 1);
        (read(&store, &cpu, T0, T0 + DAY, 1), read(&store, &memory, T0, T0 + DAY, 60), store.series(i64::MIN))
    };
    assert_eq!((before.0.len(), before.2.len()), (3, 2));
    let store = MetricStore::open(&path).unwrap();
    assert_eq!(read(&store, &cpu, T0, T0 + DAY, 1), before.0);
    assert_eq!(read(&store, &memory, T0, T0 + DAY, 60), before.1);
    assert_eq!(store.series(i64::MIN), before.2);
    // A series new after the reopen gets an id of its own: the old ones are untouched.
    let disk = series("DiskUtilization");
    store.put(vec![point(&disk, T0, 9.0)]).unwrap();
    assert_eq!(read(&store, &cpu, T0, T0 + DAY, 1), before.0);
    assert_eq!(read(&store, &disk, T0, T0 + DAY, 60), [(0, set(1.0, 9.0, 9.0, 9.0))]);
}

#[test]
fn series_are_listed_in_order_and_filtered_by_recency() {
    let store = MetricStore::in_memory();
    let key = |namespace: &str, name: &str, value: &str| {
        SeriesKey::new(namespace, name, vec![Dimension::new("ServiceName", value)])
    };
    let (b, a2, a1y, a1x) = (key("B", "M", "x"), key("A", "N", "x"), key("A", "M", "y"), key("A", "M", "x"));
    let wall_before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    store.put(vec![point(&b, T0, 1.0), point(&a2, T0 + HOUR, 1.0), point(&a1y, T0 + 2 * HOUR, 1.0)]).unwrap();
    store.put(vec![point(&a1x, T0 + 3 * HOUR, 1.0), point(&a1x, T0, 1.0)]).unwrap();
    let listed = store.series(i64::MIN);
    let keys: Vec<&SeriesKey> = listed.iter().map(|info| &info.key).collect();
    assert_eq!(keys, [&a1x, &a1y, &a2, &b]);
    assert_eq!(listed[0].last_timestamp_ms, T0 + 3 * HOUR, "an older datapoint does not move it back");
    assert!(listed.iter().all(|info| info.last_put_ms >= wall_before));
    let recent: Vec<SeriesKey> = store.series(T0 + 2 * HOUR).into_iter().map(|info| info.key).collect();
    assert_eq!(recent, [a1x, a1y]);
    assert!(store.series(T0 + 4 * HOUR).is_empty());
}

#[test]
fn concurrent_puts_all_land() {
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(MetricStore::open(&directory.path().join("metrics.redb")).unwrap());
    let shared = series("Shared");
    let writers: Vec<_> = (0..8)
        .map(|thread| {
            let (store, shared) = (Arc::clone(&store), shared.clone());
            std::thread::spawn(move || {
                let own = series(&format!("Own{thread}"));
                for put in 0..25 {
                    let at = T0 + put * SECOND;
                    store.put(vec![point(&own, at, 1.0), point(&own, at, 2.0), point(&shared, at, 1.0)]).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(total(&store, &shared), set(200.0, 200.0, 1.0, 1.0));
    for thread in 0..8 {
        assert_eq!(total(&store, &series(&format!("Own{thread}"))), set(50.0, 75.0, 1.0, 2.0));
    }
    assert_eq!(store.series(i64::MIN).len(), 9);
}

#[test]
fn dimension_order_does_not_matter() {
    let store = MetricStore::in_memory();
    let (cluster, service) = (Dimension::new("ClusterName", "c"), Dimension::new("ServiceName", "s"));
    // Built by hand, out of order, as a decoder might.
    let unsorted = SeriesKey {
        namespace: "AWS/ECS".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: vec![service.clone(), cluster.clone()],
    };
    let sorted = SeriesKey::new("AWS/ECS", "CPUUtilization", vec![service, cluster]);
    assert_eq!(sorted.dimensions[0].name, "ClusterName");
    store.put(vec![point(&unsorted, T0, 1.0)]).unwrap();
    store.put(vec![point(&sorted, T0, 2.0)]).unwrap();
    assert_eq!(read(&store, &sorted, T0, T0 + MINUTE, 60), [(0, set(2.0, 3.0, 1.0, 2.0))]);
    assert_eq!(read(&store, &unsorted, T0, T0 + MINUTE, 60), [(0, set(2.0, 3.0, 1.0, 2.0))]);
    let listed = store.series(i64::MIN);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, sorted);
}

#[test]
fn the_store_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<MetricStore>();
    assert_eq!(MetricStore::in_memory().put(Vec::new()), Ok(()));
}

mod sweep;
mod timing;
