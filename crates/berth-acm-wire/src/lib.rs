//! The ACM wire format (AWS JSON 1.1, `X-Amz-Target: CertificateManager.<Op>`): the request
//! and response shapes of the operations Berth serves, their error codes and target prefix,
//! generated from botocore's model (`tools/gen_wire.py acm`), and [`Blob`], the model's
//! base64 member type.
//!
//! Decoding (required members, the path of a bad field) and the `{"__type","message"}` error
//! body are JSON 1.1's own and shared with ECS: they are re-exported from `berth-ecs-wire`.
//!
//! Invariant: no logic beyond encoding. A shape with a `sensitive` member (ImportCertificate's
//! `PrivateKey`) prints `<redacted>` for it in its `Debug`, so a request can be logged whole.

mod shapes;

/// The shared JSON 1.1 `CheckRequired` machinery, under the name the generated code uses.
mod required {
    pub use berth_ecs_wire::required::*;
}

pub use berth_ecs_wire::{decode_request, CheckRequired, DecodeError, ErrorBody};
pub use shapes::*;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `blob` member: base64 text on the wire, bytes here. Its `Debug` prints only the length,
/// since blobs may carry key material.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("expected base64-encoded bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_base64_and_the_private_key_is_redacted() {
        let body = br#"{"Certificate":"LS0tLS1CRUdJTg==","PrivateKey":"c2VjcmV0LWtleQ=="}"#;
        let request: ImportCertificateRequest = decode_request(body).unwrap();
        assert_eq!(request.certificate.as_ref().unwrap().0, b"-----BEGIN");
        assert_eq!(request.private_key.as_ref().unwrap().0, b"secret-key");
        let printed = format!("{request:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn missing_members_and_bad_base64_name_the_field() {
        let error = decode_request::<ImportCertificateRequest>(br#"{"Certificate":"AAAA"}"#).unwrap_err();
        assert_eq!(error.message, "Missing required parameter: PrivateKey");
        let error =
            decode_request::<ImportCertificateRequest>(br#"{"Certificate":"!!","PrivateKey":"AA=="}"#).unwrap_err();
        assert!(error.message.contains("Certificate"), "{}", error.message);
    }

    #[test]
    fn target_prefix_and_error_codes_come_from_the_model() {
        assert_eq!(TARGET_PREFIX, "CertificateManager.");
        assert_eq!(ErrorCode::ResourceInUseException.code(), "ResourceInUseException");
        assert!(ALL_OPERATIONS.contains(&"ImportCertificate"));
    }
}
