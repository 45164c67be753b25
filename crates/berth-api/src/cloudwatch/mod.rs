//! CloudWatch (metrics and alarms) on Berth's endpoint, in the three protocols its model
//! lists: RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/operation/{Operation}`,
//! what the pinned botocore speaks), JSON 1.0 (`X-Amz-Target:
//! GraniteServiceVersion20100801.{Operation}`) and Query (what older botocore and aws CLI
//! versions speak). Each request is decoded at the boundary into the generated input shape
//! (`berth-cloudwatch-wire`) in its own protocol (`protocol`), handed to
//! [`CloudWatchOperations`] (`dispatch`), and answered in the same protocol; every failure
//! leaves through [`CloudWatchError`], the one mapping to each protocol's error shape.
//!
//! `Api`'s operations (`backend`) answer metric data from the control plane's metric store
//! (`metrics`) and alarms from its records (`alarms`).

mod alarms;
mod backend;
mod dispatch;
mod error;
mod metrics;
mod operations;
mod protocol;
#[cfg(test)]
mod tests;

use axum::http::HeaderMap;
use axum::response::Response;
pub use error::{CloudWatchError, CloudWatchResult};
pub use operations::CloudWatchOperations;
pub use protocol::{Protocol, Request};

/// Answers one CloudWatch request with `service`'s operations.
pub async fn serve<S: CloudWatchOperations>(service: &S, request: Request<'_>, operation: &str) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    match dispatch::dispatch(service, &request, operation, &request_id).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::debug!(operation, code = error.query_code, reason = %error.message, "CloudWatch request refused");
            error.into_response(request.protocol(), &request_id)
        }
    }
}

/// Answers an RPC v2 CBOR request on `/service/{service_name}/operation/{operation}`.
pub async fn serve_cbor<S: CloudWatchOperations>(
    service: &S,
    service_name: &str,
    operation: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let refusal = if service_name != berth_cloudwatch_wire::RPC_V2_SERVICE_NAME {
        // Not CloudWatch's to answer; its error shape is still RPC v2 CBOR's.
        CloudWatchError {
            error_type: "UnknownOperationException",
            message: format!("Berth serves no service {service_name} over RPC v2 CBOR."),
            ..CloudWatchError::unknown_operation(operation)
        }
    } else {
        match protocol::check_cbor_headers(headers, body) {
            Ok(()) => return serve(service, Request::Cbor(body), operation).await,
            Err(refusal) => refusal,
        }
    };
    refusal.into_response(Protocol::Cbor, &uuid::Uuid::new_v4().to_string())
}

/// The answer when a handler panicked.
pub fn internal_failure(protocol: Protocol) -> Response {
    CloudWatchError::internal().into_response(protocol, &uuid::Uuid::new_v4().to_string())
}
