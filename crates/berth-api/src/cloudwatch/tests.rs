//! CloudWatch's three protocols end to end inside the router: real botocore requests (the
//! wire crate's fixtures) decode, a bad input is refused in the request's own protocol naming
//! the field, and answers and errors carry that protocol's headers. A recording fake stands in
//! for the operations where a successful answer is needed.

use super::{serve, CloudWatchOperations, CloudWatchResult, Request};
use axum::body::Body;
use axum::http::{self, StatusCode};
use axum::response::Response;
use berth_cloudwatch_wire::*;
use berth_control::{ControlConfig, ControlPlane};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::sync::Arc;
use tower::ServiceExt;

macro_rules! fixture {
    ($name:literal) => {
        &include_bytes!(concat!("../../../berth-cloudwatch-wire/tests/fixtures/", $name))[..]
    };
}

const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/";

fn router() -> axum::Router {
    let control = ControlPlane::open(ControlConfig::default(), Arc::new(berth_store::MemoryStore::default())).unwrap();
    crate::router(control)
}

fn cbor_call(operation: &str, body: &[u8]) -> http::Request<Body> {
    http::Request::post(format!("{CBOR_PATH}{operation}"))
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .header("accept", "application/cbor")
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn json_call(operation: &str, body: &[u8]) -> http::Request<Body> {
    http::Request::post("/")
        .header("x-amz-target", format!("GraniteServiceVersion20100801.{operation}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn query_call(form: &[u8]) -> http::Request<Body> {
    http::Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(Body::from(form.to_vec()))
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    async fn of(response: Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer { status, headers, body }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// `__type` and `message` of a CBOR or JSON error.
    fn error_body(&self) -> ErrorBody {
        match self.header("content-type") {
            Some("application/cbor") => decode_cbor::<CborErrorBody>(&self.body).unwrap().into(),
            _ => serde_json::from_slice(&self.body).unwrap(),
        }
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// ecs-wire's `ErrorBody` has no `CheckRequired`; CBOR errors are read back through this.
#[derive(Default, serde::Deserialize)]
struct CborErrorBody {
    #[serde(rename = "__type")]
    error_type: String,
    message: String,
}

impl CheckRequired for CborErrorBody {
    fn check_required(&self, _path: &str) -> Result<(), String> {
        Ok(())
    }
}

impl From<CborErrorBody> for ErrorBody {
    fn from(body: CborErrorBody) -> ErrorBody {
        ErrorBody { error_type: body.error_type, message: body.message, resource_ids: None }
    }
}

async fn call(router: &axum::Router, request: http::Request<Body>) -> Answer {
    Answer::of(router.clone().oneshot(request).await.unwrap()).await
}

fn assert_request_id(answer: &Answer) {
    let id = answer.header("x-amzn-requestid").expect("every answer has x-amzn-RequestId");
    assert_eq!(id.len(), 36, "{id}");
}

#[tokio::test]
async fn an_unknown_alarm_is_resource_not_found_in_every_protocol() {
    let router = router();
    let set = br#"{"AlarmName":"nope","StateValue":"ALARM","StateReason":"testing"}"#;
    let json = call(&router, json_call("SetAlarmState", set)).await;
    assert_eq!(json.status, StatusCode::NOT_FOUND);
    assert_eq!(json.header("content-type"), Some("application/x-amz-json-1.0"));
    assert_eq!(json.header("x-amzn-query-error"), Some("ResourceNotFound;Sender"));
    assert_request_id(&json);
    assert_eq!(json.error_body().message, "The alarm nope does not exist.");
    // {"AlarmName": "nope", "StateValue": "OK", "StateReason": "x"}
    let cbor_body = b"\xa3\x69AlarmName\x64nope\x6aStateValue\x62OK\x6bStateReason\x61x";
    let cbor = call(&router, cbor_call("SetAlarmState", cbor_body)).await;
    assert_eq!(cbor.status, StatusCode::NOT_FOUND);
    assert_eq!(cbor.header("content-type"), Some("application/cbor"));
    assert_eq!(cbor.header("smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(cbor.error_body().error_type, "ResourceNotFound");
    let query = call(
        &router,
        query_call(b"Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=OK&StateReason=x"),
    )
    .await;
    assert_eq!(query.status, StatusCode::NOT_FOUND);
    assert_eq!(query.header("content-type"), Some("text/xml"));
    assert_request_id(&query);
    let xml = query.text();
    assert!(xml.starts_with("<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>ResourceNotFound</Code><Message>The alarm nope does not exist."), "{xml}");
    assert!(xml.contains(&format!("<RequestId>{}</RequestId>", query.header("x-amzn-requestid").unwrap())), "{xml}");
    let described = call(&router, cbor_call("DescribeAlarms", fixture!("describe_alarms.cbor"))).await;
    assert_eq!(described.status, StatusCode::OK);
}

#[tokio::test]
async fn metric_data_is_stored_and_read_back_in_every_protocol() {
    let iso = |seconds: u64| Timestamp::from_unix_millis(seconds as i64 * 1000).to_string().replace(':', "%3A");
    let router = router();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let minute = now / 60 * 60 - 600;
    let put = format!(
        r#"{{"Namespace":"Berth/Test","MetricData":[{{"MetricName":"Latency","Dimensions":[{{"Name":"Service","Value":"web"}}],"Timestamp":{minute},"Value":12.5,"Unit":"Milliseconds"}}]}}"#
    );
    let stored = call(&router, json_call("PutMetricData", put.as_bytes())).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text());
    let both = r#"{"Namespace":"Berth/Test","MetricData":[{"MetricName":"Latency","Value":1,"Values":[2]}]}"#;
    let refused = call(&router, json_call("PutMetricData", both.as_bytes())).await;
    assert_eq!(refused.header("x-amzn-query-error"), Some("InvalidParameterCombination;Sender"));
    let form = format!(
        "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Berth%2FTest&MetricName=Latency&Dimensions.member.1.Name=Service&Dimensions.member.1.Value=web&StartTime={}&EndTime={}&Period=60&Statistics.member.1=Maximum",
        iso(minute - 60),
        iso(minute + 60)
    );
    let statistics = call(&router, query_call(form.as_bytes())).await;
    assert_eq!(statistics.status, StatusCode::OK, "{}", statistics.text());
    let xml = statistics.text();
    assert!(xml.contains("<Maximum>12.5</Maximum>") && xml.contains("<Unit>Milliseconds</Unit>"), "{xml}");
    let list = call(&router, cbor_call("ListMetrics", b"\xa1\x69Namespace\x6aBerth/Test")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("content-type"), Some("application/cbor"));
}

#[tokio::test]
async fn a_missing_member_is_missing_parameter_naming_it_in_every_protocol() {
    let router = router();
    let cbor = call(&router, cbor_call("PutMetricData", fixture!("put_metric_data_missing_metric_name.cbor"))).await;
    let json = call(&router, json_call("PutMetricData", fixture!("put_metric_data_missing_metric_name.json"))).await;
    for answer in [&cbor, &json] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.header("x-amzn-query-error"), Some("MissingParameter;Sender"));
        let body = answer.error_body();
        assert_eq!(body.error_type, "MissingRequiredParameterException");
        assert_eq!(body.message, "Missing required parameter: MetricData[1].MetricName");
    }
    let query = call(&router, query_call(fixture!("put_metric_data_missing_metric_name.form"))).await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST);
    assert!(query.text().contains("<Code>MissingParameter</Code>"), "{}", query.text());
    // XML escapes the quotes around the key.
    assert!(query.text().contains("&apos;MetricData.member.2.MetricName&apos;"), "{}", query.text());
}

#[tokio::test]
async fn a_wrong_value_is_invalid_parameter_value_naming_it() {
    let router = router();
    let json = call(&router, json_call("DescribeAlarms", br#"{"StateValue":"ON_FIRE"}"#)).await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);
    assert_eq!(json.header("x-amzn-query-error"), Some("InvalidParameterValue;Sender"));
    assert!(json.error_body().message.contains("parameter StateValue"), "{}", json.error_body().message);
    let query = call(&router, query_call(b"Action=DescribeAlarms&Version=2010-08-01&MaxRecords=many")).await;
    assert!(query.text().contains("<Code>InvalidParameterValue</Code>"), "{}", query.text());
    assert!(query.text().contains("at &apos;MaxRecords&apos;"), "{}", query.text());
}

#[tokio::test]
async fn malformed_bodies_and_unknown_operations_are_400s_in_the_requests_protocol() {
    let router = router();
    let cbor = call(&router, cbor_call("PutMetricData", b"\xa1\x69Namespace")).await;
    assert_eq!(cbor.status, StatusCode::BAD_REQUEST);
    assert_eq!(cbor.error_body().error_type, "SerializationException");
    let json = call(&router, json_call("ListMetrics", b"{nope")).await;
    assert_eq!(
        (json.status, json.error_body().error_type.as_str()),
        (StatusCode::BAD_REQUEST, "SerializationException")
    );

    let cbor = call(&router, cbor_call("MadeUp", b"\xa0")).await;
    let json = call(&router, json_call("MadeUp", b"{}")).await;
    for answer in [&cbor, &json] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.header("x-amzn-query-error"), Some("InvalidAction;Sender"));
        assert_eq!(answer.error_body().error_type, "UnknownOperationException");
    }
    let query = call(&router, query_call(b"Action=MadeUp&Version=2010-08-01")).await;
    assert!(
        query.text().contains("<Code>InvalidAction</Code><Message>The action MadeUp is not valid"),
        "{}",
        query.text()
    );

    // In the model but without wire types here: refused before any decoding.
    let json = call(&router, json_call("PutDashboard", b"{}")).await;
    assert!(
        json.error_body().message.contains("is not supported by this Berth version"),
        "{}",
        json.error_body().message
    );
}

#[tokio::test]
async fn rpc_v2_cbor_needs_its_headers_and_a_known_service() {
    let router = router();
    let without_protocol = http::Request::post(format!("{CBOR_PATH}ListMetrics"))
        .header("content-type", "application/cbor")
        .body(Body::from(&b"\xa0"[..]))
        .unwrap();
    let answer = call(&router, without_protocol).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error_body().message.contains("smithy-protocol"), "{}", answer.error_body().message);
    let wrong_type = http::Request::post(format!("{CBOR_PATH}ListMetrics"))
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/json")
        .body(Body::from(&b"{}"[..]))
        .unwrap();
    assert!(call(&router, wrong_type).await.error_body().message.contains("Content-Type"));
    // No body and no Content-Type: the empty input, as botocore sends it.
    let empty = http::Request::post(format!("{CBOR_PATH}ListMetrics"))
        .header("smithy-protocol", "rpc-v2-cbor")
        .body(Body::empty())
        .unwrap();
    let answer = call(&router, empty).await;
    assert_eq!(answer.status, StatusCode::OK, "an empty ListMetrics lists every metric");
    let elsewhere = http::Request::post("/service/SomethingElse/operation/ListMetrics")
        .header("smithy-protocol", "rpc-v2-cbor")
        .body(Body::empty())
        .unwrap();
    let answer = call(&router, elsewhere).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_body().error_type, "UnknownOperationException");
}

#[tokio::test]
async fn cloudwatch_requests_are_counted_by_operation() {
    let router = router();
    call(&router, cbor_call("ListMetrics", b"\xa0")).await;
    call(&router, json_call("ListMetrics", b"{}")).await;
    call(&router, json_call("ListMetrics", br#"{"NextToken":"forged"}"#)).await;
    call(&router, cbor_call("Invented", b"\xa0")).await;
    let response = router.clone().oneshot(http::Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    let text = Answer::of(response).await.text().to_string();
    let exposition = crate::metrics::text_format::parse(&text).unwrap();
    let count = |operation, outcome| {
        exposition.value(
            "berth_api_requests_total",
            &[("service", "cloudwatch"), ("operation", operation), ("outcome", outcome)],
        )
    };
    assert_eq!(count("ListMetrics", "ok"), Some(2.0));
    assert_eq!(count("ListMetrics", "client_error"), Some(1.0));
    assert_eq!(count("unknown", "client_error"), Some(1.0));
}

/// Stands in for a metric store: records each decoded input, answers defaults, and one
/// populated DescribeAlarms.
#[derive(Default)]
struct Recording {
    inputs: Mutex<Vec<String>>,
}

macro_rules! recorded {
    ($($method:ident($input:ty) -> $output:ty;)*) => {$(
        async fn $method(&self, input: $input) -> CloudWatchResult<$output> {
            self.inputs.lock().push(format!("{input:?}"));
            Ok(Default::default())
        }
    )*};
}

fn alarm() -> MetricAlarm {
    MetricAlarm {
        alarm_name: Some("latency-high".into()),
        state_value: Some(StateValue::Alarm),
        state_updated_timestamp: Some(Timestamp::from_unix_millis(1_796_117_655_123)),
        threshold: Some(250.5),
        ..Default::default()
    }
}

impl CloudWatchOperations for Recording {
    recorded! {
        put_metric_data(PutMetricDataInput) -> ();
        get_metric_data(GetMetricDataInput) -> GetMetricDataOutput;
        get_metric_statistics(GetMetricStatisticsInput) -> GetMetricStatisticsOutput;
        list_metrics(ListMetricsInput) -> ListMetricsOutput;
        put_metric_alarm(PutMetricAlarmInput) -> ();
        describe_alarms_for_metric(DescribeAlarmsForMetricInput) -> DescribeAlarmsForMetricOutput;
        describe_alarm_history(DescribeAlarmHistoryInput) -> DescribeAlarmHistoryOutput;
        set_alarm_state(SetAlarmStateInput) -> ();
        delete_alarms(DeleteAlarmsInput) -> ();
        enable_alarm_actions(EnableAlarmActionsInput) -> ();
        disable_alarm_actions(DisableAlarmActionsInput) -> ();
        tag_resource(TagResourceInput) -> TagResourceOutput;
        untag_resource(UntagResourceInput) -> UntagResourceOutput;
        list_tags_for_resource(ListTagsForResourceInput) -> ListTagsForResourceOutput;
    }

    async fn describe_alarms(&self, input: DescribeAlarmsInput) -> CloudWatchResult<DescribeAlarmsOutput> {
        self.inputs.lock().push(format!("{input:?}"));
        Ok(DescribeAlarmsOutput { metric_alarms: Some(vec![alarm()]), ..Default::default() })
    }
}

#[tokio::test]
async fn answers_are_encoded_in_the_requests_protocol() {
    let service = Recording::default();
    let params = berth_query_wire::QueryParams::parse(fixture!("describe_alarms.form"));
    let cbor =
        Answer::of(serve(&service, Request::Cbor(fixture!("describe_alarms.cbor")), "DescribeAlarms").await).await;
    let json =
        Answer::of(serve(&service, Request::Json(fixture!("describe_alarms.json")), "DescribeAlarms").await).await;
    let query = Answer::of(serve(&service, Request::Query(&params), "DescribeAlarms").await).await;
    let inputs = service.inputs.lock().clone();
    assert_eq!(inputs.len(), 3);
    assert!(inputs.iter().all(|input| input == &inputs[0]), "the three protocols decoded alike: {inputs:#?}");

    let expected = DescribeAlarmsOutput { metric_alarms: Some(vec![alarm()]), ..Default::default() };
    assert_eq!((cbor.status, cbor.header("content-type")), (StatusCode::OK, Some("application/cbor")));
    assert_eq!(cbor.header("smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(decode_cbor::<DescribeAlarmsOutput>(&cbor.body).unwrap(), expected);
    assert_eq!(json.header("content-type"), Some("application/x-amz-json-1.0"));
    assert_eq!(decode_json::<DescribeAlarmsOutput>(&json.body).unwrap(), expected);
    assert_eq!(query.header("content-type"), Some("text/xml"));
    assert!(
        query.text().contains("<DescribeAlarmsResult><MetricAlarms><member><AlarmName>latency-high</AlarmName>"),
        "{}",
        query.text()
    );
    assert!(
        query.text().contains("<StateUpdatedTimestamp>2026-12-01T09:34:15.123Z</StateUpdatedTimestamp>"),
        "{}",
        query.text()
    );
    for answer in [&cbor, &json, &query] {
        assert_request_id(answer);
    }
}

#[tokio::test]
async fn operations_without_output_answer_an_empty_success() {
    let service = Recording::default();
    let params = berth_query_wire::QueryParams::parse(fixture!("put_metric_data.form"));
    let cbor =
        Answer::of(serve(&service, Request::Cbor(fixture!("put_metric_data.cbor")), "PutMetricData").await).await;
    assert_eq!((cbor.status, cbor.body.len(), cbor.header("content-type")), (StatusCode::OK, 0, None));
    let json =
        Answer::of(serve(&service, Request::Json(fixture!("put_metric_data.json")), "PutMetricData").await).await;
    assert_eq!(json.text(), "{}");
    let query = Answer::of(serve(&service, Request::Query(&params), "PutMetricData").await).await;
    assert!(query.text().starts_with("<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata><RequestId>"), "{}", query.text());
    let tagged =
        Answer::of(serve(&service, Request::Json(br#"{"ResourceARN":"arn","Tags":[]}"#), "TagResource").await).await;
    assert_eq!(tagged.text(), "{}", "an output shape without members is an empty object");
}

#[tokio::test]
async fn every_wire_operation_reaches_its_method() {
    let service = Recording::default();
    for operation in WIRE_OPERATIONS {
        // `{}` decodes for the operations without required members; the others are refused
        // with MissingParameter, which shows they were dispatched and decoded, not unknown.
        let answer = Answer::of(serve(&service, Request::Json(b"{}"), operation).await).await;
        let refused_as = answer.header("x-amzn-query-error").unwrap_or("answered");
        assert!(["answered", "MissingParameter;Sender"].contains(&refused_as), "{operation}: {refused_as}");
    }
}
