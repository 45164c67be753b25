//! The endpoint's routes: container and task metadata and Docker stats under `/v4/<token>`
//! (and `/v3/<token>`), and the task scale-in protection state under
//! `/api/<token>/task-protection/v1/state`, which asks the server's UpdateTaskProtection and
//! GetTaskProtection for the token's task on its behalf.
//!
//! Invariant: every route first resolves the token to its owner; an unknown token and every
//! unknown path answer 404 with nothing about other tasks.

use super::render::{self, Host};
use super::MetadataRegistry;
use crate::client::{EcsCallError, ServerClient};
use crate::runtime::ContainerRuntime;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use berth_ecs_wire as wire;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Endpoint {
    pub registry: Arc<MetadataRegistry>,
    pub runtime: Arc<dyn ContainerRuntime>,
    pub client: ServerClient,
}

pub fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route("/v4/{token}", get(container_metadata))
        .route("/v4/{token}/task", get(task_metadata))
        .route("/v4/{token}/stats", get(container_stats))
        .route("/v4/{token}/task/stats", get(task_stats))
        .route("/v3/{token}", get(container_metadata))
        .route("/v3/{token}/task", get(task_metadata))
        .route("/v3/{token}/stats", get(container_stats))
        .route("/v3/{token}/task/stats", get(task_stats))
        .route("/api/{token}/task-protection/v1/state", get(get_protection).put(put_protection))
        .fallback(|| async { not_found() })
        .with_state(endpoint)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found").into_response()
}

/// The token's task state and container name; `None` answers 404.
fn resolve(endpoint: &Endpoint, token: &str) -> Option<(crate::task::state::TaskState, String)> {
    let owner = endpoint.registry.owner(token)?;
    let state = endpoint.registry.task(&owner.task_arn)?;
    Some((state, owner.container))
}

fn host(registry: &MetadataRegistry) -> Host<'_> {
    Host { cluster: &registry.cluster, availability_zone: registry.availability_zone.as_deref() }
}

async fn container_metadata(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>) -> Response {
    let rendered = resolve(&endpoint, &token)
        .and_then(|(state, container)| render::container(&state, &host(&endpoint.registry), &container));
    match rendered {
        Some(document) => Json(document).into_response(),
        None => not_found(),
    }
}

async fn task_metadata(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>) -> Response {
    match resolve(&endpoint, &token) {
        Some((state, _)) => Json(render::task(&state, &host(&endpoint.registry))).into_response(),
        None => not_found(),
    }
}

async fn stats_of(runtime: &dyn ContainerRuntime, docker_id: &str) -> Value {
    runtime.container_stats(docker_id).await.unwrap_or(Value::Null)
}

async fn container_stats(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>) -> Response {
    let Some((state, container)) = resolve(&endpoint, &token) else { return not_found() };
    let docker_id =
        state.containers.iter().find(|track| track.name == container).and_then(|track| track.runtime_id.clone());
    match docker_id {
        Some(id) => Json(stats_of(endpoint.runtime.as_ref(), &id).await).into_response(),
        None => Json(Value::Null).into_response(),
    }
}

async fn task_stats(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>) -> Response {
    let Some((state, _)) = resolve(&endpoint, &token) else { return not_found() };
    let mut by_docker_id = serde_json::Map::new();
    for id in state.containers.iter().filter_map(|track| track.runtime_id.clone()) {
        let stats = stats_of(endpoint.runtime.as_ref(), &id).await;
        by_docker_id.insert(id, stats);
    }
    Json(Value::Object(by_docker_id)).into_response()
}

