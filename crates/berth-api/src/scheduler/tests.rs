//! Scheduler inside the router: requests found by path or signing name, REST-JSON errors with
//! the model's statuses and the `x-amzn-ErrorType` header, targets Berth cannot run refused by
//! name, and nothing changed by a refused request.

use axum::body::Body;
use axum::http::{self, StatusCode};
use berth_control::{ControlConfig, ControlPlane};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const CLUSTER: &str = "arn:aws:ecs:us-east-1:000000000000:cluster/default";
const ROLE: &str = "arn:aws:iam::000000000000:role/scheduler";

fn router() -> axum::Router {
    let control = ControlPlane::open(ControlConfig::default(), Arc::new(berth_store::MemoryStore::default())).unwrap();
    crate::router(control)
}

struct Answer {
    status: StatusCode,
    code: Option<String>,
    body: Value,
}

async fn call(router: &axum::Router, method: &str, path: &str, body: Option<Value>) -> Answer {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(Body::from(body.map(|body| body.to_string()).unwrap_or_default()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let code = response.headers().get("x-amzn-errortype").map(|value| value.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    Answer { status, code, body }
}

fn schedule(expression: &str) -> Value {
    json!({
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": CLUSTER,
            "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": "web:1", "TaskCount": 2, "Tags": [{"team": "infra"}]},
            "Input": "{\"containerOverrides\":[{\"name\":\"web\",\"command\":[\"true\"]}]}"
        }
    })
}

#[tokio::test]
async fn schedules_round_trip_through_the_rest_routes() {
    let router = router();
    let created = call(&router, "POST", "/schedules/nightly", Some(schedule("cron(0 2 * * ? *)"))).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.body["ScheduleArn"], "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly");
    let got = call(&router, "GET", "/schedules/nightly?groupName=default", None).await;
    assert_eq!(got.body["ScheduleExpression"], "cron(0 2 * * ? *)");
    assert_eq!(got.body["ScheduleExpressionTimezone"], "UTC");
    assert_eq!(got.body["Target"]["EcsParameters"]["TaskCount"], 2);
    assert_eq!(got.body["FlexibleTimeWindow"]["Mode"], "OFF");
    let listed = call(&router, "GET", "/schedules?NamePrefix=night&MaxResults=5", None).await;
    assert_eq!(listed.body["Schedules"][0]["Target"]["Arn"], CLUSTER);
    let deleted = call(&router, "DELETE", "/schedules/nightly", None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = call(&router, "GET", "/schedules/nightly", None).await;
    assert_eq!((gone.status, gone.code.as_deref()), (StatusCode::NOT_FOUND, Some("ResourceNotFoundException")));
    assert!(gone.body["Message"].as_str().unwrap().contains("nightly"));
}

#[tokio::test]
async fn errors_carry_the_model_status_and_code_and_change_nothing() {
    let router = router();
    call(&router, "POST", "/schedules/taken", Some(schedule("rate(5 minutes)"))).await;
    let conflict = call(&router, "POST", "/schedules/taken", Some(schedule("rate(5 minutes)"))).await;
    assert_eq!((conflict.status, conflict.code.as_deref()), (StatusCode::CONFLICT, Some("ConflictException")));

    let mut lambda = schedule("rate(5 minutes)");
    lambda["Target"]["Arn"] = json!("arn:aws:lambda:us-east-1:000000000000:function:f");
    let refused = call(&router, "POST", "/schedules/lambda", Some(lambda)).await;
    assert_eq!((refused.status, refused.code.as_deref()), (StatusCode::BAD_REQUEST, Some("ValidationException")));
    assert!(refused.body["Message"].as_str().unwrap().contains("Berth runs ECS targets only"), "{:?}", refused.body);

    let mut bad_input = schedule("rate(5 minutes)");
    bad_input["Target"]["Input"] = json!("not json");
    let refused = call(&router, "POST", "/schedules/bad-input", Some(bad_input)).await;
    assert!(refused.body["Message"].as_str().unwrap().contains("Target.Input"), "{:?}", refused.body);

    let refused = call(&router, "POST", "/schedules/bad-rate", Some(schedule("rate(1 minutes)"))).await;
    assert!(refused.body["Message"].as_str().unwrap().contains("Invalid Schedule Expression"));

    let mut missing = schedule("rate(5 minutes)");
    missing.as_object_mut().unwrap().remove("FlexibleTimeWindow");
    let refused = call(&router, "POST", "/schedules/missing", Some(missing)).await;
    assert!(refused.body["Message"].as_str().unwrap().contains("FlexibleTimeWindow"), "{:?}", refused.body);

    let bad_query = call(&router, "GET", "/schedules?MaxResults=1000", None).await;
    assert_eq!(bad_query.code.as_deref(), Some("ValidationException"));
    assert!(bad_query.body["Message"].as_str().unwrap().contains("MaxResults"));
    let malformed = call(&router, "POST", "/schedule-groups/g", None).await;
    assert_eq!(malformed.status, StatusCode::OK, "an empty body is an empty input");

    let listed = call(&router, "GET", "/schedules", None).await;
    let names: Vec<&str> =
        listed.body["Schedules"].as_array().unwrap().iter().map(|s| s["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["taken"]);
}

#[tokio::test]
async fn groups_and_their_tags_are_served_with_encoded_arns() {
    let router = router();
    let created =
        call(&router, "POST", "/schedule-groups/jobs", Some(json!({"Tags": [{"Key": "team", "Value": "infra"}]})))
            .await;
    let arn = created.body["ScheduleGroupArn"].as_str().unwrap().to_string();
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    let tags = call(&router, "GET", &format!("/tags/{encoded}"), None).await;
    assert_eq!(tags.body["Tags"], json!([{"Key": "team", "Value": "infra"}]));
    call(&router, "DELETE", &format!("/tags/{encoded}?TagKeys=team"), None).await;
    assert_eq!(call(&router, "GET", &format!("/tags/{encoded}"), None).await.body["Tags"], json!([]));
    let groups = call(&router, "GET", "/schedule-groups", None).await;
    assert_eq!(groups.body["ScheduleGroups"].as_array().unwrap().len(), 2);
    let default = call(&router, "DELETE", "/schedule-groups/default", None).await;
    assert_eq!(default.code.as_deref(), Some("ValidationException"));
}

#[tokio::test]
async fn scheduler_requests_are_counted_by_operation() {
    let router = router();
    call(&router, "GET", "/schedule-groups/default", None).await;
    let request = http::Request::get("/metrics").body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.lines()
            .any(|line| line.contains("service=\"scheduler\"") && line.contains("operation=\"GetScheduleGroup\"")),
        "{text}"
    );
}

#[tokio::test]
async fn other_paths_and_services_are_not_scheduler() {
    let router = router();
    let request = http::Request::get("/nowhere").body(Body::empty()).unwrap();
    assert_eq!(router.clone().oneshot(request).await.unwrap().status(), StatusCode::NOT_FOUND);
    let unknown = call(&router, "PATCH", "/schedules/x", None).await;
    assert_eq!(unknown.code.as_deref(), Some("UnknownOperationException"));
}
