//! The HTTP edge. `POST /` speaks the ECS, ACM, CloudWatch Logs and Application Auto Scaling APIs (AWS JSON 1.1, `X-Amz-Target` names
//! the operation), ELBv2's (Query) and CloudWatch's (JSON 1.0 and Query; its RPC v2 CBOR is
//! `POST /service/{service}/operation/{operation}`); `/agent/v1/...` serves agents. Requests are decoded into wire shapes, parsed into
//! domain values, handed to the control plane, and the results rendered back.
//!
//! Invariant: every failure leaves through [`error::ApiError`], the one mapping to the AWS error
//! shape; a client's mistake is a 400, never a 500 or a dropped connection (a panic in a handler
//! is caught and reported as `ServerException`).
//!
//! Not here: business rules (`berth-control`) and wire↔domain validation of task definitions
//! (`berth-ecs-convert`).

/// One operation of a JSON-protocol service: decode the request shape, run the handler, encode
/// its answer. `decode_request` resolves where the macro is used: each service's own wire
/// crate (ECS's, ACM's), whose decoding names the field at fault.
macro_rules! serve_json {
    ($api:expr, $body:expr, $handler:path) => {{
        let request = decode_request($body)?;
        let response = $handler($api, request).await?;
        Ok(serde_json::to_vec(&response).expect("response shapes always serialise"))
    }};
}

pub mod acm;
mod agent_routes;
pub mod autoscaling;
pub mod caller;
pub mod cloudwatch;
pub mod elbv2;
pub mod error;
mod event_stream;
pub mod events;
pub mod exec;
pub mod logs;
pub mod metrics;
mod name_paging;
mod operations;
pub mod parse;
mod placement;
mod protocols;
mod proxy_routes;
mod query_protocol;
pub mod render;
mod request_encoding;
pub mod scheduler;
mod task_cache;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use berth_control::ControlPlane;
use berth_ecs_wire::{decode_request, TARGET_PREFIX};
use berth_types::ArnContext;
use error::{ApiError, ApiResult};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Requests larger than this are refused: a PutLogEvents batch or an agent's log batch holds
/// up to 1 MiB of messages plus their JSON (ECS caps task definitions at 64 KiB).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

pub struct Api {
    pub control: Arc<ControlPlane>,
    pub task_cache: task_cache::TaskCache,
    /// Pending ECS Exec sessions and their streams (see `exec`).
    pub exec: Arc<exec::broker::ExecBroker>,
    /// What `GET /metrics` renders (see `metrics`).
    pub telemetry: metrics::Telemetry,
}

impl Api {
    pub fn context(&self) -> &ArnContext {
        self.control.arn_context()
    }
}

/// The whole HTTP surface of a Berth server.
pub fn router(control: Arc<ControlPlane>) -> Router {
    let telemetry = metrics::Telemetry::new(&control);
    let api = Arc::new(Api { control, task_cache: task_cache::TaskCache::default(), exec: Arc::default(), telemetry });
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(events::dispatch::run(Arc::clone(&api)));
    }
    Router::new()
        .route("/", post(ecs_endpoint))
        .route("/service/{service}/operation/{operation}", post(rpc_v2_cbor_endpoint))
        .route("/metrics", get(metrics::serve))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/desired", get(agent_routes::poll_desired))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/report", post(agent_routes::report))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/logs/open", post(agent_routes::open_log_stream))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/logs", post(agent_routes::ship_logs))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/usage", post(agent_routes::report_usage))
        .route("/proxy/v1/document", get(proxy_routes::poll_document))
        .route("/proxy/v1/health", post(proxy_routes::report_health))
        .route("/exec/v1/sessions", get(exec::list_sessions))
        .route("/exec/v1/sessions/{session}", get(exec::attach_client))
        .route("/agent/v1/clusters/{cluster}/instances/{instance}/exec-sessions", get(exec::poll_tickets))
        .route(
            "/agent/v1/clusters/{cluster}/instances/{instance}/exec-sessions/{session}/stream",
            get(exec::attach_agent),
        )
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&api), metrics::record_request))
        // Route layers skip the fallback: it is counted by a layer of its own.
        .fallback_service(
            axum::routing::any(rest_endpoint)
                .layer(axum::middleware::from_fn_with_state(Arc::clone(&api), metrics::record_request))
                .with_state(Arc::clone(&api)),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(axum::middleware::from_fn(request_encoding::decompress_request))
        .with_state(api)
}

/// `POST /`: the AWS APIs. The answer carries the service and operation for the request
/// metrics (`metrics::record_request`).
async fn ecs_endpoint(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = protocols::is_form(&headers).then(|| berth_query_wire::QueryParams::parse(&body));
    let service = protocols::route(&headers, form.as_ref().and_then(|params| params.get("Version")));
    let operation = protocols::operation(service, &headers, form.as_ref());
    let mut response = serve_aws(&api, service, &headers, form, &body).await;
    response.extensions_mut().insert(operation);
    response
}

