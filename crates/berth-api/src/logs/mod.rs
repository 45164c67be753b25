//! CloudWatch Logs on Berth's endpoint (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`):
//! the body is decoded into the generated request shape, handed to `berth_control::logs`, and
//! the answer rendered. Every failure leaves through [`LogsApiError`].

mod error;
mod events;
mod groups;
mod live_tail;

use crate::Api;
use axum::response::{IntoResponse, Response};
use berth_logs_wire::{decode_request, ALL_OPERATIONS, TARGET_PREFIX};
pub use error::LogsApiError;

type LogsResult<T> = Result<T, LogsApiError>;

/// Operations whose model has no output answer an empty object.
type Empty = serde_json::Map<String, serde_json::Value>;

/// Answers one CloudWatch Logs request.
pub async fn serve(api: &Api, target: &str, body: &[u8]) -> Response {
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    if operation == "StartLiveTail" {
        // The answer is a stream of events, not one JSON body.
        return live_tail::start_live_tail(api, body).unwrap_or_else(|error| {
            tracing::debug!(operation, code = error.code, reason = %error.message, "CloudWatch Logs request refused");
            error.into_response()
        });
    }
    match dispatch(api, operation, body).await {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response(),
        Err(error) => {
            tracing::debug!(operation, code = error.code, reason = %error.message, "CloudWatch Logs request refused");
            error.into_response()
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    LogsApiError::internal().into_response()
}

async fn dispatch(api: &Api, operation: &str, body: &[u8]) -> LogsResult<Vec<u8>> {
    macro_rules! serve {
        ($handler:path) => {
            serve_json!(api, body, $handler)
        };
    }
    match operation {
        "CreateLogGroup" => serve!(groups::create_log_group),
        "DeleteLogGroup" => serve!(groups::delete_log_group),
        "DescribeLogGroups" => serve!(groups::describe_log_groups),
        "PutRetentionPolicy" => serve!(groups::put_retention_policy),
        "DeleteRetentionPolicy" => serve!(groups::delete_retention_policy),
        "CreateLogStream" => serve!(groups::create_log_stream),
        "DeleteLogStream" => serve!(groups::delete_log_stream),
        "DescribeLogStreams" => serve!(groups::describe_log_streams),
        "TagResource" => serve!(groups::tag_resource),
        "UntagResource" => serve!(groups::untag_resource),
        "ListTagsForResource" => serve!(groups::list_tags_for_resource),
        "TagLogGroup" => serve!(groups::tag_log_group),
        "UntagLogGroup" => serve!(groups::untag_log_group),
        "ListTagsLogGroup" => serve!(groups::list_tags_log_group),
        "PutLogEvents" => serve!(events::put_log_events),
        "GetLogEvents" => serve!(events::get_log_events),
        "FilterLogEvents" => serve!(events::filter_log_events),
        known if ALL_OPERATIONS.contains(&known) => Err(LogsApiError::unsupported(known)),
        unknown => Err(LogsApiError::unknown_operation(&format!("{TARGET_PREFIX}{unknown}"))),
    }
}

/// A member the decoder already checked is present (the model marks it required).
fn required<T>(value: Option<T>, name: &str) -> LogsResult<T> {
    value.ok_or_else(|| LogsApiError::invalid(format!("Missing required parameter: {name}")))
}
