//! Request bodies that arrive compressed. botocore gzips a request body of 10 KiB or more for
//! the operations whose model carries the `requestcompression` trait (CloudWatch's
//! PutMetricData), in any protocol, and says so with `Content-Encoding: gzip`; the handlers
//! behind this layer always see the plain body.
//!
//! A decompressed body is held to the same limit as a plain one, so a small bomb cannot grow
//! past it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io::Read;

pub async fn decompress_request(request: Request, next: Next) -> Response {
    let gzip = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|encoding| encoding.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if !gzip {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let compressed = match axum::body::to_bytes(body, crate::MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, "The compressed request body is too large."),
    };
    let mut plain = Vec::with_capacity(compressed.len() * 4);
    let limit = crate::MAX_REQUEST_BYTES as u64 + 1;
    if let Err(error) = flate2::read::GzDecoder::new(&compressed[..]).take(limit).read_to_end(&mut plain) {
        return refusal(
            StatusCode::BAD_REQUEST,
            &format!("The request says Content-Encoding: gzip, but its body is not gzip: {error}."),
        );
    }
    if plain.len() > crate::MAX_REQUEST_BYTES {
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, "The decompressed request body is too large.");
    }
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, Body::from(plain))).await
}

/// A refusal before any service saw the request, in the JSON error shape most of them share.
fn refusal(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "__type": "SerializationException", "message": message });
    (status, [(header::CONTENT_TYPE, "application/x-amz-json-1.0")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{self, StatusCode};
    use axum::routing::post;
    use http_body_util::BodyExt;
    use std::io::Write;
    use tower::ServiceExt;

    fn echo() -> axum::Router {
        axum::Router::new()
            .route("/", post(|body: axum::body::Bytes| async move { body }))
            .layer(axum::middleware::from_fn(super::decompress_request))
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    async fn send(body: Vec<u8>, encoding: Option<&str>) -> (StatusCode, Vec<u8>) {
        let mut request = http::Request::post("/");
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        let response = echo().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    #[tokio::test]
    async fn gzip_bodies_reach_handlers_plain() {
        let document = br#"{"Namespace":"App","MetricData":[]}"#.repeat(500);
        assert_eq!(send(gzip(&document), Some("gzip")).await, (StatusCode::OK, document.clone()));
        assert_eq!(send(document.clone(), None).await, (StatusCode::OK, document));
    }

    #[tokio::test]
    async fn bad_or_huge_gzip_is_refused() {
        let (status, body) = send(b"not gzip at all".to_vec(), Some("gzip")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("not gzip"));
        let bomb = gzip(&vec![b'0'; crate::MAX_REQUEST_BYTES + 10]);
        assert!(bomb.len() < 100_000, "zeros compress well");
        assert_eq!(send(bomb, Some("gzip")).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
