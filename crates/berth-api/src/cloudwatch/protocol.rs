//! CloudWatch's three protocols at the boundary: a request's body as its protocol carries it,
//! decoded into the generated input shape, and an answer encoded back in the same protocol.
//!
//! Invariant: the protocol a request came in is the protocol of its answer, errors included
//! (`CloudWatchError::into_response`).

use super::error::{CloudWatchError, CloudWatchResult};
use crate::query_protocol::{self, REQUEST_ID_HEADER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_cloudwatch_wire::{
    decode_cbor, decode_json, decode_query, encode_cbor, result_wrapper, CheckRequired, XML_NAMESPACE,
};
use berth_query_wire::{FromQuery, QueryParams, ToXml, XmlWriter};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const CBOR_CONTENT_TYPE: &str = "application/cbor";
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The `smithy-protocol` header's value on RPC v2 CBOR requests and answers.
pub const SMITHY_PROTOCOL: &str = "rpc-v2-cbor";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Cbor,
    Json,
    Query,
}

/// A request's input as its protocol carries it.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    Cbor(&'a [u8]),
    Json(&'a [u8]),
    Query(&'a QueryParams),
}

/// What every generated input shape is: readable from all three protocols.
pub trait Input: DeserializeOwned + CheckRequired + FromQuery + Default {}
impl<T: DeserializeOwned + CheckRequired + FromQuery + Default> Input for T {}

/// What every generated output shape is: writable in all three protocols.
pub trait Output: Serialize + ToXml {}
impl<T: Serialize + ToXml> Output for T {}

impl Request<'_> {
    pub fn protocol(&self) -> Protocol {
        match self {
            Request::Cbor(_) => Protocol::Cbor,
            Request::Json(_) => Protocol::Json,
            Request::Query(_) => Protocol::Query,
        }
    }

    /// The input shape, with the model's required members checked; a failure names the field.
    pub fn decode<T: Input>(&self) -> CloudWatchResult<T> {
        Ok(match self {
            Request::Cbor(body) => decode_cbor(body)?,
            Request::Json(body) => decode_json(body)?,
            Request::Query(params) => decode_query(params)?,
        })
    }
}

/// An operation without output writes no result element.
struct NoResult;

impl ToXml for NoResult {
    fn write_xml(&self, _out: &mut XmlWriter) {}
}

impl Protocol {
    /// A successful answer carrying `output`.
    pub fn answer<T: Output>(self, operation: &str, output: &T, request_id: &str) -> Response {
        match self {
            Protocol::Cbor => rpc_answer(Some(CBOR_CONTENT_TYPE), encode_cbor(output), true, request_id),
            Protocol::Json => rpc_answer(
                Some(JSON_CONTENT_TYPE),
                serde_json::to_vec(output).expect("output shapes always serialise"),
                false,
                request_id,
            ),
            Protocol::Query => {
                query_protocol::answer(operation, XML_NAMESPACE, result_wrapper(operation), output, request_id)
            }
        }
    }

    /// A successful answer of an operation whose model has no output: an empty body in RPC
    /// v2 CBOR (no `Content-Type`), `{}` in JSON, no result element in Query.
    pub fn empty_answer(self, operation: &str, request_id: &str) -> Response {
        match self {
            Protocol::Cbor => rpc_answer(None, Vec::new(), true, request_id),
            Protocol::Json => rpc_answer(Some(JSON_CONTENT_TYPE), b"{}".to_vec(), false, request_id),
            Protocol::Query => query_protocol::answer(operation, XML_NAMESPACE, None, &NoResult, request_id),
        }
    }
}

fn rpc_answer(content_type: Option<&'static str>, body: Vec<u8>, cbor: bool, request_id: &str) -> Response {
    let mut response = (StatusCode::OK, [(REQUEST_ID_HEADER, request_id)], body).into_response();
    let headers = response.headers_mut();
    match content_type {
        Some(content_type) => {
            headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(content_type))
        }
        // axum labels a byte body application/octet-stream; an empty RPC v2 answer has no type.
        None => headers.remove(axum::http::header::CONTENT_TYPE),
    };
    if cbor {
        headers.insert("smithy-protocol", axum::http::HeaderValue::from_static(SMITHY_PROTOCOL));
    }
    response
}

/// What an RPC v2 CBOR request must carry besides its body: `smithy-protocol: rpc-v2-cbor`,
/// and `Content-Type: application/cbor` when there is a body (botocore sends none for an
/// empty one).
pub fn check_cbor_headers(headers: &HeaderMap, body: &[u8]) -> CloudWatchResult<()> {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if header("smithy-protocol") != Some(SMITHY_PROTOCOL) {
        return Err(CloudWatchError::malformed(format!(
            "An RPC v2 CBOR request carries the header smithy-protocol: {SMITHY_PROTOCOL}."
        )));
    }
    let content_type = header("content-type").map(|value| value.split(';').next().unwrap_or_default().trim());
    if !body.is_empty() && content_type != Some(CBOR_CONTENT_TYPE) {
        return Err(CloudWatchError::malformed(format!(
            "An RPC v2 CBOR request body has Content-Type: {CBOR_CONTENT_TYPE}, not {}.",
            content_type.unwrap_or("(none)")
        )));
    }
    Ok(())
}
