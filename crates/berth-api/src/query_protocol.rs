//! Answers in the AWS Query protocol, for every Query service on the endpoint (ELBv2,
//! CloudWatch): the XML envelope of a result or of an `<ErrorResponse>`, `text/xml`, and the
//! request ID both in the body and in `x-amzn-RequestId`.
//!
//! Not here: which code a failure gets; that is each service's one error mapping.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_query_wire::ToXml;

/// The header every AWS answer carries its request ID in.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

/// A failure as Query writes it.
#[derive(Debug, Clone, Copy)]
pub struct QueryError<'a> {
    pub status: StatusCode,
    /// `<Type>Sender</Type>` (the caller's fault) or `Receiver`.
    pub sender_fault: bool,
    pub code: &'a str,
    pub message: &'a str,
}

fn xml(status: StatusCode, request_id: &str, body: String) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE.as_str(), "text/xml"), (REQUEST_ID_HEADER, request_id)], body)
        .into_response()
}

/// `<{Operation}Response xmlns=…>` with the result in the operation's wrapper (none for an
/// operation without output) and the request ID.
pub fn answer(
    operation: &str,
    namespace: &str,
    wrapper: Option<&str>,
    result: &(impl ToXml + ?Sized),
    request_id: &str,
) -> Response {
    xml(StatusCode::OK, request_id, berth_query_wire::response(operation, namespace, wrapper, result, request_id))
}

/// `<ErrorResponse xmlns=…><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn error(namespace: &str, error: &QueryError<'_>, request_id: &str) -> Response {
    let document =
        berth_query_wire::error_response(namespace, error.sender_fault, error.code, error.message, request_id);
    xml(error.status, request_id, document)
}
