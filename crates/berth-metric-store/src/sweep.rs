//! One step of a sweep, inside the writer's transaction: the buckets of one level whose whole
//! span is older than the level's retention are merged into their buckets of the next level
//! and removed, or, at the last level, removed. Taking a bucket out and merging it into the
//! next level happen in the same transaction, so a datapoint is in exactly one level before,
//! during (to any reader) and after.
//!
//! After the last level's step, a series left with no bucket whose latest datapoint is older
//! than the last level's retention is dropped from the series table; with its last bucket gone
//! nothing refers to its id any more (the invariant `writer::put` relies on).

use crate::index::{Changes, Index};
use crate::keys::{self, LEVELS};
use crate::writer::{write_error, BucketTable, SeriesTable};
use crate::{MetricStoreResult, StatisticSet, SweepOutcome};
use redb::ReadableTable;
use std::collections::BTreeMap;

pub(crate) fn step(
    buckets: &mut BucketTable<'_>,
    series: &mut SeriesTable<'_>,
    index: &Index,
    changes: &mut Changes,
    level: u8,
    now_ms: i64,
) -> MetricStoreResult<SweepOutcome> {
    let Some(spec) = LEVELS.get(usize::from(level)) else {
        return Ok(SweepOutcome::default());
    };
    let cutoff = now_ms.saturating_sub(spec.retention_ms);
    // Buckets starting before `upper` end at or before the cutoff.
    let upper = cutoff.saturating_sub(spec.width_ms).saturating_add(1);
    // Series of this very transaction's puts are not in the index yet, but their buckets
    // may already be old (the store keeps whatever time it is given).
    let mut ids: Vec<u64> =
        index.iter().map(|(_, figures)| figures.id).chain(changes.touched.values().map(|figures| figures.id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let last = usize::from(level) + 1 == LEVELS.len();
    let mut outcome = SweepOutcome::default();
    for id in ids {
        let low = keys::bucket_key(id, level, i64::MIN, "");
        let high = keys::bucket_key(id, level, upper, "");
        if last {
            buckets
                .retain_in(&low[..]..&high[..], |_, _| {
                    outcome.deleted += 1;
                    false
                })
                .map_err(|e| write_error(&e))?;
        } else {
            outcome.rolled_up += roll_up(buckets, id, level, &low, &high)?;
        }
    }
    if last {
        drop_empty_series(buckets, series, index, changes, cutoff)?;
    }
    Ok(outcome)
}

/// Moves the buckets of series `id` in [low, high) of `level` into the next level; returns
/// how many moved.
fn roll_up(buckets: &mut BucketTable<'_>, id: u64, level: u8, low: &[u8], high: &[u8]) -> MetricStoreResult<u64> {
    let next = level + 1;
    let mut moved = 0;
    let mut merged: BTreeMap<Vec<u8>, StatisticSet> = BTreeMap::new();
    for row in buckets.extract_from_if(low..high, |_, _| true).map_err(|e| write_error(&e))? {
        let (key, value) = row.map_err(|e| write_error(&e))?;
        let (Some(bucket), Some(stats)) = (keys::decode_bucket_key(key.value()), keys::decode_stats(value.value()))
        else {
            // Not bytes this store wrote; it is gone with the extraction either way.
            continue;
        };
        let target = keys::bucket_key(id, next, keys::bucket_start(next, bucket.start_ms), bucket.unit);
        merged.entry(target).and_modify(|known| known.merge(&stats)).or_insert(stats);
        moved += 1;
    }
    for (target, mut stats) in merged {
        if let Some(stored) = buckets.get(&target[..]).map_err(|e| write_error(&e))? {
            if let Some(stored) = keys::decode_stats(stored.value()) {
                stats.merge(&stored);
            }
        }
        buckets.insert(&target[..], &keys::encode_stats(&stats)[..]).map_err(|e| write_error(&e))?;
    }
    Ok(moved)
}

fn drop_empty_series(
    buckets: &mut BucketTable<'_>,
    series: &mut SeriesTable<'_>,
    index: &Index,
    changes: &mut Changes,
    cutoff: i64,
) -> MetricStoreResult<()> {
    // A series this transaction put to has a bucket from that put, so only the index's
    // untouched series can be empty.
    let candidates =
        index.iter().filter(|(key, figures)| figures.last_timestamp_ms < cutoff && !changes.touched.contains_key(*key));
    let mut dropped = Vec::new();
    for (key, figures) in candidates {
        let (first, beyond) = (keys::series_start(figures.id), keys::series_start(figures.id + 1));
        let mut remaining = buckets.range(&first[..]..&beyond[..]).map_err(|e| write_error(&e))?;
        if remaining.next().is_none() {
            series.remove(figures.id).map_err(|e| write_error(&e))?;
            dropped.push(key.clone());
        }
    }
    changes.dropped.extend(dropped);
    Ok(())
}
