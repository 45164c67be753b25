use super::*;
use std::time::Instant;

/// Prints (never asserts) how long the reads and puts the store is meant to be quick at take.
#[test]
fn timings_for_the_record() {
    let directory = tempfile::tempdir().unwrap();
    let store = MetricStore::open(&directory.path().join("metrics.redb")).unwrap();
    let cpu = series("CPUUtilization");
    // A day at 10 s: 8,640 datapoints, 1,440 minute buckets.
    store.put((0..8_640).map(|step| point(&cpu, T0 + step * 10 * SECOND, (step % 100) as f64)).collect()).unwrap();
    let mut reads = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let periods = store.read(&cpu, Some("Count"), T0, T0 + DAY, 60).unwrap();
        reads.push(started.elapsed());
        assert_eq!(periods.len(), 1_440);
    }
    reads.sort();
    let many: Vec<NewDatapoint> = (0..10_000).map(|n| point(&series(&format!("M{n}")), T0, n as f64)).collect();
    let started = Instant::now();
    store.put(many.clone()).unwrap();
    let new_series = started.elapsed();
    let started = Instant::now();
    store.put(many).unwrap();
    let known_series = started.elapsed();
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    eprintln!(
        "metric store timings ({build}): read 24 h of 1,440 minute buckets into 60 s periods: min {:?}, median {:?}, max {:?}; \
         put 10,000 datapoints of 10,000 new series: {new_series:?}; of the same, now known, series: {known_series:?}",
        reads[0],
        reads[reads.len() / 2],
        reads[reads.len() - 1],
    );
}
