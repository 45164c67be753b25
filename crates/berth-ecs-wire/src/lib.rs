//! The ECS wire format: every request and response shape of the operations Berth serves,
//! generated from botocore's service model (`tools/gen_wire.py ecs`), plus the AWS error
//! shape and a decoder that names the field at fault.
//!
//! Invariant: this crate holds no logic beyond decoding and encoding; a shape here is exactly
//! what AWS puts on the wire. Validation rules that go beyond "required" and "has the right
//! type" live in `berth-control`.

pub mod required;
mod shapes;

pub use required::CheckRequired;
pub use shapes::*;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The `X-Amz-Target` prefix of every ECS operation.
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";

/// The body of an AWS JSON 1.1 error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "__type")]
    pub error_type: String,
    pub message: String,
    /// Only `ConflictException` carries it: the resources already bound to a client token.
    #[serde(rename = "resourceIds", default, skip_serializing_if = "Option::is_none")]
    pub resource_ids: Option<Vec<String>>,
}

/// Why a request body could not become a request shape. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub message: String,
}

/// What was wrong with a body, for error mappings that give each case its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Not a document of the protocol's format at all (bad syntax, trailing bytes).
    Malformed,
    /// A member's value has the wrong type or is not one the shape allows.
    Invalid,
    /// A required member was not sent.
    Missing,
}

impl DecodeError {
    /// `format` is the body's format as users know it (`JSON`, `CBOR`).
    pub fn malformed(format: &str, detail: impl std::fmt::Display) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Malformed,
            message: format!("Request body is not valid {format}: {detail}"),
        }
    }

    /// The value at `path` (serde_path_to_error's notation, empty for the whole body) is wrong.
    pub fn invalid(path: &str, detail: impl std::fmt::Display) -> Self {
        let message = if path.is_empty() || path == "." {
            format!("Invalid request: {detail}")
        } else {
            format!("Invalid value for parameter {path}: {}", strip_position(&detail.to_string()))
        };
        DecodeError { kind: DecodeErrorKind::Invalid, message }
    }

    pub fn missing(path: &str) -> Self {
        DecodeError { kind: DecodeErrorKind::Missing, message: format!("Missing required parameter: {path}") }
    }
}

/// Checks the model's required members of a decoded request, naming the first missing one.
pub fn check_required<T: CheckRequired>(value: T) -> Result<T, DecodeError> {
    value.check_required("").map_err(|field| DecodeError::missing(&field))?;
    Ok(value)
}

/// Decodes a request body into its shape, checking types and required members.
///
/// An empty body is treated as `{}`, as AWS does for operations whose members are all optional.
pub fn decode_request<T: DeserializeOwned + CheckRequired>(body: &[u8]) -> Result<T, DecodeError> {
    check_required(decode_request_unchecked(body)?)
}

/// [`decode_request`] less the required-member check, for REST protocols, whose required
/// members may travel outside the body and are bound after it was decoded.
pub fn decode_request_unchecked<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    // serde's derived struct visitor also accepts a JSON array (fields by position); AWS JSON
    // 1.1 bodies are objects, so anything else is refused before decoding.
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(DecodeError::malformed("JSON", "expected a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            DecodeError::malformed("JSON", inner)
        } else {
            DecodeError::invalid(&path, inner)
        }
    })?;
    deserializer.end().map_err(|error| DecodeError::malformed("JSON", error))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_the_nested_field() {
        let body = br#"{"family":"web","containerDefinitions":[{"name":"a","memory":"lots"}]}"#;
        let error = decode_request::<RegisterTaskDefinitionRequest>(body).unwrap_err();
        assert!(error.message.contains("containerDefinitions[0].memory"), "{}", error.message);
    }

    #[test]
    fn missing_required_member_is_named() {
        let error = decode_request::<RegisterTaskDefinitionRequest>(br#"{"family":"web"}"#).unwrap_err();
        assert_eq!(error.message, "Missing required parameter: containerDefinitions");
        let body = br#"{"family":"w","containerDefinitions":[{"ulimits":[{"name":"nofile","softLimit":1}]}]}"#;
        let error = decode_request::<RegisterTaskDefinitionRequest>(body).unwrap_err();
        assert_eq!(error.message, "Missing required parameter: containerDefinitions[0].ulimits[0].hardLimit");
    }

    #[test]
    fn unknown_enum_value_is_rejected_with_the_field() {
        let body = br#"{"family":"web","containerDefinitions":[],"networkMode":"mesh"}"#;
        let error = decode_request::<RegisterTaskDefinitionRequest>(body).unwrap_err();
        assert!(error.message.contains("networkMode"), "{}", error.message);
    }

    #[test]
    fn malformed_json_and_empty_bodies() {
        assert!(decode_request::<ListClustersRequest>(b"{nope").unwrap_err().message.contains("not valid JSON"));
        assert!(decode_request::<ListClustersRequest>(b"").is_ok());
        assert!(decode_request::<ListClustersRequest>(b"{} trailing").is_err());
        assert!(decode_request::<ListClustersRequest>(b"[]").is_err(), "arrays are not request bodies");
        assert!(decode_request::<DescribeClustersRequest>(br#"[["x"]]"#).is_err());
    }

    #[test]
    fn each_failure_says_what_kind_it_is() {
        let kind = |body: &[u8]| decode_request::<RegisterTaskDefinitionRequest>(body).unwrap_err().kind;
        assert_eq!(kind(b"{nope"), DecodeErrorKind::Malformed);
        assert_eq!(kind(br#"{"family":7,"containerDefinitions":[]}"#), DecodeErrorKind::Invalid);
        assert_eq!(kind(br#"{"family":"web"}"#), DecodeErrorKind::Missing);
    }

    #[test]
    fn responses_skip_absent_members() {
        let cluster = Cluster { cluster_name: Some("default".into()), ..Default::default() };
        assert_eq!(serde_json::to_string(&cluster).unwrap(), r#"{"clusterName":"default"}"#);
    }
}
