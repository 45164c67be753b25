//! Answers encoded in each protocol parse back into the same output shape, and match the
//! answer fixtures, which tests/e2e/test_cloudwatch_protocols.py feeds to botocore's own
//! parsers. `BERTH_UPDATE_FIXTURES=1 cargo test -p berth-cloudwatch-wire` rewrites them.

use berth_cloudwatch_wire::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Compares `bytes` with the fixture `name`, or writes it when asked to.
fn matches_fixture(name: &str, bytes: &[u8]) {
    if std::env::var_os("BERTH_UPDATE_FIXTURES").is_some() {
        std::fs::write(fixture(name), bytes).unwrap();
        return;
    }
    let stored = std::fs::read(fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert!(stored == bytes, "{name} differs from what is encoded now:\n{}", String::from_utf8_lossy(bytes));
}

fn describe_alarms_output() -> DescribeAlarmsOutput {
    DescribeAlarmsOutput {
        metric_alarms: Some(vec![MetricAlarm {
            alarm_name: Some("latency-high".into()),
            alarm_arn: Some("arn:aws:cloudwatch:us-east-1:000000000000:alarm:latency-high".into()),
            alarm_description: Some("p99 <above> 250 & rising".into()),
            alarm_configuration_updated_timestamp: Some(Timestamp::from_unix_millis(1_796_117_655_123)),
            actions_enabled: Some(true),
            alarm_actions: Some(vec!["arn:aws:sns:us-east-1:000000000000:page".into()]),
            state_value: Some(StateValue::Alarm),
            state_reason: Some("Threshold Crossed".into()),
            state_updated_timestamp: Some(Timestamp::from_unix_millis(1_796_117_656_000)),
            metric_name: Some("Latency".into()),
            namespace: Some("Berth/Test".into()),
            statistic: Some(Statistic::Average),
            dimensions: Some(vec![Dimension { name: Some("Service".into()), value: Some("web".into()) }]),
            period: Some(60),
            unit: Some(StandardUnit::Milliseconds),
            evaluation_periods: Some(3),
            threshold: Some(250.5),
            comparison_operator: Some(ComparisonOperator::GreaterThanThreshold),
            ..Default::default()
        }]),
        next_token: Some("token-2".into()),
        ..Default::default()
    }
}

fn get_metric_data_output() -> GetMetricDataOutput {
    GetMetricDataOutput {
        metric_data_results: Some(vec![MetricDataResult {
            id: Some("latency".into()),
            label: Some("Latency".into()),
            timestamps: Some(vec![
                Timestamp::from_unix_millis(1_796_117_640_000),
                Timestamp::from_unix_millis(1_796_117_700_000),
            ]),
            values: Some(vec![12.5, 7.0]),
            status_code: Some(StatusCode::Complete),
            messages: None,
        }]),
        messages: Some(vec![MessageData { code: Some("Info".into()), value: Some("two points".into()) }]),
        next_token: None,
    }
}

#[test]
fn describe_alarms_round_trips_through_cbor_and_json() {
    let output = describe_alarms_output();
    let cbor = encode_cbor(&output);
    assert_eq!(decode_cbor::<DescribeAlarmsOutput>(&cbor).unwrap(), output);
    matches_fixture("describe_alarms_answer.cbor", &cbor);
    let json = serde_json::to_vec(&output).unwrap();
    assert_eq!(decode_json::<DescribeAlarmsOutput>(&json).unwrap(), output);
    matches_fixture("describe_alarms_answer.json", &json);
}

#[test]
fn describe_alarms_as_query_xml() {
    let output = describe_alarms_output();
    let xml = berth_query_wire::response(
        "DescribeAlarms",
        XML_NAMESPACE,
        result_wrapper("DescribeAlarms"),
        &output,
        "request-1",
    );
    assert!(xml.starts_with(
        "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><DescribeAlarmsResult>"
    ));
    assert!(xml.contains("<StateUpdatedTimestamp>2026-12-01T09:34:16.000Z</StateUpdatedTimestamp>"), "{xml}");
    assert!(xml.contains("<AlarmDescription>p99 &lt;above&gt; 250 &amp; rising</AlarmDescription>"), "{xml}");
    matches_fixture("describe_alarms_answer.xml", xml.as_bytes());
}

#[test]
fn get_metric_data_round_trips_through_every_encoding() {
    let output = get_metric_data_output();
    let cbor = encode_cbor(&output);
    assert_eq!(decode_cbor::<GetMetricDataOutput>(&cbor).unwrap(), output);
    matches_fixture("get_metric_data_answer.cbor", &cbor);
    let json = serde_json::to_vec(&output).unwrap();
    assert_eq!(decode_json::<GetMetricDataOutput>(&json).unwrap(), output);
    matches_fixture("get_metric_data_answer.json", &json);
    let xml = berth_query_wire::response(
        "GetMetricData",
        XML_NAMESPACE,
        result_wrapper("GetMetricData"),
        &output,
        "request-1",
    );
    matches_fixture("get_metric_data_answer.xml", xml.as_bytes());
}

#[test]
fn the_model_supplies_the_protocol_constants_and_error_codes() {
    assert_eq!(TARGET_PREFIX, "GraniteServiceVersion20100801.");
    assert_eq!(RPC_V2_SERVICE_NAME, "GraniteServiceVersion20100801");
    assert_eq!((API_VERSION, SIGNING_NAME), ("2010-08-01", "monitoring"));
    assert_eq!(XML_NAMESPACE, "http://monitoring.amazonaws.com/doc/2010-08-01/");
    assert_eq!(result_wrapper("ListMetrics"), Some("ListMetricsResult"));
    assert_eq!(result_wrapper("PutMetricData"), None);
    assert_eq!(WIRE_OPERATIONS.len(), 15);
    assert!(ALL_OPERATIONS.contains(&"PutDashboard"));
    let invalid = ErrorCode::InvalidParameterValueException;
    assert_eq!((invalid.code(), invalid.shape_name()), ("InvalidParameterValue", "InvalidParameterValueException"));
    let missing = ErrorCode::MissingRequiredParameterException;
    assert_eq!((missing.code(), missing.http_status(), missing.sender_fault()), ("MissingParameter", 400, true));
    let internal = ErrorCode::InternalServiceFault;
    assert_eq!(
        (internal.code(), internal.http_status(), internal.sender_fault()),
        ("InternalServiceError", 500, false)
    );
}
