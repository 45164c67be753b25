//! Reading `double` members from integers too. serde_json does that by itself, but CBOR keeps
//! integers and floats apart, and an SDK whose language has one number type (JavaScript's)
//! sends a whole double such as `5.0` as the integer `5`. The generator names these readers in
//! `deserialize_with` on every `double` member, list of doubles and map of doubles.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A double read from any number.
struct Double(f64);

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DoubleVisitor).map(Double)
    }
}

struct DoubleVisitor;

impl Visitor<'_> for DoubleVisitor {
    type Value = f64;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a number")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<f64, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<f64, E> {
        Ok(value as f64)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<f64, E> {
        Ok(value as f64)
    }
}

pub fn optional_double<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<Double>::deserialize(deserializer)?.map(|double| double.0))
}

pub fn optional_doubles<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<f64>>, D::Error> {
    Ok(Option::<Vec<Double>>::deserialize(deserializer)?.map(|doubles| doubles.into_iter().map(|d| d.0).collect()))
}

pub fn optional_double_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, f64>>, D::Error> {
    Ok(Option::<BTreeMap<String, Double>>::deserialize(deserializer)?
        .map(|doubles| doubles.into_iter().map(|(key, double)| (key, double.0)).collect()))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Datum {
        #[serde(default, deserialize_with = "super::optional_double")]
        value: Option<f64>,
        #[serde(default, deserialize_with = "super::optional_doubles")]
        values: Option<Vec<f64>>,
        #[serde(default, deserialize_with = "super::optional_double_map")]
        percentiles: Option<std::collections::BTreeMap<String, f64>>,
    }

    #[test]
    fn cbor_integers_are_read_as_doubles() {
        // {"value": 5, "values": [1, 2.5], "percentiles": {"p99": 7}}
        let body = b"\xa3evalue\x05fvalues\x82\x01\xf9\x41\x00kpercentiles\xa1cp99\x07";
        let datum: Datum = ciborium::de::from_reader(&body[..]).unwrap();
        assert_eq!(datum.value, Some(5.0));
        assert_eq!(datum.values, Some(vec![1.0, 2.5]));
        assert_eq!(datum.percentiles.unwrap()["p99"], 7.0);
        let absent: Datum = ciborium::de::from_reader(&b"\xa0"[..]).unwrap();
        assert_eq!((absent.value, absent.values, absent.percentiles), (None, None, None));
        assert!(ciborium::de::from_reader::<Datum, _>(&b"\xa1evaluecone"[..]).is_err());
    }
}
