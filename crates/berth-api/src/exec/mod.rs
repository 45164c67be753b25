//! ECS Exec at the edge: the ExecuteCommand operation, the session streams and the operator's
//! listing.
//!
//! - `POST /` ExecuteCommand (`operation`): checks and records the session (control plane),
//!   then offers it to the broker and answers with `http://HOST/exec/v1/sessions/{id}` and a
//!   token.
//! - `GET /exec/v1/sessions/{id}` with `Upgrade: berth-exec` and the token: the client's
//!   stream; its relay (`relay`) waits for the agent's stream and carries frames both ways.
//! - `GET /agent/v1/clusters/{c}/instances/{i}/exec-sessions`: the agent's long poll for
//!   tickets; `…/exec-sessions/{id}/stream`: the agent's stream.
//! - `GET /exec/v1/sessions`: every recorded session, for operators (`berth exec-sessions list`).
//!
//! Invariant: nothing runs in a container until both the client (with its token) and the
//! task's own agent (with the ticket's token) have attached; every session ends in its record.

pub mod broker;
pub mod operation;
mod relay;

use crate::Api;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_exec::ticket::{ExecTickets, EXEC_POLL_SECONDS};
use berth_exec::{TOKEN_HEADER, UPGRADE_PROTOCOL};
use berth_types::{Arn, ClusterName, ContainerInstanceId};
use broker::AttachRefusal;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

fn token_of(headers: &HeaderMap) -> &str {
    headers.get(TOKEN_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case(UPGRADE_PROTOCOL))
}

fn refused(refusal: AttachRefusal) -> Response {
    match refusal {
        AttachRefusal::Unknown => (StatusCode::NOT_FOUND, "no such pending exec session").into_response(),
        AttachRefusal::Unauthorized => {
            (StatusCode::UNAUTHORIZED, "the session token is wrong or was already used").into_response()
        }
    }
}

fn switching_protocols() -> Response {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, UPGRADE_PROTOCOL)
        .body(Body::empty())
        .expect("a static response always builds")
}

/// The client's stream.
pub async fn attach_client(State(api): State<Arc<Api>>, Path(id): Path<String>, request: Request) -> Response {
    if !wants_upgrade(request.headers()) {
        return (StatusCode::BAD_REQUEST, "attach with Upgrade: berth-exec").into_response();
    }
    let agent_arrival = match api.exec.claim_client(&id, token_of(request.headers())) {
        Ok(arrival) => arrival,
        Err(refusal) => return refused(refusal),
    };
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => relay::run(api, id, TokioIo::new(upgraded), agent_arrival).await,
            Err(error) => {
                tracing::warn!(session = %id, %error, "the exec client's upgrade failed");
                relay::abandon(&api, &id, format!("the client's stream upgrade failed: {error}")).await;
            }
        }
    });
    switching_protocols()
}

fn parse_instance(cluster: &str, instance: &str) -> Option<(ClusterName, ContainerInstanceId)> {
    Some((ClusterName::parse(cluster).ok()?, ContainerInstanceId::parse(instance).ok()?))
}

/// The agent's long poll for sessions to serve.
pub async fn poll_tickets(State(api): State<Arc<Api>>, Path((cluster, instance)): Path<(String, String)>) -> Response {
    let Some((_, instance)) = parse_instance(&cluster, &instance) else {
        return (StatusCode::NOT_FOUND, "unknown cluster or container instance").into_response();
    };
    let sessions = api.exec.wait_for_tickets(&instance, Duration::from_secs(EXEC_POLL_SECONDS)).await;
    Json(ExecTickets { sessions }).into_response()
}

/// The agent's stream for one of its sessions.
pub async fn attach_agent(
    State(api): State<Arc<Api>>,
    Path((cluster, instance, id)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let Some((_, instance)) = parse_instance(&cluster, &instance) else {
        return (StatusCode::NOT_FOUND, "unknown cluster or container instance").into_response();
    };
    if !wants_upgrade(request.headers()) {
        return (StatusCode::BAD_REQUEST, "attach with Upgrade: berth-exec").into_response();
    }
    let sender = match api.exec.claim_agent(&id, &instance, token_of(request.headers())) {
        Ok(sender) => sender,
        Err(refusal) => return refused(refusal),
    };
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgrade.await {
            // The relay may be gone (session expired); then the stream is simply dropped.
            Ok(upgraded) => drop(sender.send(TokioIo::new(upgraded))),
            Err(error) => tracing::warn!(session = %id, %error, "the exec agent's upgrade failed"),
        }
    });
    switching_protocols()
}

/// Every recorded session, oldest first.
pub async fn list_sessions(State(api): State<Arc<Api>>) -> Response {
    let context = api.context();
    let sessions: Vec<serde_json::Value> = api
        .control
        .list_exec_sessions()
        .into_iter()
        .map(|record| {
            serde_json::json!({
                "sessionId": record.id,
                "status": record.status.as_str(),
                "exitCode": record.exit_code,
                "reason": record.reason,
                "principal": record.principal,
                "startedAt": record.started_at.as_epoch_seconds(),
                "endedAt": record.ended_at.map(|at| at.as_epoch_seconds()),
                "clusterArn": Arn::Cluster(record.cluster.clone()).render(context),
                "taskArn": Arn::Task(record.cluster.clone(), record.task.clone()).render(context),
                "containerName": record.container_name,
                "command": record.command,
                "interactive": record.interactive,
            })
        })
        .collect();
    Json(serde_json::json!({ "sessions": sessions })).into_response()
}