/// Every other method and path: a REST-JSON service, found by the SigV4 signing name or, for
/// unsigned requests, by the path (`protocols::route_rest`). Today that is EventBridge
/// Scheduler.
async fn rest_endpoint(
    State(api): State<Arc<Api>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if protocols::route_rest(&headers, uri.path()) != Some(protocols::Service::Scheduler) {
        let mut response = StatusCode::NOT_FOUND.into_response();
        response.extensions_mut().insert(metrics::Operation { service: "unknown", operation: "unknown" });
        return response;
    }
    let operation = scheduler::operation_of(&method, &uri);
    let served = caller::scope(&headers, scheduler::serve(&api, &method, &uri, &headers, &body));
    let mut response = AssertUnwindSafe(served).catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!(path = uri.path(), "EventBridge Scheduler handler panicked; answering InternalServerException");
        scheduler::internal_failure()
    });
    response.extensions_mut().insert(metrics::Operation { service: protocols::Service::Scheduler.label(), operation });
    response
}

/// `POST /service/{service}/operation/{operation}`: Smithy RPC v2 CBOR, today CloudWatch's.
async fn rpc_v2_cbor_endpoint(
    State(api): State<Arc<Api>>,
    Path((service, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let served = caller::scope(&headers, cloudwatch::serve_cbor(api.as_ref(), &service, &operation, &headers, &body));
    let mut response = AssertUnwindSafe(served).catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!(operation, "CloudWatch handler panicked; answering InternalServiceError");
        cloudwatch::internal_failure(cloudwatch::Protocol::Cbor)
    });
    let named = if service == berth_cloudwatch_wire::RPC_V2_SERVICE_NAME {
        let known = protocols::known_operation(&operation, berth_cloudwatch_wire::ALL_OPERATIONS);
        metrics::Operation { service: protocols::Service::CloudWatch.label(), operation: known }
    } else {
        metrics::Operation { service: protocols::Service::UnknownQuery.label(), operation: "unknown" }
    };
    response.extensions_mut().insert(named);
    response
}

/// CloudWatch's JSON 1.0 (`X-Amz-Target`, as `protocols::route` looks first) or Query.
async fn serve_cloudwatch_post(
    api: &Api,
    headers: &HeaderMap,
    form: Option<&berth_query_wire::QueryParams>,
    body: &[u8],
) -> Response {
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok());
    let empty = berth_query_wire::QueryParams::default();
    let (request, operation) = match target {
        Some(target) => (
            cloudwatch::Request::Json(body),
            target.strip_prefix(berth_cloudwatch_wire::TARGET_PREFIX).unwrap_or_default(),
        ),
        None => {
            let params = form.unwrap_or(&empty);
            (cloudwatch::Request::Query(params), params.get("Action").unwrap_or_default())
        }
    };
    let served =
        AssertUnwindSafe(caller::scope(headers, cloudwatch::serve(api, request, operation))).catch_unwind().await;
    served.unwrap_or_else(|_| {
        tracing::error!(operation, "CloudWatch handler panicked; answering InternalServiceError");
        cloudwatch::internal_failure(request.protocol())
    })
}

