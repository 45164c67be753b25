//! The one writer: a thread that takes every command queued since its last commit, applies
//! them in one redb write transaction, commits it with an fsync, and only then moves the
//! in-memory index and answers the callers. A failed transaction changes nothing, in the
//! file or in memory, and every caller of its group hears the error.
//!
//! Within a group the puts go first, coalesced into one change per bucket, then the sweep
//! steps in the order they came; either order keeps every datapoint in exactly one level.

use crate::index::{Changes, Index};
use crate::keys::{self, Figures};
use crate::{MetricStoreError, MetricStoreResult, NewDatapoint, Resolution, SeriesKey, StatisticSet, SweepOutcome};
use parking_lot::RwLock;
use redb::{Database, ReadableTable, Table, TableDefinition};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;

/// Bucket key (see `keys`) → statistic set.
pub(crate) const BUCKETS: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("buckets");
/// Series id → series record.
pub(crate) const SERIES: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("series");

pub(crate) type BucketTable<'t> = Table<'t, &'static [u8], &'static [u8]>;
pub(crate) type SeriesTable<'t> = Table<'t, u64, &'static [u8]>;

/// Commands gathered into one transaction at most; the rest wait for the next.
const MAX_GROUP: usize = 1024;

type Reply<T> = mpsc::SyncSender<MetricStoreResult<T>>;

pub(crate) enum Command {
    Put {
        datapoints: Vec<NewDatapoint>,
        reply: Reply<()>,
    },
    /// One step of a sweep: move (or, for the last level, delete) the buckets of `level`
    /// that aged out at `now_ms`.
    Sweep {
        level: u8,
        now_ms: i64,
        reply: Reply<SweepOutcome>,
    },
}

pub(crate) struct Writer {
    commands: Option<mpsc::Sender<Command>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    /// Lets the thread finish what is queued and close the database, so the file can be
    /// opened again at once.
    fn drop(&mut self) {
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    pub(crate) fn start(database: Arc<Database>, index: Arc<RwLock<Index>>) -> Writer {
        let (commands, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("metric-store-writer".into())
            .spawn(move || run(&database, &index, &receiver))
            .expect("the metric store's writer thread starts");
        Writer { commands: Some(commands), thread: Some(thread) }
    }

    pub(crate) fn call<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> MetricStoreResult<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        let commands = self.commands.as_ref().ok_or(MetricStoreError::Stopped)?;
        commands.send(command(reply)).map_err(|_| MetricStoreError::Stopped)?;
        answer.recv().map_err(|_| MetricStoreError::Stopped)?
    }
}

pub(crate) fn write_error(error: &dyn std::fmt::Display) -> MetricStoreError {
    MetricStoreError::Write(error.to_string())
}

/// Creates the tables and reads every series record.
pub(crate) fn prepare(database: &Database) -> MetricStoreResult<Index> {
    let transaction = database.begin_write().map_err(|e| write_error(&e))?;
    transaction.open_table(BUCKETS).map_err(|e| write_error(&e))?;
    let mut series = Vec::new();
    {
        let table = transaction.open_table(SERIES).map_err(|e| write_error(&e))?;
        for row in table.iter().map_err(|e| write_error(&e))? {
            let (id, value) = row.map_err(|e| write_error(&e))?;
            let (id, value) = (id.value(), value.value());
            let record = keys::decode_series(id, value)
                .ok_or_else(|| MetricStoreError::Read(format!("series record {id} is damaged")))?;
            series.push(record);
        }
    }
    transaction.commit().map_err(|e| write_error(&e))?;
    Ok(Index::load(series))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn run(database: &Database, index: &RwLock<Index>, receiver: &mpsc::Receiver<Command>) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(command) => group.push(command),
                Err(_) => break,
            }
        }
        let mut datapoints = Vec::new();
        let mut put_replies = Vec::new();
        let mut sweeps = Vec::new();
        for command in group {
            match command {
                Command::Put { datapoints: more, reply } => {
                    datapoints.extend(more);
                    put_replies.push(reply);
                }
                Command::Sweep { level, now_ms, reply } => sweeps.push((level, now_ms, reply)),
            }
        }
        let mut changes = Changes::default();
        let steps: Vec<(u8, i64)> = sweeps.iter().map(|(level, now, _)| (*level, *now)).collect();
        // A caller that went away does not need its answer, hence the dropped send results.
        match apply_group(database, index, datapoints, &steps, &mut changes) {
            Ok(outcomes) => {
                index.write().apply(changes);
                for reply in put_replies {
                    drop(reply.send(Ok(())));
                }
                for ((_, _, reply), outcome) in sweeps.into_iter().zip(outcomes) {
                    drop(reply.send(Ok(outcome)));
                }
            }
            Err(error) => {
                for reply in put_replies {
                    drop(reply.send(Err(error.clone())));
                }
                for (_, _, reply) in sweeps {
                    drop(reply.send(Err(error.clone())));
                }
            }
        }
    }
}

