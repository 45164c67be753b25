use super::text_format::parse;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use berth_control::{ControlConfig, ControlPlane};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

fn ecs_call(operation: &str, body: &str) -> Request<Body> {
    Request::post("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AmazonEC2ContainerServiceV20141113.{operation}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn scrape(router: &axum::Router) -> (String, String) {
    let response = router.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (content_type, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn requests_are_counted_by_service_operation_and_outcome() {
    let control = ControlPlane::open(ControlConfig::default(), Arc::new(berth_store::MemoryStore::default())).unwrap();
    control.metrics().watch_store_file("berth.redb", std::env::current_exe().unwrap());
    let router = crate::router(Arc::clone(&control));
    for (operation, body, status) in [
        ("CreateCluster", r#"{"clusterName":"metrics"}"#, StatusCode::OK),
        ("CreateCluster", r#"{"clusterName":"metrics-2"}"#, StatusCode::OK),
        ("DescribeClusters", r#"{"clusters":[7]}"#, StatusCode::BAD_REQUEST),
        ("NoSuchOperation", "{}", StatusCode::BAD_REQUEST),
    ] {
        let response = router.clone().oneshot(ecs_call(operation, body)).await.unwrap();
        assert_eq!(response.status(), status, "{operation}");
    }
    control.reconcile_services().await;

    let (content_type, text) = scrape(&router).await;
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let exposition = parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let requests = |operation, outcome| {
        exposition
            .value("berth_api_requests_total", &[("service", "ecs"), ("operation", operation), ("outcome", outcome)])
    };
    assert_eq!(requests("CreateCluster", "ok"), Some(2.0));
    assert_eq!(requests("DescribeClusters", "client_error"), Some(1.0));
    // A name outside the model is counted, but never becomes a series of its own.
    assert_eq!(requests("unknown", "client_error"), Some(1.0));
    assert!(!text.contains("NoSuchOperation"));
    let latency = [("service", "ecs"), ("operation", "CreateCluster"), ("outcome", "ok")];
    assert_eq!(exposition.value("berth_api_request_duration_seconds_count", &latency), Some(2.0));
    assert_eq!(exposition.types["berth_api_request_duration_seconds"], "histogram");

    // The control plane's own metrics are in the same exposition.
    let commits = exposition.value("berth_store_commit_duration_seconds_count", &[]).unwrap();
    assert!(commits >= 2.0, "two clusters were committed, got {commits} commits");
    assert!(exposition.value("berth_store_commit_batches_sum", &[]).unwrap() >= 2.0);
    assert_eq!(
        exposition.value("berth_reconciler_pass_duration_seconds_count", &[("reconciler", "service")]),
        Some(1.0)
    );
    assert!(exposition.value("berth_store_file_size_bytes", &[("file", "berth.redb")]).unwrap() > 0.0);
    assert_eq!(exposition.value("berth_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), Some(1.0));

    // The scrape itself counts from the next one on.
    let (_, again) = scrape(&router).await;
    let again = parse(&again).unwrap();
    assert_eq!(
        again.value("berth_api_requests_total", &[("service", "berth"), ("operation", "metrics"), ("outcome", "ok")]),
        Some(1.0)
    );
}

#[test]
fn routes_are_named_by_their_templates() {
    assert_eq!(
        super::route_name("/agent/v1/clusters/{cluster}/instances/{instance}/logs/open"),
        ("agent", "logs/open".to_string())
    );
    assert_eq!(super::route_name("/proxy/v1/document"), ("proxy", "document".to_string()));
    assert_eq!(super::route_name("/metrics"), ("berth", "metrics".to_string()));
}
