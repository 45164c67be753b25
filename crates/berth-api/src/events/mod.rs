//! EventBridge on Berth's endpoint (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`): the body is
//! decoded into the generated request shape, handed to `berth_control::events`, and the answer
//! rendered. Every failure leaves through [`EventsApiError`]. `dispatch` is the delivery loop
//! that takes events out of the outbox, renders them in AWS's shape and invokes the targets of
//! the rules they match.

pub mod dispatch;
mod error;
mod handlers;
mod targets;
mod task_event;

use crate::Api;
use axum::response::{IntoResponse, Response};
use berth_events_wire::{decode_request, ALL_OPERATIONS, TARGET_PREFIX};
pub use error::EventsApiError;

type EventsResult<T> = Result<T, EventsApiError>;

/// Operations whose model has no output answer an empty object.
type Empty = serde_json::Map<String, serde_json::Value>;

/// Answers one EventBridge request.
pub async fn serve(api: &Api, target: &str, body: &[u8]) -> Response {
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    match route(api, operation, body).await {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response(),
        Err(error) => {
            tracing::debug!(operation, code = error.code, reason = %error.message, "EventBridge request refused");
            error.into_response()
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    EventsApiError::internal().into_response()
}

async fn route(api: &Api, operation: &str, body: &[u8]) -> EventsResult<Vec<u8>> {
    macro_rules! serve {
        ($handler:path) => {
            serve_json!(api, body, $handler)
        };
    }
    match operation {
        "PutRule" => serve!(handlers::put_rule),
        "DescribeRule" => serve!(handlers::describe_rule),
        "ListRules" => serve!(handlers::list_rules),
        "DeleteRule" => serve!(handlers::delete_rule),
        "EnableRule" => serve!(handlers::enable_rule),
        "DisableRule" => serve!(handlers::disable_rule),
        "PutTargets" => serve!(handlers::put_targets),
        "RemoveTargets" => serve!(handlers::remove_targets),
        "ListTargetsByRule" => serve!(handlers::list_targets_by_rule),
        "ListRuleNamesByTarget" => serve!(handlers::list_rule_names_by_target),
        "PutEvents" => serve!(handlers::put_events),
        "TestEventPattern" => serve!(handlers::test_event_pattern),
        "DescribeEventBus" => serve!(handlers::describe_event_bus),
        "ListEventBuses" => serve!(handlers::list_event_buses),
        "TagResource" => serve!(handlers::tag_resource),
        "UntagResource" => serve!(handlers::untag_resource),
        "ListTagsForResource" => serve!(handlers::list_tags_for_resource),
        known if ALL_OPERATIONS.contains(&known) => Err(EventsApiError::unsupported(known)),
        unknown => Err(EventsApiError::unknown_operation(&format!("{TARGET_PREFIX}{unknown}"))),
    }
}

/// A member the decoder already checked is present (the model marks it required).
fn required<T>(value: Option<T>, name: &str) -> EventsResult<T> {
    value.ok_or_else(|| EventsApiError::validation(format!("Missing required parameter: {name}")))
}
