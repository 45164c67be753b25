//! ACM on Berth's endpoint (AWS JSON 1.1, `X-Amz-Target: CertificateManager.<Op>`): the body
//! is decoded into the generated request shape, the PEM material read and checked
//! (`berth_control::acm::pem`), handed to `berth_control::acm`, and the answer rendered
//! (`render`). Every failure leaves through [`AcmApiError`].
//!
//! The private key is in the request only: it is never logged (the request shape's `Debug`
//! redacts it) and no answer carries it.

mod certificates;
mod error;
mod render;

use crate::Api;
use axum::response::{IntoResponse, Response};
use berth_acm_wire::{decode_request, ALL_OPERATIONS, TARGET_PREFIX};
pub use error::AcmApiError;

type AcmResult<T> = Result<T, AcmApiError>;

/// Answers one ACM request.
pub async fn serve(api: &Api, target: &str, body: &[u8]) -> Response {
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    match dispatch(api, operation, body).await {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response(),
        Err(error) => {
            tracing::debug!(operation, code = error.code, reason = %error.message, "ACM request refused");
            error.into_response()
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    AcmApiError::internal().into_response()
}

async fn dispatch(api: &Api, operation: &str, body: &[u8]) -> AcmResult<Vec<u8>> {
    macro_rules! serve {
        ($handler:path) => {
            serve_json!(api, body, $handler)
        };
    }
    match operation {
        "ImportCertificate" => serve!(certificates::import_certificate),
        "DescribeCertificate" => serve!(certificates::describe_certificate),
        "ListCertificates" => serve!(certificates::list_certificates),
        "GetCertificate" => serve!(certificates::get_certificate),
        "DeleteCertificate" => serve!(certificates::delete_certificate),
        "AddTagsToCertificate" => serve!(certificates::add_tags_to_certificate),
        "RemoveTagsFromCertificate" => serve!(certificates::remove_tags_from_certificate),
        "ListTagsForCertificate" => serve!(certificates::list_tags_for_certificate),
        known if ALL_OPERATIONS.contains(&known) => Err(AcmApiError::unsupported(known)),
        unknown => Err(AcmApiError::unknown_operation(&format!("{TARGET_PREFIX}{unknown}"))),
    }
}

/// A member the decoder already checked is present (the model marks it required).
fn required<T>(value: Option<T>, name: &str) -> AcmResult<T> {
    value.ok_or_else(|| AcmApiError::validation(format!("Missing required parameter: {name}")))
}
