//! The EventBridge Scheduler wire format (REST-JSON: the operation is the HTTP method and path,
//! some members travel in the path, the query string or headers, the rest in a JSON body): the
//! shapes of the operations Berth serves, their routes and the model's error codes, generated
//! from botocore's model (`tools/gen_wire.py scheduler`).
//!
//! - [`rest`]: matching a request to a route (percent-decoded path labels), the query string,
//!   and [`decode_rest_request`], which reads the body and binds the located members, checking
//!   required members and naming the field at fault.
//! - [`RestErrorBody`]: REST-JSON's error body (`{"Message"}`; the code travels in the
//!   `x-amzn-ErrorType` header).
//!
//! Invariant: no logic beyond encoding.

pub mod rest;
mod shapes;

/// The shared JSON `CheckRequired` machinery, under the name the generated code uses.
mod required {
    pub use berth_ecs_wire::required::*;
}

pub use berth_ecs_wire::{CheckRequired, DecodeError, DecodeErrorKind};
pub use rest::{decode_rest_request, match_route, BindHttp, HttpParts, Route};
pub use shapes::*;

/// The header that names a REST-JSON error's code.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

/// The body of a REST-JSON error; the code is in [`ERROR_TYPE_HEADER`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RestErrorBody {
    #[serde(rename = "Message")]
    pub message: String,
}

#[cfg(test)]
mod tests;
