//! Sweeps: each datapoint counted once before and after every roll-up, and gone at the end.

use super::*;

#[test]
fn sweep_rolls_seconds_into_minutes_after_three_hours_counting_each_once() {
    let store = MetricStore::in_memory();
    let requests = series("Requests");
    store.put((0..120).map(|second| high(&requests, T0 + second * SECOND, second as f64)).collect()).unwrap();
    store.put(vec![point(&requests, T0 + 30 * SECOND, 1_000.0)]).unwrap();
    let minutes = read(&store, &requests, T0, T0 + HOUR, 60);
    assert_eq!(minutes, [(0, set(61.0, 2_770.0, 0.0, 1_000.0)), (MINUTE, set(60.0, 5_370.0, 60.0, 119.0))]);
    assert_eq!(read(&store, &requests, T0, T0 + HOUR, 1).len(), 120, "the standard point shares second 0");

    // Three hours after the first second ends nothing is older than three hours yet.
    assert_eq!(store.sweep(T0 + 3 * HOUR).unwrap(), SweepOutcome::default());
    // A bucket moves once its whole span is older, not as soon as its start is.
    assert_eq!(store.sweep(T0 + 3 * HOUR + SECOND - 1).unwrap(), SweepOutcome::default());
    assert_eq!(store.sweep(T0 + 3 * HOUR + SECOND).unwrap(), SweepOutcome { rolled_up: 1, deleted: 0 });
    assert_eq!(read(&store, &requests, T0, T0 + HOUR, 60), minutes);
    let outcome = store.sweep(T0 + 3 * HOUR + MINUTE).unwrap();
    assert_eq!(outcome, SweepOutcome { rolled_up: 59, deleted: 0 });
    assert_eq!(read(&store, &requests, T0, T0 + HOUR, 60), minutes);
    let by_second = read(&store, &requests, T0, T0 + HOUR, 1);
    assert_eq!(by_second.len(), 61, "the first minute is one bucket now");
    assert_eq!(by_second[0], (0, minutes[0].1));

    assert_eq!(store.sweep(T0 + 4 * HOUR).unwrap().rolled_up, 60);
    assert_eq!(store.sweep(T0 + 4 * HOUR).unwrap(), SweepOutcome::default(), "a second sweep finds nothing");
    assert_eq!(read(&store, &requests, T0, T0 + HOUR, 1), minutes);
}

#[test]
fn sweep_moves_minutes_to_five_minutes_to_hours_then_deletes() {
    let store = MetricStore::in_memory();
    let (old, recent) = (series("Old"), series("Recent"));
    // An hour at 10 s: 360 datapoints in 60 minute buckets.
    store.put((0..360).map(|step| point(&old, T0 + step * 10 * SECOND, (step % 7) as f64)).collect()).unwrap();
    let whole = total(&store, &old);
    assert_eq!((whole.sample_count, whole.sum, whole.minimum, whole.maximum), (360.0, 1_074.0, 0.0, 6.0));
    let five_minutes = read(&store, &old, T0, T0 + HOUR, 300);
    assert_eq!(five_minutes.len(), 12);

    let outcome = store.sweep(T0 + HOUR + 15 * DAY).unwrap();
    assert_eq!(outcome, SweepOutcome { rolled_up: 60, deleted: 0 });
    assert_eq!(read(&store, &old, T0, T0 + HOUR, 300), five_minutes);
    assert_eq!(read(&store, &old, T0, T0 + HOUR, 60), five_minutes, "only five-minute buckets are left");

    assert_eq!(store.sweep(T0 + HOUR + 63 * DAY).unwrap(), SweepOutcome { rolled_up: 12, deleted: 0 });
    assert_eq!(read(&store, &old, T0, T0 + HOUR, 60), [(0, whole)]);

    store.put(vec![point(&recent, T0 + 455 * DAY, 1.0)]).unwrap();
    assert_eq!(store.sweep(T0 + HOUR + 455 * DAY - 1).unwrap(), SweepOutcome::default());
    assert_eq!(store.sweep(T0 + HOUR + 455 * DAY).unwrap(), SweepOutcome { rolled_up: 0, deleted: 1 });
    assert!(read(&store, &old, T0, T0 + HOUR, 60).is_empty());
    let left: Vec<SeriesKey> = store.series(i64::MIN).into_iter().map(|info| info.key).collect();
    assert_eq!(total(&store, &recent).sample_count, 1.0);
    assert_eq!(left, [recent], "the emptied series is dropped, the one with data stays");
}

#[test]
fn one_late_sweep_cascades_through_every_level() {
    let store = MetricStore::in_memory();
    let requests = series("Requests");
    store
        .put(vec![high(&requests, T0, 1.0), high(&requests, T0 + 2 * SECOND, 2.0), point(&requests, T0, 3.0)])
        .unwrap();
    let outcome = store.sweep(T0 + 500 * DAY).unwrap();
    // Two seconds into one minute, that minute into five, into an hour, deleted.
    assert_eq!(outcome, SweepOutcome { rolled_up: 4, deleted: 1 });
    assert!(store.series(i64::MIN).is_empty());
    assert_eq!(total(&store, &requests).sample_count, 0.0);

    // A datapoint older than 455 days whose hour is not: the series keeps it and stays listed.
    let edge = series("Edge");
    store.put(vec![point(&edge, T0 + 30 * MINUTE, 1.0)]).unwrap();
    let outcome = store.sweep(T0 + 455 * DAY + 45 * MINUTE).unwrap();
    assert_eq!(outcome, SweepOutcome { rolled_up: 2, deleted: 0 });
    assert_eq!(store.series(i64::MIN).len(), 1);
    assert_eq!(read(&store, &edge, T0, T0 + HOUR, 3_600), [(0, set(1.0, 1.0, 1.0, 1.0))]);
    assert_eq!(store.sweep(T0 + 456 * DAY).unwrap().deleted, 1);
    assert!(store.series(i64::MIN).is_empty());
}
