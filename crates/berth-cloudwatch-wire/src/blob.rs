//! The `blob` type of every protocol at once: base64 text in JSON and Query, a byte string in
//! CBOR (told apart by serde's `is_human_readable`, as [`crate::Timestamp`] is).

use base64::Engine;
use berth_query_wire::query::{DecodeError, FromQuery, QueryParams, ToXml, XmlWriter};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Bytes. Its `Debug` prints only the length, since blobs may carry secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&base64().encode(&self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            base64().decode(text.trim()).map(Blob).map_err(|_| de::Error::custom("expected base64-encoded bytes"))
        } else {
            deserializer.deserialize_byte_buf(BytesVisitor)
        }
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Blob;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Blob, E> {
        Ok(Blob(bytes.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Blob, E> {
        Ok(Blob(bytes))
    }
}

impl FromQuery for Blob {
    fn from_query(params: &QueryParams, key: &str) -> Result<Option<Self>, DecodeError> {
        let Some(text) = params.get(key) else { return Ok(None) };
        base64()
            .decode(text.trim())
            .map(|bytes| Some(Blob(bytes)))
            .map_err(|_| DecodeError::invalid(text, key, "Member must be base64-encoded"))
    }
}

impl ToXml for Blob {
    fn write_xml(&self, out: &mut XmlWriter) {
        out.text(&base64().encode(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats_carry_base64_and_cbor_a_byte_string() {
        let blob = Blob(b"berth".to_vec());
        assert_eq!(serde_json::to_string(&blob).unwrap(), "\"YmVydGg=\"");
        assert_eq!(serde_json::from_str::<Blob>("\"YmVydGg=\"").unwrap(), blob);
        assert!(serde_json::from_str::<Blob>("\"!!\"").is_err());
        let mut cbor = Vec::new();
        ciborium::ser::into_writer(&blob, &mut cbor).unwrap();
        assert_eq!(cbor, b"\x45berth", "major type 2 (bytes), length 5");
        assert_eq!(ciborium::de::from_reader::<Blob, _>(&cbor[..]).unwrap(), blob);
        let params = QueryParams::from_pairs([("Data", "YmVydGg="), ("Bad", "!!")]);
        assert_eq!(Blob::from_query(&params, "Data").unwrap(), Some(blob.clone()));
        assert!(Blob::from_query(&params, "Bad").unwrap_err().message.contains("'Bad'"));
        assert_eq!(format!("{blob:?}"), "Blob(5 bytes)");
    }
}
