//! Real botocore requests (tests/fixtures, written by make_fixtures.py with botocore's own
//! serializers) decode into the same input shape whichever of the three protocols carried them,
//! and each protocol's failures name the field at fault in its own notation.

use berth_cloudwatch_wire::*;
use berth_query_wire::{DecodeErrorKind as QueryDecodeErrorKind, QueryParams};
use serde::de::DeserializeOwned;

macro_rules! fixtures {
    ($name:literal) => {
        (
            &include_bytes!(concat!("fixtures/", $name, ".cbor"))[..],
            &include_bytes!(concat!("fixtures/", $name, ".json"))[..],
            &include_bytes!(concat!("fixtures/", $name, ".form"))[..],
        )
    };
}

/// Decodes one request through all three protocols and checks they agree.
fn decode_all<T>((cbor, json, form): (&[u8], &[u8], &[u8])) -> T
where
    T: DeserializeOwned + CheckRequired + berth_query_wire::FromQuery + Default + PartialEq + std::fmt::Debug,
{
    let from_cbor: T = decode_cbor(cbor).expect("CBOR decodes");
    let from_json: T = decode_json(json).expect("JSON decodes");
    let from_query: T = decode_query(&QueryParams::parse(form)).expect("Query decodes");
    assert_eq!(from_cbor, from_json, "CBOR and JSON 1.0 disagree");
    assert_eq!(from_cbor, from_query, "CBOR and Query disagree");
    from_cbor
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension { name: Some(name.into()), value: Some(value.into()) }
}

#[test]
fn put_metric_data_with_dimensions_and_timestamps() {
    let input: PutMetricDataInput = decode_all(fixtures!("put_metric_data"));
    assert_eq!(input.namespace.as_deref(), Some("Berth/Test"));
    let data = input.metric_data.unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(
        data[0],
        MetricDatum {
            metric_name: Some("Latency".into()),
            dimensions: Some(vec![dimension("Service", "web"), dimension("Cluster", "c1")]),
            // 2026-12-01T09:34:15.123Z: a float inside CBOR's tag 1, a fraction in JSON.
            timestamp: Some(Timestamp::from_unix_millis(1_796_117_655_123)),
            value: Some(12.5),
            unit: Some(StandardUnit::Milliseconds),
            storage_resolution: Some(1),
            ..Default::default()
        }
    );
    // 2026-12-01T09:34:16Z: an integer inside tag 1.
    assert_eq!(data[1].timestamp, Some(Timestamp::from_unix_millis(1_796_117_656_000)));
    assert_eq!(data[1].values, Some(vec![1.0, 2.0]));
    assert_eq!(data[1].counts, Some(vec![3.0, 4.0]));
    let statistics = data[1].statistic_values.as_ref().unwrap();
    assert_eq!((statistics.sample_count, statistics.sum), (Some(2.0), Some(3.0)));
}

#[test]
fn get_metric_data_with_nested_queries() {
    let input: GetMetricDataInput = decode_all(fixtures!("get_metric_data"));
    assert_eq!(input.start_time, Some(Timestamp::from_unix_millis(1_796_115_600_000)));
    assert_eq!(input.end_time, Some(Timestamp::from_unix_millis(1_796_119_200_500)));
    assert_eq!(input.scan_by, Some(ScanBy::TimestampDescending));
    assert_eq!(input.max_datapoints, Some(1000));
    let queries = input.metric_data_queries.unwrap();
    let stat = queries[0].metric_stat.as_ref().unwrap();
    assert_eq!(stat.stat.as_deref(), Some("p99"));
    assert_eq!(stat.metric.as_ref().unwrap().dimensions, Some(vec![dimension("Service", "web")]));
    assert_eq!(queries[0].return_data, Some(true));
    assert_eq!(queries[1].expression.as_deref(), Some("latency * 2"));
}

#[test]
fn describe_alarms_with_enums() {
    let input: DescribeAlarmsInput = decode_all(fixtures!("describe_alarms"));
    assert_eq!(input.alarm_types, Some(vec![AlarmType::MetricAlarm, AlarmType::CompositeAlarm]));
    assert_eq!(input.state_value, Some(StateValue::Alarm));
    assert_eq!(input.max_records, Some(50));
}

#[test]
fn an_input_without_members_is_the_empty_input() {
    let input: ListMetricsInput = decode_all(fixtures!("list_metrics"));
    assert_eq!(input, ListMetricsInput::default());
}

#[test]
fn a_missing_member_is_named_in_each_protocols_notation() {
    let (cbor, json, form) = fixtures!("put_metric_data_missing_metric_name");
    for error in
        [decode_cbor::<PutMetricDataInput>(cbor).unwrap_err(), decode_json::<PutMetricDataInput>(json).unwrap_err()]
    {
        assert_eq!(error.kind, DecodeErrorKind::Missing);
        assert_eq!(error.message, "Missing required parameter: MetricData[1].MetricName");
    }
    let error = decode_query::<PutMetricDataInput>(&QueryParams::parse(form)).unwrap_err();
    assert_eq!(error.kind, QueryDecodeErrorKind::Missing);
    assert!(error.message.contains("at 'MetricData.member.2.MetricName'"), "{}", error.message);
}

#[test]
fn a_wrong_type_is_named_in_each_protocols_notation() {
    // {"Namespace": "n", "MetricData": [{"MetricName": "m", "StorageResolution": "high"}]}
    let cbor = b"\xa2iNamespaceanjMetricData\x81\xa2jMetricNameamqStorageResolutiondhigh";
    let json = br#"{"Namespace":"n","MetricData":[{"MetricName":"m","StorageResolution":"high"}]}"#;
    let form = b"Namespace=n&MetricData.member.1.MetricName=m&MetricData.member.1.StorageResolution=high";
    for error in
        [decode_cbor::<PutMetricDataInput>(cbor).unwrap_err(), decode_json::<PutMetricDataInput>(json).unwrap_err()]
    {
        assert_eq!(error.kind, DecodeErrorKind::Invalid);
        assert!(
            error.message.starts_with("Invalid value for parameter MetricData[0].StorageResolution:"),
            "{}",
            error.message
        );
    }
    let error = decode_query::<PutMetricDataInput>(&QueryParams::parse(form)).unwrap_err();
    assert_eq!(error.kind, QueryDecodeErrorKind::Invalid);
    assert!(error.message.contains("Value 'high' at 'MetricData.member.1.StorageResolution'"), "{}", error.message);
}

#[test]
fn a_timestamp_must_be_a_number_in_json_and_cbor() {
    // {"Namespace": "n", "MetricData": [{"MetricName": "m", "Timestamp": "noon"}]}
    let cbor = b"\xa2iNamespaceanjMetricData\x81\xa2jMetricNameamiTimestampdnoon";
    let json = br#"{"Namespace":"n","MetricData":[{"MetricName":"m","Timestamp":"noon"}]}"#;
    for error in
        [decode_cbor::<PutMetricDataInput>(cbor).unwrap_err(), decode_json::<PutMetricDataInput>(json).unwrap_err()]
    {
        assert!(error.message.contains("MetricData[0].Timestamp"), "{}", error.message);
        assert!(error.message.contains("epoch seconds"), "{}", error.message);
    }
}
