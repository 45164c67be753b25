//! EventBridge Scheduler on Berth's endpoint (REST-JSON: the method and path name the
//! operation, members travel in the path, the query string and a JSON body): the request is
//! matched to one of the model's routes, decoded into the generated input shape, handed to
//! `berth_control::schedules`, and the answer rendered. Every failure leaves through
//! [`SchedulerApiError`]. `launcher` runs a firing's RunTask for the control plane's firing
//! loop through the same RunTask operation users call.

mod error;
mod groups;
pub mod launcher;
mod schedules;
mod target;

use crate::Api;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use berth_eventbridge_scheduler_wire::{self as wire, decode_rest_request, match_route, rest, HttpParts};
pub use error::SchedulerApiError;

type SchedulerResult<T> = Result<T, SchedulerApiError>;

/// Whether a path is one of Scheduler's (its routes' first segments), for unsigned requests.
pub fn is_scheduler_path(path: &str) -> bool {
    ["/schedules", "/schedule-groups", "/tags"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// Wire timestamps are seconds since the epoch.
fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// A List operation's page size (the model allows 1 to 100; AWS's default is the maximum).
fn page_size(max_results: Option<i32>) -> usize {
    max_results.map_or(100, |value| value.clamp(1, 100) as usize)
}

/// The request's operation for the metrics: one of the model's, else `unknown`.
pub fn operation_of(method: &Method, uri: &Uri) -> &'static str {
    match_route(wire::ROUTES, method.as_str(), uri.path()).map_or("unknown", |(route, _)| route.operation)
}

/// Answers one Scheduler request.
pub async fn serve(api: &Api, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let path = uri.path();
    let Some((route, labels)) = match_route(wire::ROUTES, method.as_str(), path) else {
        return SchedulerApiError::unknown_operation(method.as_str(), path).into_response();
    };
    let Some(query) = rest::parse_query(uri.query().unwrap_or_default()) else {
        return SchedulerApiError::validation("The query string is not valid percent-encoding.").into_response();
    };
    let headers = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let parts = HttpParts { labels, query, headers };
    let operation = route.operation;
    match dispatch(api, operation, &parts, body).await {
        Ok(body) => {
            let status = StatusCode::from_u16(route.status).unwrap_or(StatusCode::OK);
            (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(error) => {
            tracing::debug!(operation, code = error.code, reason = %error.message, "EventBridge Scheduler request refused");
            error.into_response()
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    SchedulerApiError::internal().into_response()
}

async fn dispatch(api: &Api, operation: &str, parts: &HttpParts, body: &[u8]) -> SchedulerResult<Vec<u8>> {
    macro_rules! serve {
        ($handler:path) => {{
            let request = decode_rest_request(parts, body)?;
            let response = $handler(api, request).await?;
            Ok(serde_json::to_vec(&response).expect("response shapes always serialise"))
        }};
    }
    match operation {
        "CreateSchedule" => serve!(schedules::create_schedule),
        "GetSchedule" => serve!(schedules::get_schedule),
        "UpdateSchedule" => serve!(schedules::update_schedule),
        "DeleteSchedule" => serve!(schedules::delete_schedule),
        "ListSchedules" => serve!(schedules::list_schedules),
        "CreateScheduleGroup" => serve!(groups::create_schedule_group),
        "GetScheduleGroup" => serve!(groups::get_schedule_group),
        "DeleteScheduleGroup" => serve!(groups::delete_schedule_group),
        "ListScheduleGroups" => serve!(groups::list_schedule_groups),
        "TagResource" => serve!(groups::tag_resource),
        "UntagResource" => serve!(groups::untag_resource),
        "ListTagsForResource" => serve!(groups::list_tags_for_resource),
        other => Err(SchedulerApiError::unknown_operation("", other)),
    }
}

#[cfg(test)]
mod tests;
