//! RPC v2 CBOR bodies: decoding a request into its input shape with the path of the field at
//! fault and the model's required members checked, and encoding answers.
//!
//! The failures are the same [`DecodeError`] JSON's decoder gives, worded the same way, so an
//! error mapping treats both protocols alike.

use berth_ecs_wire::{check_required, CheckRequired, DecodeError};
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// CBOR's major type of maps, in the top three bits of an item's first byte.
const MAP_MAJOR_TYPE: u8 = 5;

/// Decodes a request body into its shape, checking types and required members. An empty body
/// is the empty structure: botocore sends none for an operation whose input is empty.
pub fn decode_cbor<T: DeserializeOwned + CheckRequired + Default>(body: &[u8]) -> Result<T, DecodeError> {
    let Some(first) = body.first() else { return check_required(T::default()) };
    // serde's derived struct visitor also accepts an array (members by position); an input
    // structure is always a map.
    if first >> 5 != MAP_MAJOR_TYPE {
        return Err(DecodeError::malformed("CBOR", "expected a CBOR map"));
    }
    let mut rest = body;
    let decoded = ciborium::de::from_reader::<Tracked<T>, _>(&mut rest);
    let path = FAILED_AT.take();
    let value = match decoded {
        Ok(Tracked(value)) => value,
        Err(ciborium::de::Error::Semantic(_, reason)) => return Err(DecodeError::invalid(&path, reason)),
        Err(ciborium::de::Error::Io(_)) => return Err(DecodeError::malformed("CBOR", "the body ends inside an item")),
        Err(ciborium::de::Error::Syntax(offset)) => {
            return Err(DecodeError::malformed("CBOR", format!("syntax error at byte {offset}")))
        }
        Err(ciborium::de::Error::RecursionLimitExceeded) => {
            return Err(DecodeError::malformed("CBOR", "items are nested too deeply"))
        }
    };
    if !rest.is_empty() {
        return Err(DecodeError::malformed("CBOR", format!("{} bytes follow the input structure", rest.len())));
    }
    check_required(value)
}

/// Encodes an answer (or an error body) as CBOR.
pub fn encode_cbor<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(value, &mut bytes).expect("writing CBOR into a Vec does not fail");
    bytes
}

thread_local! {
    /// Where the last failed [`Tracked`] decoding on this thread failed. ciborium hides its
    /// deserializer, so serde_path_to_error can only be put around the shape from inside a
    /// `Deserialize`, which returns ciborium's error alone; the path goes out beside it.
    /// Decoding is synchronous, so nothing else runs on the thread in between.
    static FAILED_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A shape decoded with its path tracked.
struct Tracked<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tracked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut track = serde_path_to_error::Track::new();
        match T::deserialize(serde_path_to_error::Deserializer::new(deserializer, &mut track)) {
            Ok(value) => Ok(Tracked(value)),
            Err(error) => {
                FAILED_AT.set(track.path().to_string());
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeErrorKind, DescribeAlarmsInput, ListMetricsInput, PutMetricDataInput};

    #[test]
    fn an_empty_body_is_the_empty_input() {
        assert_eq!(decode_cbor::<ListMetricsInput>(b"").unwrap(), ListMetricsInput::default());
        let error = decode_cbor::<PutMetricDataInput>(b"").unwrap_err();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (DecodeErrorKind::Missing, "Missing required parameter: Namespace")
        );
    }

    #[test]
    fn malformed_bodies_are_refused_as_such() {
        for body in [&b"\x82\x01\x02"[..], b"\xa1", b"\xa1\x69Namespace", b"\xa0\x00", b"\xa1\x1c\x00"] {
            let error = decode_cbor::<ListMetricsInput>(body).unwrap_err();
            assert_eq!(error.kind, DecodeErrorKind::Malformed, "{body:?}: {}", error.message);
            assert!(error.message.starts_with("Request body is not valid CBOR"), "{}", error.message);
        }
    }

    #[test]
    fn a_wrong_type_or_value_names_the_field() {
        // {"MaxRecords": "ten"}
        let error = decode_cbor::<DescribeAlarmsInput>(b"\xa1\x6aMaxRecords\x63ten").unwrap_err();
        assert_eq!(error.kind, DecodeErrorKind::Invalid);
        assert!(error.message.starts_with("Invalid value for parameter MaxRecords:"), "{}", error.message);
        // {"StateValue": "ON_FIRE"}
        let error = decode_cbor::<DescribeAlarmsInput>(b"\xa1\x6aStateValue\x67ON_FIRE").unwrap_err();
        assert!(error.message.contains("StateValue") && error.message.contains("ON_FIRE"), "{}", error.message);
    }

    #[test]
    fn the_path_does_not_leak_into_the_next_decoding() {
        let _ = decode_cbor::<DescribeAlarmsInput>(b"\xa1\x6aMaxRecords\x63ten");
        let error = decode_cbor::<ListMetricsInput>(b"\xa1\x00\x00").unwrap_err();
        assert!(!error.message.contains("MaxRecords"), "{}", error.message);
    }
}