async fn serve_aws(
    api: &Arc<Api>,
    service: protocols::Service,
    headers: &HeaderMap,
    form: Option<berth_query_wire::QueryParams>,
    body: &Bytes,
) -> Response {
    let (api, headers, body) = (api.as_ref(), headers, body.as_ref());
    match service {
        protocols::Service::Ecs => {}
        protocols::Service::Acm => {
            let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
            let served = AssertUnwindSafe(caller::scope(headers, acm::serve(api, target, body))).catch_unwind().await;
            return served.unwrap_or_else(|_| {
                tracing::error!("ACM handler panicked; answering InternalServerException");
                acm::internal_failure()
            });
        }
        protocols::Service::Events => {
            let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
            let served =
                AssertUnwindSafe(caller::scope(headers, events::serve(api, target, body))).catch_unwind().await;
            return served.unwrap_or_else(|_| {
                tracing::error!("EventBridge handler panicked; answering InternalException");
                events::internal_failure()
            });
        }
        protocols::Service::AutoScaling => {
            let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
            let served =
                AssertUnwindSafe(caller::scope(headers, autoscaling::serve(api, target, body))).catch_unwind().await;
            return served.unwrap_or_else(|_| {
                tracing::error!("Application Auto Scaling handler panicked; answering InternalServiceException");
                autoscaling::internal_failure()
            });
        }
        protocols::Service::Logs => {
            let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
            let served = AssertUnwindSafe(caller::scope(headers, logs::serve(api, target, body))).catch_unwind().await;
            return served.unwrap_or_else(|_| {
                tracing::error!("CloudWatch Logs handler panicked; answering ServiceUnavailableException");
                logs::internal_failure()
            });
        }
        protocols::Service::Elbv2 => {
            let params = form.unwrap_or_default();
            let served = AssertUnwindSafe(caller::scope(headers, elbv2::serve(api, &params))).catch_unwind().await;
            return served.unwrap_or_else(|_| {
                tracing::error!("ELBv2 handler panicked; answering InternalFailure");
                elbv2::internal_failure()
            });
        }
        protocols::Service::CloudWatch => return serve_cloudwatch_post(api, headers, form.as_ref(), body).await,
        protocols::Service::Scheduler => {
            // REST-JSON is never `POST /`: its operations have paths of their own.
            return scheduler::SchedulerApiError::unknown_operation("POST", "/").into_response();
        }
        protocols::Service::UnknownQuery => {
            let action = form.as_ref().and_then(|params| params.get("Action")).unwrap_or_default();
            return protocols::unknown_service(action);
        }
    }
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default().to_string();
    let Some(operation) = target.strip_prefix(TARGET_PREFIX) else {
        return ApiError::unknown_operation(&target).into_response();
    };
    let outcome =
        AssertUnwindSafe(caller::scope(headers, dispatch(api, operation, body, headers))).catch_unwind().await;
    let result = match outcome {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(operation, "handler panicked; answering ServerException");
            Err(ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error_type: "ServerException",
                message: "The server hit an internal error; the request may not have been applied.".to_string(),
                resource_ids: None,
            })
        }
    };
    match result {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response(),
        Err(error) => {
            tracing::debug!(operation, error_type = error.error_type, reason = %error.message, "request refused");
            error.into_response()
        }
    }
}

