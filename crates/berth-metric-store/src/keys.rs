//! The levels of buckets and the bytes of keys and values.
//!
//! A bucket key is (series id, level, bucket start, unit): the id as 8 big-endian bytes, the
//! level as one byte, the start as 8 big-endian bytes with the sign bit flipped (so negative
//! times sort before positive ones), then the unit's UTF-8 bytes to the end. Keys therefore
//! sort by (series, level, start, unit), and the buckets of one series and level starting in
//! [a, b) are exactly the keys in [key(a, ""), key(b, "")).
//!
//! Values: a statistic set is four f64 as big-endian bits (count, sum, min, max); a series
//! record is (last timestamp, last put, namespace, metric name, dimensions), strings with a
//! u32 length before them.

use crate::{Dimension, SeriesKey, StatisticSet};

/// One level of buckets: how wide they are and how long they stay before moving to the next
/// level (or, for the last, going).
pub(crate) struct Level {
    pub(crate) width_ms: i64,
    pub(crate) retention_ms: i64,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// CloudWatch's retention: sub-minute data 3 hours, minutes 15 days, 5 minutes 63 days,
/// hours 455 days.
pub(crate) const LEVELS: [Level; 4] = [
    Level { width_ms: 1_000, retention_ms: 3 * HOUR_MS },
    Level { width_ms: 60_000, retention_ms: 15 * DAY_MS },
    Level { width_ms: 300_000, retention_ms: 63 * DAY_MS },
    Level { width_ms: HOUR_MS, retention_ms: 455 * DAY_MS },
];

/// Where high-resolution datapoints land, and standard ones.
pub(crate) const HIGH_LEVEL: u8 = 0;
pub(crate) const STANDARD_LEVEL: u8 = 1;

/// The start of the bucket of `level` holding `timestamp_ms`.
pub(crate) fn bucket_start(level: u8, timestamp_ms: i64) -> i64 {
    let width = LEVELS[usize::from(level)].width_ms;
    timestamp_ms.div_euclid(width) * width
}

const PREFIX_LEN: usize = 17;
const SIGN: u64 = 1 << 63;

pub(crate) fn bucket_key(series: u64, level: u8, start_ms: i64, unit: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(PREFIX_LEN + unit.len());
    key.extend_from_slice(&series.to_be_bytes());
    key.push(level);
    key.extend_from_slice(&((start_ms as u64) ^ SIGN).to_be_bytes());
    key.extend_from_slice(unit.as_bytes());
    key
}

/// The first key of a series: every bucket of `series` is in [series_start(s), series_start(s + 1)).
pub(crate) fn series_start(series: u64) -> Vec<u8> {
    series.to_be_bytes().to_vec()
}

/// A decoded bucket key, borrowing its unit from the key's bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BucketKey<'a> {
    pub(crate) series: u64,
    pub(crate) level: u8,
    pub(crate) start_ms: i64,
    pub(crate) unit: &'a str,
}

pub(crate) fn decode_bucket_key(bytes: &[u8]) -> Option<BucketKey<'_>> {
    let (head, unit) = bytes.split_at_checked(PREFIX_LEN)?;
    let series = u64::from_be_bytes(head[..8].try_into().ok()?);
    let start = u64::from_be_bytes(head[9..17].try_into().ok()?) ^ SIGN;
    Some(BucketKey { series, level: head[8], start_ms: start as i64, unit: std::str::from_utf8(unit).ok()? })
}

pub(crate) fn encode_stats(stats: &StatisticSet) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let words = [stats.sample_count, stats.sum, stats.minimum, stats.maximum];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_bits().to_be_bytes());
    }
    bytes
}

pub(crate) fn decode_stats(bytes: &[u8]) -> Option<StatisticSet> {
    if bytes.len() != 32 {
        return None;
    }
    let word =
        |index: usize| f64::from_bits(u64::from_be_bytes(bytes[index * 8..index * 8 + 8].try_into().expect("8 bytes")));
    Some(StatisticSet { sample_count: word(0), sum: word(1), minimum: word(2), maximum: word(3) })
}