fn apply_group(
    database: &Database,
    index: &RwLock<Index>,
    datapoints: Vec<NewDatapoint>,
    sweeps: &[(u8, i64)],
    changes: &mut Changes,
) -> MetricStoreResult<Vec<SweepOutcome>> {
    let transaction = database.begin_write().map_err(|e| write_error(&e))?;
    let mut outcomes = Vec::with_capacity(sweeps.len());
    {
        let mut buckets = transaction.open_table(BUCKETS).map_err(|e| write_error(&e))?;
        let mut series = transaction.open_table(SERIES).map_err(|e| write_error(&e))?;
        // Only this thread writes the index, so the snapshot cannot move under us.
        let index = index.read();
        if !datapoints.is_empty() {
            put(&mut buckets, &mut series, &index, datapoints, now_ms(), changes)?;
        }
        for &(level, now) in sweeps {
            outcomes.push(crate::sweep::step(&mut buckets, &mut series, &index, changes, level, now)?);
        }
    }
    transaction.commit().map_err(|e| write_error(&e))?;
    Ok(outcomes)
}

fn put(
    buckets: &mut BucketTable<'_>,
    series: &mut SeriesTable<'_>,
    index: &Index,
    datapoints: Vec<NewDatapoint>,
    now: i64,
    changes: &mut Changes,
) -> MetricStoreResult<()> {
    let first_new_id = index.next_id();
    let mut next_id = first_new_id;
    // Sorted by key, so the writes below walk the tree in order.
    let mut merged: BTreeMap<Vec<u8>, StatisticSet> = BTreeMap::new();
    for datapoint in datapoints {
        let NewDatapoint { series: key, timestamp_ms, resolution, unit, stats } = datapoint;
        let figures = changes.touched.entry(key.normalized()).or_insert_with_key(|key| {
            index.get(key).unwrap_or_else(|| {
                next_id += 1;
                Figures { id: next_id - 1, last_timestamp_ms: i64::MIN, last_put_ms: now }
            })
        });
        figures.last_timestamp_ms = figures.last_timestamp_ms.max(timestamp_ms);
        figures.last_put_ms = now;
        let level = match resolution {
            Resolution::High => keys::HIGH_LEVEL,
            Resolution::Standard => keys::STANDARD_LEVEL,
        };
        let bucket = keys::bucket_key(figures.id, level, keys::bucket_start(level, timestamp_ms), &unit);
        merged.entry(bucket).and_modify(|known| known.merge(&stats)).or_insert(stats);
    }
    for (bucket, mut stats) in merged {
        // A series first seen in this transaction has an id never used before (ids only grow,
        // and a series is dropped only with its last bucket), so it has no stored bucket.
        let id = u64::from_be_bytes(bucket[..8].try_into().expect("a bucket key starts with its series"));
        if id < first_new_id {
            if let Some(stored) = buckets.get(&bucket[..]).map_err(|e| write_error(&e))? {
                if let Some(stored) = keys::decode_stats(stored.value()) {
                    stats.merge(&stored);
                }
            }
        }
        buckets.insert(&bucket[..], &keys::encode_stats(&stats)[..]).map_err(|e| write_error(&e))?;
    }
    // In id order, like the buckets, rather than the hash map's.
    let mut records: Vec<(&SeriesKey, &Figures)> = changes.touched.iter().collect();
    records.sort_unstable_by_key(|(_, figures)| figures.id);
    for (key, figures) in records {
        series.insert(figures.id, &keys::encode_series(key, figures)[..]).map_err(|e| write_error(&e))?;
    }
    changes.next_id = Some(next_id);
    Ok(())
}