async fn dispatch(api: &Api, operation: &str, body: &[u8], headers: &HeaderMap) -> ApiResult<Vec<u8>> {
    use operations::service_deployments;
    use operations::{account_settings, agent_operations};
    use operations::{
        attributes, capacity_providers, clusters, container_instances, services, tags, task_definitions, tasks,
    };
    macro_rules! serve {
        ($handler:path) => {
            serve_json!(api, body, $handler)
        };
    }
    match operation {
        "CreateCluster" => serve!(clusters::create_cluster),
        "DescribeClusters" => serve!(clusters::describe_clusters),
        "ListClusters" => serve!(clusters::list_clusters),
        "UpdateCluster" => serve!(clusters::update_cluster),
        "UpdateClusterSettings" => serve!(clusters::update_cluster_settings),
        "DeleteCluster" => serve!(clusters::delete_cluster),
        "RegisterTaskDefinition" => serve!(task_definitions::register_task_definition),
        "DescribeTaskDefinition" => serve!(task_definitions::describe_task_definition),
        "DeregisterTaskDefinition" => serve!(task_definitions::deregister_task_definition),
        "DeleteTaskDefinitions" => serve!(task_definitions::delete_task_definitions),
        "ListTaskDefinitions" => serve!(task_definitions::list_task_definitions),
        "ListTaskDefinitionFamilies" => serve!(task_definitions::list_task_definition_families),
        "RunTask" => serve!(tasks::run_task),
        "StartTask" => serve!(tasks::start_task),
        "StopTask" => serve!(tasks::stop_task),
        "DescribeTasks" => tasks::describe_tasks(api, decode_request(body)?).await,
        "ListTasks" => serve!(tasks::list_tasks),
        "RegisterContainerInstance" => serve!(container_instances::register_container_instance),
        "DeregisterContainerInstance" => serve!(container_instances::deregister_container_instance),
        "DescribeContainerInstances" => serve!(container_instances::describe_container_instances),
        "ListContainerInstances" => serve!(container_instances::list_container_instances),
        "UpdateContainerInstancesState" => {
            serve!(container_instances::update_container_instances_state)
        }
        "CreateService" => serve!(services::create_service),
        "UpdateService" => serve!(services::update_service),
        "DeleteService" => serve!(services::delete_service),
        "DescribeServices" => serve!(services::describe_services),
        "ListServices" => serve!(services::list_services),
        "ListServiceDeployments" => serve!(service_deployments::list_service_deployments),
        "DescribeServiceDeployments" => serve!(service_deployments::describe_service_deployments),
        "DescribeServiceRevisions" => serve!(service_deployments::describe_service_revisions),
        "StopServiceDeployment" => serve!(service_deployments::stop_service_deployment),
        "ContinueServiceDeployment" => serve!(service_deployments::continue_service_deployment),
        "CreateCapacityProvider" => serve!(capacity_providers::create_capacity_provider),
        "UpdateCapacityProvider" => serve!(capacity_providers::update_capacity_provider),
        "DeleteCapacityProvider" => serve!(capacity_providers::delete_capacity_provider),
        "DescribeCapacityProviders" => serve!(capacity_providers::describe_capacity_providers),
        "PutClusterCapacityProviders" => serve!(capacity_providers::put_cluster_capacity_providers),
        "PutAttributes" => serve!(attributes::put_attributes),
        "DeleteAttributes" => serve!(attributes::delete_attributes),
        "ListAttributes" => serve!(attributes::list_attributes),
        "TagResource" => serve!(tags::tag_resource),
        "UntagResource" => serve!(tags::untag_resource),
        "ListTagsForResource" => serve!(tags::list_tags_for_resource),
        "PutAccountSetting" => serve!(account_settings::put_account_setting),
        "PutAccountSettingDefault" => serve!(account_settings::put_account_setting_default),
        "DeleteAccountSetting" => serve!(account_settings::delete_account_setting),
        "ListAccountSettings" => serve!(account_settings::list_account_settings),
        "DiscoverPollEndpoint" => {
            let response = agent_operations::discover_poll_endpoint(api, decode_request(body)?, headers)?;
            Ok(serde_json::to_vec(&response).expect("response shapes always serialise"))
        }
        "SubmitTaskStateChange" => serve!(agent_operations::submit_task_state_change),
        "SubmitContainerStateChange" => serve!(agent_operations::submit_container_state_change),
        "SubmitAttachmentStateChanges" => serve!(agent_operations::submit_attachment_state_changes),
        "UpdateContainerAgent" => serve!(agent_operations::update_container_agent),
        "ExecuteCommand" => serve!(exec::operation::execute_command),
        "UpdateTaskProtection" => serve!(operations::task_protection::update_task_protection),
        "GetTaskProtection" => serve!(operations::task_protection::get_task_protection),
        "CreateTaskSet" => serve!(operations::task_sets::create_task_set),
        "DescribeTaskSets" => serve!(operations::task_sets::describe_task_sets),
        "UpdateTaskSet" => serve!(operations::task_sets::update_task_set),
        "UpdateServicePrimaryTaskSet" => serve!(operations::task_sets::update_service_primary_task_set),
        "DeleteTaskSet" => serve!(operations::task_sets::delete_task_set),
        "RegisterDaemonTaskDefinition" => serve!(operations::daemon_task_definitions::register_daemon_task_definition),
        "DescribeDaemonTaskDefinition" => serve!(operations::daemon_task_definitions::describe_daemon_task_definition),
        "ListDaemonTaskDefinitions" => serve!(operations::daemon_task_definitions::list_daemon_task_definitions),
        "DeleteDaemonTaskDefinition" => serve!(operations::daemon_task_definitions::delete_daemon_task_definition),
        "CreateDaemon" => serve!(operations::daemons::create_daemon),
        "UpdateDaemon" => serve!(operations::daemons::update_daemon),
        "DeleteDaemon" => serve!(operations::daemons::delete_daemon),
        "DescribeDaemon" => serve!(operations::daemons::describe_daemon),
        "ListDaemons" => serve!(operations::daemons::list_daemons),
        "ListDaemonDeployments" => serve!(operations::daemons::list_daemon_deployments),
        "DescribeDaemonDeployments" => serve!(operations::daemons::describe_daemon_deployments),
        "DescribeDaemonRevisions" => serve!(operations::daemons::describe_daemon_revisions),
        "CreateGateway" => serve!(operations::gateways::create_gateway),
        "UpdateGateway" => serve!(operations::gateways::update_gateway),
        "DeleteGateway" => serve!(operations::gateways::delete_gateway),
        "DescribeGateway" => serve!(operations::gateways::describe_gateway),
        "ListGateways" => serve!(operations::gateways::list_gateways),
        "DescribeGatewayResources" => serve!(operations::gateways::describe_gateway_resources),
        "DescribeGatewayRoute" => serve!(operations::gateways::describe_gateway_route),
        "ListGatewayRoutes" => serve!(operations::gateways::list_gateway_routes),
        "AssociateGatewayWithCluster" => serve!(operations::gateways::associate_gateway_with_cluster),
        "DisassociateGatewayFromCluster" => serve!(operations::gateways::disassociate_gateway_from_cluster),
        "ListGatewayClusterAssociations" => serve!(operations::gateways::list_gateway_cluster_associations),
        known if berth_ecs_wire::ALL_OPERATIONS.contains(&known) => Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            error_type: "UnsupportedFeatureException",
            message: format!("{known} is not supported by this Berth version yet."),
            resource_ids: None,
        }),
        unknown => Err(ApiError::unknown_operation(unknown)),
    }
}
