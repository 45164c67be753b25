//! Event keys as bytes that sort as (stream, timestamp, arrival): big-endian, with the
//! timestamp's sign bit flipped so negative times sort before positive ones.

/// Where an event stands in its stream: its timestamp, then its arrival number, so events of
/// equal timestamps keep the order they came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub timestamp: i64,
    pub sequence: u64,
}

impl EventKey {
    pub const MIN: EventKey = EventKey { timestamp: i64::MIN, sequence: 0 };
    pub const MAX: EventKey = EventKey { timestamp: i64::MAX, sequence: u64::MAX };

    /// The first key at `timestamp`.
    pub fn at(timestamp: i64) -> EventKey {
        EventKey { timestamp, sequence: 0 }
    }
}

pub(crate) const KEY_LEN: usize = 24;

pub(crate) fn encode(stream: u64, key: EventKey) -> [u8; KEY_LEN] {
    let mut bytes = [0u8; KEY_LEN];
    bytes[..8].copy_from_slice(&stream.to_be_bytes());
    bytes[8..16].copy_from_slice(&((key.timestamp as u64) ^ (1 << 63)).to_be_bytes());
    bytes[16..].copy_from_slice(&key.sequence.to_be_bytes());
    bytes
}

pub(crate) fn decode(bytes: &[u8]) -> Option<(u64, EventKey)> {
    if bytes.len() != KEY_LEN {
        return None;
    }
    let word = |range: std::ops::Range<usize>| u64::from_be_bytes(bytes[range].try_into().expect("8 bytes"));
    Some((word(0..8), EventKey { timestamp: (word(8..16) ^ (1 << 63)) as i64, sequence: word(16..24) }))
}

/// A single event's value in stores from before blocks (`writer`'s upgrade reads them): its
/// ingestion time, then the message's bytes.
#[cfg(test)]
pub(crate) fn encode_value(ingestion_time: i64, message: &str) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + message.len());
    value.extend_from_slice(&ingestion_time.to_be_bytes());
    value.extend_from_slice(message.as_bytes());
    value
}

pub(crate) fn decode_value(bytes: &[u8]) -> Option<(i64, String)> {
    let (time, message) = bytes.split_at_checked(8)?;
    Some((i64::from_be_bytes(time.try_into().ok()?), String::from_utf8_lossy(message).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_stream_then_time_then_arrival() {
        let keys = [
            (1, EventKey { timestamp: -5, sequence: 9 }),
            (1, EventKey { timestamp: 0, sequence: 0 }),
            (1, EventKey { timestamp: 0, sequence: 1 }),
            (1, EventKey { timestamp: 1_700_000_000_000, sequence: 0 }),
            (2, EventKey::MIN),
        ];
        let encoded: Vec<[u8; KEY_LEN]> = keys.iter().map(|(stream, key)| encode(*stream, *key)).collect();
        assert!(encoded.windows(2).all(|pair| pair[0] < pair[1]));
        for (bytes, original) in encoded.iter().zip(keys) {
            assert_eq!(decode(bytes), Some(original));
        }
    }
}