/// The endpoint's answer for one protection call, in the agent API's shapes.
fn protection_answer(
    task_arn: &str,
    protected: Option<Vec<wire::ProtectedTask>>,
    failures: Option<Vec<wire::Failure>>,
) -> Response {
    if let Some(failure) = failures.unwrap_or_default().into_iter().next() {
        let body = json!({ "failure": { "Arn": failure.arn, "Reason": failure.reason, "Detail": failure.detail } });
        return (StatusCode::OK, Json(body)).into_response();
    }
    match protected.unwrap_or_default().into_iter().next() {
        Some(task) => {
            let expiration = task
                .expiration_date
                .map(|seconds| render::rfc3339(berth_types::Timestamp::from_epoch_seconds(seconds)));
            let body = json!({ "protection": {
                "ExpirationDate": expiration,
                "ProtectionEnabled": task.protection_enabled.unwrap_or(false),
                "TaskArn": task.task_arn.unwrap_or_else(|| task_arn.to_string()),
            }});
            (StatusCode::OK, Json(body)).into_response()
        }
        None => error_answer(
            task_arn,
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServerException",
            "The server answered nothing for the task.",
        ),
    }
}

fn error_answer(task_arn: &str, status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "Arn": task_arn, "Code": code, "Message": message } }))).into_response()
}

fn call_error(task_arn: &str, error: EcsCallError) -> Response {
    match error {
        EcsCallError::Refused { error_type, message } => {
            error_answer(task_arn, StatusCode::BAD_REQUEST, &error_type, &message)
        }
        EcsCallError::Unreachable(message) => {
            error_answer(task_arn, StatusCode::INTERNAL_SERVER_ERROR, "ServerException", &message)
        }
    }
}

async fn get_protection(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>) -> Response {
    let Some(owner) = endpoint.registry.owner(&token) else { return not_found() };
    let request = wire::GetTaskProtectionRequest {
        cluster: Some(endpoint.registry.cluster.clone()),
        tasks: Some(vec![owner.task_arn.clone()]),
    };
    match endpoint.client.ecs_call::<_, wire::GetTaskProtectionResponse>("GetTaskProtection", &request).await {
        Ok(response) => protection_answer(&owner.task_arn, response.protected_tasks, response.failures),
        Err(error) => call_error(&owner.task_arn, error),
    }
}

/// The PUT body: `{"ProtectionEnabled": true, "ExpiresInMinutes": 60}`.
#[derive(serde::Deserialize)]
struct ProtectionBody {
    #[serde(rename = "ProtectionEnabled")]
    protection_enabled: Option<bool>,
    #[serde(rename = "ExpiresInMinutes")]
    expires_in_minutes: Option<i32>,
}

