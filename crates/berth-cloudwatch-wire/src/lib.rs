//! CloudWatch's wire format, for all three protocols its model lists (`smithy-rpc-v2-cbor`,
//! `json` 1.0 and `query`): the request and response shapes of the operations Berth decodes,
//! generated from botocore's model by `tools/gen_wire.py cloudwatch`, each type carrying the
//! serde derives (JSON 1.0 and CBOR, members under their model names) and the Query impls of
//! `berth-query-wire` (`FromQuery`, `ToXml`); the model's error codes with their Query codes,
//! `TARGET_PREFIX`, `RPC_V2_SERVICE_NAME`, `API_VERSION`, `XML_NAMESPACE`, `SIGNING_NAME` and
//! the result wrappers.
//!
//! A request becomes its input shape through [`decode_cbor`], [`decode_json`] or
//! [`decode_query`]; all three check the model's required members and name the field at
//! fault in their protocol's own notation (`MetricData[0].MetricName` for CBOR and JSON,
//! `MetricData.member.1.MetricName` for Query).
//!
//! [`Timestamp`] and [`Blob`] are one Rust type each whatever the protocol: serde tells them
//! apart by `is_human_readable` (JSON: epoch seconds and base64 text; CBOR: tag 1 around epoch
//! seconds and byte strings), and their Query impls read and write ISO 8601 and base64. They,
//! [`numbers`] and [`cbor`] are protocol-level, not CloudWatch's: they belong in a shared
//! crate once a second multi-protocol service arrives.
//!
//! Invariant: no logic beyond decoding and encoding; a shape here is exactly what AWS puts on
//! the wire.

mod blob;
pub mod cbor;
pub mod numbers;
mod shapes;
mod timestamp;

/// The JSON `CheckRequired` machinery, under the name the generated code uses.
mod required {
    pub use berth_ecs_wire::required::*;
}

/// The Query runtime, under the name the generated code uses.
use berth_query_wire::query;

pub use berth_ecs_wire::{CheckRequired, DecodeError, DecodeErrorKind, ErrorBody};
pub use blob::Blob;
pub use cbor::{decode_cbor, encode_cbor};
pub use shapes::*;
pub use timestamp::Timestamp;

/// Decodes a JSON 1.0 body into its input shape (JSON 1.0 bodies are JSON 1.1's).
pub use berth_ecs_wire::decode_request as decode_json;

/// Decodes a Query form into its input shape.
pub use berth_query_wire::query::decode_input as decode_query;
