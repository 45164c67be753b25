//! The proxy channel: `GET /proxy/v1/document?after=N` long-polls the proxy document (the whole
//! document once its generation is greater than `N`, else 204 after the wait), and
//! `POST /proxy/v1/health` takes a proxy's health report.

use crate::Api;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_proxy_protocol::HealthReport;
use std::sync::Arc;
use std::time::Duration;

/// How long a document poll waits for a change before answering 204.
const POLL_WAIT: Duration = Duration::from_secs(25);

#[derive(Debug, serde::Deserialize)]
pub struct PollQuery {
    #[serde(default)]
    after: u64,
}

pub async fn poll_document(State(api): State<Arc<Api>>, Query(query): Query<PollQuery>) -> Response {
    match api.control.proxy_document_after(query.after, POLL_WAIT).await {
        Some(document) => Json(document).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

pub async fn report_health(State(api): State<Arc<Api>>, Json(report): Json<HealthReport>) -> StatusCode {
    api.control.record_target_health(report);
    StatusCode::NO_CONTENT
}