/// A series' persistent figures besides its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figures {
    pub(crate) id: u64,
    pub(crate) last_timestamp_ms: i64,
    pub(crate) last_put_ms: i64,
}

fn push_text(bytes: &mut Vec<u8>, text: &str) {
    bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
    bytes.extend_from_slice(text.as_bytes());
}

pub(crate) fn encode_series(key: &SeriesKey, figures: &Figures) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(&figures.last_timestamp_ms.to_be_bytes());
    bytes.extend_from_slice(&figures.last_put_ms.to_be_bytes());
    push_text(&mut bytes, &key.namespace);
    push_text(&mut bytes, &key.metric_name);
    bytes.extend_from_slice(&(key.dimensions.len() as u32).to_be_bytes());
    for dimension in &key.dimensions {
        push_text(&mut bytes, &dimension.name);
        push_text(&mut bytes, &dimension.value);
    }
    bytes
}

/// Takes bytes off the front of a record.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(count)?;
        self.0 = tail;
        Some(head)
    }

    fn word(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn length(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn text(&mut self) -> Option<String> {
        let length = self.length()? as usize;
        String::from_utf8(self.take(length)?.to_vec()).ok()
    }
}

/// Reads a series record; `None` for bytes this encoding did not write.
pub(crate) fn decode_series(id: u64, bytes: &[u8]) -> Option<(SeriesKey, Figures)> {
    let mut reader = Reader(bytes);
    let last_timestamp_ms = reader.word()?;
    let last_put_ms = reader.word()?;
    let namespace = reader.text()?;
    let metric_name = reader.text()?;
    let count = reader.length()?;
    // The count comes from the file: do not let a damaged one reserve gigabytes.
    let mut dimensions = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        dimensions.push(Dimension { name: reader.text()?, value: reader.text()? });
    }
    let key = SeriesKey { namespace, metric_name, dimensions };
    Some((key, Figures { id, last_timestamp_ms, last_put_ms }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_keys_sort_by_series_level_start_then_unit() {
        let keys = [
            (1, 0, 5_000, "Count"),
            (1, 1, -60_000, "None"),
            (1, 1, 0, ""),
            (1, 1, 0, "Count"),
            (1, 1, 0, "Seconds"),
            (1, 1, 60_000, "Count"),
            (1, 3, i64::MIN, ""),
            (2, 0, i64::MIN, ""),
        ];
        let encoded: Vec<Vec<u8>> = keys.iter().map(|(s, l, t, u)| bucket_key(*s, *l, *t, u)).collect();
        assert!(encoded.windows(2).all(|pair| pair[0] < pair[1]));
        for (bytes, (series, level, start_ms, unit)) in encoded.iter().zip(keys) {
            assert_eq!(decode_bucket_key(bytes), Some(BucketKey { series, level, start_ms, unit }));
        }
        assert!(series_start(1) < encoded[0] && encoded[6] < series_start(2));
    }

    #[test]
    fn values_round_trip() {
        let stats = StatisticSet { sample_count: 3.0, sum: -1.5, minimum: f64::MIN_POSITIVE, maximum: 1e300 };
        assert_eq!(decode_stats(&encode_stats(&stats)), Some(stats));
        let key = SeriesKey::new("ns", "m", vec![Dimension::new("b", "2"), Dimension::new("a", "")]);
        let figures = Figures { id: 9, last_timestamp_ms: -1, last_put_ms: 1_700_000_000_000 };
        assert_eq!(decode_series(9, &encode_series(&key, &figures)), Some((key, figures)));
        assert_eq!(decode_series(9, &[0; 12]), None);
    }

    #[test]
    fn buckets_start_at_their_level_width() {
        assert_eq!(bucket_start(STANDARD_LEVEL, 119_999), 60_000);
        assert_eq!(bucket_start(HIGH_LEVEL, 1_999), 1_000);
        assert_eq!(bucket_start(STANDARD_LEVEL, -1), -60_000);
    }
}
