//! Who is calling and through which address, for the operations that need it (ExecuteCommand
//! records its caller and answers with a stream URL on the address the caller used). Set once
//! per ECS request around the dispatch, read where needed; never part of any wire shape.
//!
//! Invariant: the principal is the access key ID of the SigV4 `Credential` in the
//! `Authorization` header when there is a well-formed one, otherwise `anonymous`. Berth does
//! not verify signatures yet, so this names the caller; it does not prove who it is.

use axum::http::HeaderMap;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: String,
    /// The `Host` header: the address the caller reached this server at.
    pub host: Option<String>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let principal = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(access_key_id)
            .unwrap_or_else(|| "anonymous".to_string());
        let host = headers.get(axum::http::header::HOST).and_then(|value| value.to_str().ok()).map(str::to_string);
        RequestContext { principal, host }
    }
}

/// The access key ID in `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …`.
fn access_key_id(authorization: &str) -> Option<String> {
    let credential = authorization.split_once("Credential=")?.1;
    let key = credential.split('/').next()?.trim();
    let plausible =
        !key.is_empty() && key.len() <= 128 && key.chars().all(|character| character.is_ascii_alphanumeric());
    plausible.then(|| key.to_string())
}

/// Runs `future` with the caller of `headers` as the current request context.
pub async fn scope<F: Future>(headers: &HeaderMap, future: F) -> F::Output {
    CURRENT.scope(RequestContext::from_headers(headers), future).await
}

/// The current request's context (an anonymous caller outside of a request).
pub fn current() -> RequestContext {
    CURRENT.try_with(Clone::clone).unwrap_or(RequestContext { principal: "anonymous".to_string(), host: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_is_the_credential_access_key_or_anonymous() {
        let signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(access_key_id(signed).as_deref(), Some("AKIDEXAMPLE"));
        assert_eq!(access_key_id("Bearer xyz"), None);
        assert_eq!(access_key_id("AWS4-HMAC-SHA256 Credential=/x"), None);
        assert_eq!(access_key_id("AWS4-HMAC-SHA256 Credential=bad key!/x"), None);
        assert_eq!(RequestContext::from_headers(&HeaderMap::new()).principal, "anonymous");
    }
}
