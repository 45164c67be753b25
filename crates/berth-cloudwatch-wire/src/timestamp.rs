//! The `timestamp` type of every protocol at once. JSON 1.0 writes epoch seconds as a number;
//! RPC v2 CBOR wraps them in tag 1 (botocore's parser refuses an untagged timestamp, and its
//! serializer always sends the tag, with an integer or, for sub-second instants, a float);
//! Query and XML write ISO 8601. Serde formats say which of the first two they are through
//! `is_human_readable` (serde_json: true, ciborium: false).

use berth_query_wire::query::{DecodeError, FromQuery, QueryParams, ToXml, XmlWriter};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// CBOR's tag for "epoch-based date/time" (RFC 8949 §3.4.2).
const EPOCH_SECONDS_TAG: u64 = 1;

/// An instant, to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub unix_millis: i64,
}

impl Timestamp {
    pub fn from_unix_millis(unix_millis: i64) -> Self {
        Timestamp { unix_millis }
    }

    /// The same instant as the Query runtime's type, which reads and writes ISO 8601.
    pub fn to_query(self) -> berth_query_wire::Timestamp {
        berth_query_wire::Timestamp::from_unix_millis(self.unix_millis)
    }

    fn epoch_seconds(self) -> EpochSeconds {
        if self.unix_millis % 1000 == 0 {
            EpochSeconds::Whole(self.unix_millis / 1000)
        } else {
            EpochSeconds::Fractional(self.unix_millis as f64 / 1000.0)
        }
    }
}

impl From<berth_query_wire::Timestamp> for Timestamp {
    fn from(instant: berth_query_wire::Timestamp) -> Self {
        Timestamp { unix_millis: instant.unix_millis }
    }
}

impl std::fmt::Display for Timestamp {
    /// ISO 8601 in UTC with milliseconds, as Query answers write it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_query().fmt(formatter)
    }
}

/// Epoch seconds as they go on the wire: an integer when whole, so that no float rounding
/// shows in the common case.
#[derive(Serialize)]
#[serde(untagged)]
enum EpochSeconds {
    Whole(i64),
    Fractional(f64),
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            self.epoch_seconds().serialize(serializer)
        } else {
            ciborium::tag::Required::<_, EPOCH_SECONDS_TAG>(self.epoch_seconds()).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = if deserializer.is_human_readable() {
            deserializer.deserialize_any(SecondsVisitor)?
        } else {
            // Tag 1 is what botocore sends; an untagged number is accepted as well.
            ciborium::tag::Accepted::<Seconds, EPOCH_SECONDS_TAG>::deserialize(deserializer)?.0 .0
        };
        Ok(Timestamp { unix_millis: seconds })
    }
}

/// Epoch seconds read from an integer or a float, kept as milliseconds.
struct Seconds(i64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecondsVisitor).map(Seconds)
    }
}

struct SecondsVisitor;

impl Visitor<'_> for SecondsVisitor {
    type Value = i64;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a timestamp in epoch seconds")
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<i64, E> {
        seconds.checked_mul(1000).ok_or_else(|| E::custom("timestamp out of range"))
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<i64, E> {
        i64::try_from(seconds).map_err(|_| E::custom("timestamp out of range")).and_then(|s| self.visit_i64(s))
    }

    fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<i64, E> {
        let millis = (seconds * 1000.0).round();
        // i64 milliseconds reach far beyond any instant a client means; refuse the rest
        // rather than saturate.
        if millis.is_finite() && millis.abs() < 9.0e15 {
            Ok(millis as i64)
        } else {
            Err(E::custom("timestamp out of range"))
        }
    }
}

impl FromQuery for Timestamp {
    fn from_query(params: &QueryParams, key: &str) -> Result<Option<Self>, DecodeError> {
        Ok(params.timestamp(key)?.map(Timestamp::from))
    }
}

impl ToXml for Timestamp {
    fn write_xml(&self, out: &mut XmlWriter) {
        self.to_query().write_xml(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_carries_epoch_seconds() {
        let whole = Timestamp::from_unix_millis(1_796_117_656_000);
        assert_eq!(serde_json::to_string(&whole).unwrap(), "1796117656");
        let fractional = Timestamp::from_unix_millis(1_796_117_655_123);
        assert_eq!(serde_json::to_string(&fractional).unwrap(), "1796117655.123");
        assert_eq!(serde_json::from_str::<Timestamp>("1796117655.123").unwrap(), fractional);
        assert_eq!(serde_json::from_str::<Timestamp>("1796117656").unwrap(), whole);
        assert!(serde_json::from_str::<Timestamp>("\"2026-12-01T09:34:16Z\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1e300").is_err());
    }

    #[test]
    fn cbor_wraps_epoch_seconds_in_tag_1() {
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&Timestamp::from_unix_millis(1_796_117_656_000), &mut bytes).unwrap();
        // 0xc1 is tag 1, 0x1a a 32-bit unsigned integer.
        assert_eq!(bytes, [0xc1, 0x1a, 0x6b, 0x0e, 0x94, 0x98]);
        let read: Timestamp = ciborium::de::from_reader(&bytes[..]).unwrap();
        assert_eq!(read, Timestamp::from_unix_millis(1_796_117_656_000));
        let untagged: Timestamp = ciborium::de::from_reader(&[0x1a, 0x6b, 0x0e, 0x94, 0x98][..]).unwrap();
        assert_eq!(untagged, read);
        let other_tag = [0xc0, 0x1a, 0x6b, 0x0e, 0x94, 0x98];
        assert!(ciborium::de::from_reader::<Timestamp, _>(&other_tag[..]).is_err());
    }

    #[test]
    fn query_carries_iso_8601() {
        let params = QueryParams::from_pairs([("T", "2026-12-01T09:34:15.123000Z"), ("Bad", "yesterday")]);
        assert_eq!(Timestamp::from_query(&params, "T").unwrap(), Some(Timestamp::from_unix_millis(1_796_117_655_123)));
        let error = Timestamp::from_query(&params, "Bad").unwrap_err();
        assert!(error.message.contains("'Bad'"), "{}", error.message);
        let mut out = XmlWriter::default();
        Timestamp::from_unix_millis(1_796_117_655_123).write_xml(&mut out);
        assert_eq!(out.into_string(), "2026-12-01T09:34:15.123Z");
    }
}