async fn put_protection(State(endpoint): State<Arc<Endpoint>>, Path(token): Path<String>, body: Bytes) -> Response {
    let Some(owner) = endpoint.registry.owner(&token) else { return not_found() };
    let parsed: ProtectionBody = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = format!("The request body is not valid JSON: {error}");
            return error_answer(&owner.task_arn, StatusCode::BAD_REQUEST, "InvalidParameterException", &message);
        }
    };
    let Some(enabled) = parsed.protection_enabled else {
        let message = "ProtectionEnabled is required.";
        return error_answer(&owner.task_arn, StatusCode::BAD_REQUEST, "InvalidParameterException", message);
    };
    let request = wire::UpdateTaskProtectionRequest {
        cluster: Some(endpoint.registry.cluster.clone()),
        tasks: Some(vec![owner.task_arn.clone()]),
        protection_enabled: Some(enabled),
        expires_in_minutes: parsed.expires_in_minutes,
    };
    match endpoint.client.ecs_call::<_, wire::UpdateTaskProtectionResponse>("UpdateTaskProtection", &request).await {
        Ok(response) => protection_answer(&owner.task_arn, response.protected_tasks, response.failures),
        Err(error) => call_error(&owner.task_arn, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeRuntime;
    use crate::task::state::TaskState;
    use crate::test_support::{container, task_spec};
    use berth_types::DesiredStatus;

    const TASK_A: &str = "arn:aws:ecs:us-east-1:000000000000:task/prod/0123456789abcdef0123456789abcdef";
    const TASK_B: &str = "arn:aws:ecs:us-east-1:000000000000:task/prod/fedcba9876543210fedcba9876543210";

    struct Served {
        base: String,
        registry: Arc<MetadataRegistry>,
        tokens: Vec<String>,
    }

    /// An endpoint on loopback knowing tasks A and B, one container `web` each.
    async fn serve_two_tasks() -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let registry = Arc::new(MetadataRegistry::new(Some(base.clone()), "prod".into(), Some("us-east-1a".into())));
        let mut tokens = Vec::new();
        for arn in [TASK_A, TASK_B] {
            let (token, environment) = registry.issue(arn, "web").unwrap();
            assert_eq!(environment[0], ("ECS_CONTAINER_METADATA_URI_V4".to_string(), format!("{base}/v4/{token}")));
            assert_eq!(environment[2], ("ECS_AGENT_URI".to_string(), format!("{base}/api/{token}")));
            registry.update_task(&TaskState::new(arn, task_spec(vec![container("web")]), DesiredStatus::Running));
            tokens.push(token);
        }
        let endpoint = Arc::new(Endpoint {
            registry: Arc::clone(&registry),
            runtime: Arc::new(FakeRuntime::new()),
            client: ServerClient::new("http://127.0.0.1:9", "prod").unwrap(),
        });
        tokio::spawn(async move { axum::serve(listener, router(endpoint)).await.unwrap() });
        Served { base, registry, tokens }
    }

    async fn get(url: &str) -> (u16, String) {
        let response = reqwest::Client::new().get(url).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn a_token_opens_its_own_task_and_container_only() {
        let served = serve_two_tasks().await;
        let (base, token_a) = (&served.base, &served.tokens[0]);
        let (status, body) = get(&format!("{base}/v4/{token_a}/task")).await;
        assert_eq!(status, 200);
        let task: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(task["TaskARN"], TASK_A);
        assert_eq!(task["Cluster"], "prod");
        assert_eq!(task["AvailabilityZone"], "us-east-1a");
        assert_eq!(task["Containers"][0]["Name"], "web");
        assert!(!body.contains(TASK_B));
        let (status, body) = get(&format!("{base}/v3/{token_a}")).await;
        assert_eq!(status, 200);
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["Name"], "web");
    }

    #[tokio::test]
    async fn task_ids_made_up_tokens_and_other_paths_are_refused() {
        let served = serve_two_tasks().await;
        let base = &served.base;
        let id_b = TASK_B.rsplit('/').next().unwrap();
        for path in [
            format!("/v4/{id_b}/task"),
            format!("/v4/{id_b}"),
            format!("/v4/{}/task", "0".repeat(32)),
            format!("/v4/{}/task/extra", served.tokens[0]),
            "/v4/".to_string(),
            "/task".to_string(),
            format!("/api/{id_b}/task-protection/v1/state"),
            "/".to_string(),
        ] {
            let (status, body) = get(&format!("{base}{path}")).await;
            assert_eq!(status, 404, "{path} answered {body}");
            assert!(!body.contains(TASK_B) && !body.contains(TASK_A), "{path} leaked {body}");
        }
    }

    #[tokio::test]
    async fn a_forgotten_task_opens_nothing() {
        let served = serve_two_tasks().await;
        served.registry.forget_task(TASK_A);
        let (status, _) = get(&format!("{}/v4/{}/task", served.base, served.tokens[0])).await;
        assert_eq!(status, 404);
        let (status, _) = get(&format!("{}/v4/{}/task", served.base, served.tokens[1])).await;
        assert_eq!(status, 200, "the other task still answers");
    }

    #[tokio::test]
    async fn a_put_without_protection_enabled_is_refused_as_invalid() {
        let served = serve_two_tasks().await;
        let url = format!("{}/api/{}/task-protection/v1/state", served.base, served.tokens[0]);
        let response = reqwest::Client::new().put(&url).body("{\"ExpiresInMinutes\": 5}").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["Code"], "InvalidParameterException");
        assert_eq!(body["error"]["Arn"], TASK_A);
    }
}
