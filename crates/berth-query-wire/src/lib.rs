//! The AWS Query protocol: requests are form-encoded (`Action`, `Version`, members as
//! `Name`, `Name.member.N`, `Name.entry.N.key`), answers are XML wrapped in
//! `<OperationResponse><OperationResult>`. `query` is the runtime; each service's shapes are
//! generated from botocore's model by `tools/gen_wire.py` (`elbv2`).
//!
//! Invariant: no logic beyond decoding and encoding; a shape here is exactly what AWS puts on
//! the wire.

pub mod elbv2;
pub mod query;

pub use query::{
    error_response, response, DecodeError, DecodeErrorKind, FromQuery, QueryParams, Timestamp, ToXml, XmlWriter,
};
