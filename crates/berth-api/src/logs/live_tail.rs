//! StartLiveTail: the answer is an event stream (`crate::event_stream`) — the JSON
//! protocol's `initial-response`, one `sessionStart`, a `sessionUpdate` every second, and
//! `SessionTimeoutException` when the session's three hours are over.

use super::{required, LogsResult};
use crate::event_stream::{json_event, json_exception};
use crate::Api;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use berth_control::logs::live_tail::{LiveTailNext, LiveTailRequest, LiveTailSession, LiveTailUpdate};
use berth_logs_wire as wire;
use std::convert::Infallible;

const SESSION_TIMEOUT_MESSAGE: &str = "Live Tail session has ended after 3 hours.";

pub fn start_live_tail(api: &Api, body: &[u8]) -> LogsResult<Response> {
    let request: wire::StartLiveTailRequest = berth_logs_wire::decode_request(body)?;
    let session = api.control.start_live_tail(LiveTailRequest {
        log_group_identifiers: required(request.log_group_identifiers, "logGroupIdentifiers")?,
        log_stream_names: request.log_stream_names,
        log_stream_name_prefixes: request.log_stream_name_prefixes,
        log_event_filter_pattern: request.log_event_filter_pattern,
    })?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let start = wire::LiveTailSessionStart {
        request_id: Some(request_id.clone()),
        session_id: Some(session.session_id.clone()),
        log_group_identifiers: Some(session.request.log_group_identifiers.clone()),
        log_stream_names: session.request.log_stream_names.clone(),
        log_stream_name_prefixes: session.request.log_stream_name_prefixes.clone(),
        log_event_filter_pattern: session.request.log_event_filter_pattern.clone(),
    };
    let opening = [json_event("initial-response", b"{}"), json_event("sessionStart", &to_json(&start))];
    let updates = futures_util::stream::unfold(Some(session), |session| async move {
        let mut session: LiveTailSession = session?;
        match session.next().await {
            LiveTailNext::Update(update) => {
                Some((json_event("sessionUpdate", &to_json(&render(update))), Some(session)))
            }
            LiveTailNext::TimedOut => {
                let payload = to_json(&serde_json::json!({ "message": SESSION_TIMEOUT_MESSAGE }));
                Some((json_exception("SessionTimeoutException", &payload), None))
            }
        }
    });
    let frames = futures_util::StreamExt::map(
        futures_util::StreamExt::chain(futures_util::stream::iter(opening), updates),
        |frame| Ok::<_, Infallible>(Bytes::from(frame)),
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vnd.amazon.eventstream"),
            (axum::http::HeaderName::from_static("x-amzn-requestid"), request_id.as_str()),
        ],
        Body::from_stream(frames),
    )
        .into_response())
}

fn render(update: LiveTailUpdate) -> wire::LiveTailSessionUpdate {
    wire::LiveTailSessionUpdate {
        session_metadata: Some(wire::LiveTailSessionMetadata { sampled: Some(update.sampled) }),
        session_results: Some(
            update
                .events
                .into_iter()
                .map(|result| wire::LiveTailSessionLogEvent {
                    log_stream_name: Some(result.log_stream_name),
                    log_group_identifier: Some(result.log_group_identifier),
                    message: Some(result.event.message),
                    timestamp: Some(result.event.timestamp),
                    ingestion_time: Some(result.event.ingestion_time),
                })
                .collect(),
        ),
    }
}

fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("event shapes always serialise")
}
