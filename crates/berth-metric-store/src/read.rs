//! Reads: one redb read transaction (a consistent snapshot, so a sweep moving buckets between
//! levels is seen wholly or not at all), one range scan per level over the series' buckets
//! starting in [start, end), each bucket merged into the period holding its start.
//!
//! A bucket is taken whole or not at all: a 60 s bucket starting before `start_ms` is left
//! out even if some of its datapoints were at or after `start_ms`. With `start_ms` aligned to
//! the level's width (as CloudWatch asks of callers for old data) the two are the same.

use crate::keys::{self, LEVELS};
use crate::writer::BUCKETS;
use crate::{MetricStore, MetricStoreError, MetricStoreResult, PeriodStats, SeriesKey};

fn read_error(error: &dyn std::fmt::Display) -> MetricStoreError {
    MetricStoreError::Read(error.to_string())
}

/// The unit of a period merging `unit` into one of `known`: a period of mixed units says "None".
fn merged_unit(known: &mut String, unit: &str) {
    if known != unit {
        known.clear();
        known.push_str("None");
    }
}

impl MetricStore {
    /// The datapoints of `series` (only those whose unit is `unit`, when given) with
    /// `start_ms <= t < end_ms`, merged into periods `[start_ms + i * period_s * 1000, ...)`.
    /// Periods with no data are absent; the rest come in ascending order. With `unit` `None`
    /// every unit is merged. A `period_s` of 0 is taken as 1.
    pub fn read(
        &self,
        series: &SeriesKey,
        unit: Option<&str>,
        start_ms: i64,
        end_ms: i64,
        period_s: u32,
    ) -> MetricStoreResult<Vec<PeriodStats>> {
        let id = {
            let index = self.index.read();
            let found =
                if series.dimensions.is_sorted() { index.get(series) } else { index.get(&series.clone().normalized()) };
            match found {
                Some(figures) => figures.id,
                None => return Ok(Vec::new()),
            }
        };
        if start_ms >= end_ms {
            return Ok(Vec::new());
        }
        let period_ms = i64::from(period_s.max(1)) * 1000;
        let transaction = self.database.begin_read().map_err(|e| read_error(&e))?;
        let table = transaction.open_table(BUCKETS).map_err(|e| read_error(&e))?;
        let mut periods: Vec<PeriodStats> = Vec::new();
        let mut levels_with_data = 0;
        for level in 0..LEVELS.len() as u8 {
            let low = keys::bucket_key(id, level, start_ms, "");
            let high = keys::bucket_key(id, level, end_ms, "");
            let before = periods.len();
            for row in table.range(&low[..]..&high[..]).map_err(|e| read_error(&e))? {
                let (key, value) = row.map_err(|e| read_error(&e))?;
                let (Some(bucket), Some(stats)) =
                    (keys::decode_bucket_key(key.value()), keys::decode_stats(value.value()))
                else {
                    continue;
                };
                if unit.is_some_and(|wanted| wanted != bucket.unit) {
                    continue;
                }
                let period_start = start_ms + (bucket.start_ms - start_ms).div_euclid(period_ms) * period_ms;
                // One level's buckets come in ascending start, so a period is only ever the last;
                // a period of an earlier level is merged with it after the scans.
                let this_level = periods.len() > before;
                match periods.last_mut() {
                    Some(last) if this_level && last.start_ms == period_start => {
                        last.stats.merge(&stats);
                        merged_unit(&mut last.unit, bucket.unit);
                    }
                    _ => periods.push(PeriodStats { start_ms: period_start, stats, unit: bucket.unit.to_string() }),
                }
            }
            if periods.len() > before {
                levels_with_data += 1;
            }
        }
        if levels_with_data > 1 {
            periods = merge_levels(periods);
        }
        Ok(periods)
    }
}

/// Periods of several levels, each level's ascending, as one ascending list with each period once.
fn merge_levels(mut periods: Vec<PeriodStats>) -> Vec<PeriodStats> {
    periods.sort_by_key(|period| period.start_ms);
    let mut merged: Vec<PeriodStats> = Vec::with_capacity(periods.len());
    for period in periods {
        match merged.last_mut() {
            Some(last) if last.start_ms == period.start_ms => {
                last.stats.merge(&period.stats);
                merged_unit(&mut last.unit, &period.unit);
            }
            _ => merged.push(period),
        }
    }
    merged
}
