use super::config::AlarmInput;
use super::describe::{AlarmFilter, HistoryFilter, MetricFilter};
use super::records::{AlarmState, HistoryKind};
use crate::cloudwatch::datums::{DatumInput, DimensionInput};
use crate::cloudwatch::metric_data::{DataQueryInput, MetricStatInput};
use crate::cloudwatch::MetricsErrorKind;
use crate::testing::control_plane;
use crate::{ControlError, ControlPlane};
use berth_types::Timestamp;

const MINUTE: i64 = 60_000;

fn kind(error: ControlError) -> MetricsErrorKind {
    match error {
        ControlError::Metrics(error) => error.kind,
        other => panic!("not a CloudWatch error: {other:?}"),
    }
}

fn service() -> Vec<DimensionInput> {
    vec![DimensionInput { name: Some("ServiceName".into()), value: Some("web".into()) }]
}

fn cpu_alarm(name: &str, evaluation_periods: i32, datapoints: Option<i32>, treat_missing: Option<&str>) -> AlarmInput {
    AlarmInput {
        name: Some(name.into()),
        namespace: Some("App".into()),
        metric_name: Some("CPU".into()),
        dimensions: service(),
        statistic: Some("Maximum".into()),
        period: Some(60),
        evaluation_periods: Some(evaluation_periods),
        datapoints_to_alarm: datapoints,
        threshold: Some(80.0),
        comparison: Some("GreaterThanThreshold".into()),
        treat_missing_data: treat_missing.map(String::from),
        alarm_actions: vec!["arn:aws:sns:us-east-1:000000000000:pager".into()],
        ..AlarmInput::default()
    }
}

async fn put_cpu(control: &ControlPlane, at: i64, value: f64) {
    let datum = DatumInput {
        metric_name: Some("CPU".into()),
        dimensions: service(),
        timestamp_ms: Some(at),
        value: Some(value),
        ..DatumInput::default()
    };
    control.put_metric_data(Some("App".into()), Some(vec![datum])).await.unwrap();
}

fn state_of(control: &ControlPlane, name: &str) -> AlarmState {
    control.alarm_state(name).unwrap().0
}

/// Now, and the start of the minute in progress.
fn minute_now() -> (i64, i64) {
    let now = Timestamp::now().0;
    (now, now.div_euclid(MINUTE) * MINUTE)
}

#[tokio::test]
async fn an_alarm_starts_insufficient_then_follows_its_metric() {
    let control = control_plane();
    control.put_metric_alarm(cpu_alarm("cpu-high", 1, None, None)).await.unwrap();
    assert_eq!(state_of(&control, "cpu-high"), AlarmState::InsufficientData);
    let (now, minute) = minute_now();
    // Nothing stored: still INSUFFICIENT_DATA, and nothing written.
    assert_eq!(control.evaluate_alarms(now).await.unwrap(), 0);
    put_cpu(&control, minute + 1000, 95.0).await;
    assert_eq!(control.evaluate_alarms(now).await.unwrap(), 1);
    assert_eq!(state_of(&control, "cpu-high"), AlarmState::Alarm);
    let (alarms, _) = control.describe_alarms(AlarmFilter { metric_alarms: true, ..AlarmFilter::default() }).unwrap();
    let reason = &alarms[0].state_reason;
    assert!(
        reason.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [95.0 (")
            && reason.contains("greater than the threshold (80.0)"),
        "{reason}"
    );
    let data: serde_json::Value = serde_json::from_str(alarms[0].state_reason_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["recentDatapoints"], serde_json::json!([95.0]));
    assert_eq!(data["statistic"], "Maximum");

    // The next minute is calm: OK, once that minute has data.
    put_cpu(&control, minute + MINUTE + 1000, 10.0).await;
    assert_eq!(control.evaluate_alarms(now + MINUTE).await.unwrap(), 1);
    assert_eq!(state_of(&control, "cpu-high"), AlarmState::Ok);

    let (history, _) = control
        .describe_alarm_history(HistoryFilter { name: Some("cpu-high".into()), ..HistoryFilter::default() })
        .unwrap();
    let summaries: Vec<&str> = history.iter().map(|entry| entry.item.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "Alarm updated from ALARM to OK",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm \"cpu-high\" created"
        ]
    );
    let data: serde_json::Value = serde_json::from_str(&history[0].item.data).unwrap();
    assert_eq!(
        (data["oldState"]["stateValue"].as_str(), data["newState"]["stateValue"].as_str()),
        (Some("ALARM"), Some("OK"))
    );
    let updates = HistoryFilter { kind: Some(HistoryKind::StateUpdate), ascending: true, ..HistoryFilter::default() };
    assert_eq!(control.describe_alarm_history(updates).unwrap().0.len(), 2);
}

#[tokio::test]
async fn m_out_of_n_and_missing_data_treatments() {
    let control = control_plane();
    let (now, minute) = minute_now();
    // Three periods: breaching, missing, breaching (oldest first).
    put_cpu(&control, minute - 2 * MINUTE, 90.0).await;
    put_cpu(&control, minute, 99.0).await;
    let cases = [
        ("two-of-three", Some(2), None, AlarmState::Alarm),
        ("three-of-three-missing", None, None, AlarmState::Ok),
        ("three-of-three-breaching", None, Some("breaching"), AlarmState::Alarm),
        ("three-of-three-not-breaching", None, Some("notBreaching"), AlarmState::Ok),
    ];
    for (name, datapoints, treat, _) in &cases {
        control.put_metric_alarm(cpu_alarm(name, 3, *datapoints, *treat)).await.unwrap();
    }
    control.evaluate_alarms(now).await.unwrap();
    for (name, _, _, expected) in cases {
        assert_eq!(state_of(&control, name), expected, "{name}");
    }
    // With nothing in range: `missing` is INSUFFICIENT_DATA, `ignore` keeps the state.
    control.put_metric_alarm(cpu_alarm("ignored", 1, None, Some("ignore"))).await.unwrap();
    control.set_alarm_state("ignored".into(), AlarmState::Alarm, "by hand".into(), None).await.unwrap();
    control.put_metric_alarm(cpu_alarm("missed", 1, None, None)).await.unwrap();
    control.set_alarm_state("missed".into(), AlarmState::Ok, "by hand".into(), None).await.unwrap();
    let later = now + 10 * MINUTE;
    control.evaluate_alarms(later).await.unwrap();
    assert_eq!(state_of(&control, "ignored"), AlarmState::Alarm);
    assert_eq!(state_of(&control, "missed"), AlarmState::InsufficientData);
}

#[tokio::test]
async fn a_math_alarm_watches_its_expression() {
    let control = control_plane();
    let (now, minute) = minute_now();
    put_cpu(&control, minute, 30.0).await;
    let metric = |id: &str| DataQueryInput {
        id: Some(id.into()),
        metric_stat: Some(MetricStatInput {
            namespace: Some("App".into()),
            metric_name: Some("CPU".into()),
            dimensions: service(),
            period: Some(60),
            stat: Some("Sum".into()),
            unit: None,
        }),
        return_data: Some(false),
        ..DataQueryInput::default()
    };
    let doubled =
        DataQueryInput { id: Some("e".into()), expression: Some("m * 3".into()), ..DataQueryInput::default() };
    let alarm = AlarmInput {
        metrics: Some(vec![metric("m"), doubled]),
        namespace: None,
        metric_name: None,
        dimensions: vec![],
        statistic: None,
        period: None,
        ..cpu_alarm("math", 1, None, None)
    };
    control.put_metric_alarm(alarm).await.unwrap();
    control.evaluate_alarms(now).await.unwrap();
    assert_eq!(state_of(&control, "math"), AlarmState::Alarm, "30 × 3 is over 80");
}

#[tokio::test]
async fn put_metric_alarm_is_checked_and_updates_keep_the_state() {
    let control = control_plane();
    let cases = [
        (AlarmInput { name: None, ..cpu_alarm("a", 1, None, None) }, MetricsErrorKind::MissingParameter, "AlarmName"),
        (
            AlarmInput { period: Some(45), ..cpu_alarm("a", 1, None, None) },
            MetricsErrorKind::InvalidParameterValue,
            "Period",
        ),
        (cpu_alarm("a", 2, Some(3), None), MetricsErrorKind::InvalidParameterValue, "DatapointsToAlarm"),
        (cpu_alarm("a", 1, None, Some("sometimes")), MetricsErrorKind::InvalidParameterValue, "TreatMissingData"),
        (
            AlarmInput { comparison: Some("GreaterThanUpperThreshold".into()), ..cpu_alarm("a", 1, None, None) },
            MetricsErrorKind::InvalidParameterValue,
            "anomaly",
        ),
        (
            AlarmInput { statistic: Some("p99".into()), ..cpu_alarm("a", 1, None, None) },
            MetricsErrorKind::InvalidParameterValue,
            "p99",
        ),
        (
            AlarmInput { metrics: Some(vec![]), ..cpu_alarm("a", 1, None, None) },
            MetricsErrorKind::InvalidParameterCombination,
            "mutually exclusive",
        ),
        (cpu_alarm("a", 100_000, None, None), MetricsErrorKind::InvalidParameterValue, "7 days"),
        (
            AlarmInput { alarm_actions: vec!["pager".into()], ..cpu_alarm("a", 1, None, None) },
            MetricsErrorKind::InvalidParameterValue,
            "AlarmActions.member.1",
        ),
    ];
    for (input, expected, why) in cases {
        let error = control.put_metric_alarm(input).await.unwrap_err();
        let message = error.to_string();
        assert_eq!(kind(error), expected, "{why}: {message}");
        assert!(message.contains(why), "{why}: {message}");
    }
    assert!(control
        .describe_alarms(AlarmFilter { metric_alarms: true, ..AlarmFilter::default() })
        .unwrap()
        .0
        .is_empty());

    control.put_metric_alarm(cpu_alarm("cpu", 1, None, None)).await.unwrap();
    control
        .set_alarm_state("cpu".into(), AlarmState::Alarm, "testing".into(), Some("{\"by\":\"hand\"}".into()))
        .await
        .unwrap();
    control.put_metric_alarm(AlarmInput { threshold: Some(50.0), ..cpu_alarm("cpu", 1, None, None) }).await.unwrap();
    let (alarms, _) = control
        .describe_alarms(AlarmFilter { names: vec!["cpu".into()], metric_alarms: true, ..AlarmFilter::default() })
        .unwrap();
    assert_eq!((alarms[0].state, alarms[0].config.threshold), (AlarmState::Alarm, 50.0), "an update keeps the state");
    let bad_json =
        control.set_alarm_state("cpu".into(), AlarmState::Ok, "x".into(), Some("{nope".into())).await.unwrap_err();
    assert_eq!(kind(bad_json), MetricsErrorKind::InvalidFormat);
    let unknown = control.set_alarm_state("nope".into(), AlarmState::Ok, "x".into(), None).await.unwrap_err();
    assert_eq!(kind(unknown), MetricsErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn describe_filters_pages_and_deletes() {
    let control = control_plane();
    for name in ["api-cpu", "api-memory", "web-cpu"] {
        control.put_metric_alarm(cpu_alarm(name, 1, None, None)).await.unwrap();
    }
    control.set_alarm_state("web-cpu".into(), AlarmState::Alarm, "x".into(), None).await.unwrap();
    let names = |filter: AlarmFilter| -> Vec<String> {
        control
            .describe_alarms(AlarmFilter { metric_alarms: true, ..filter })
            .unwrap()
            .0
            .into_iter()
            .map(|alarm| alarm.config.name)
            .collect()
    };
    assert_eq!(
        names(AlarmFilter { name_prefix: Some("api-".into()), ..AlarmFilter::default() }),
        vec!["api-cpu", "api-memory"]
    );
    assert_eq!(names(AlarmFilter { state: Some(AlarmState::Alarm), ..AlarmFilter::default() }), vec!["web-cpu"]);
    assert_eq!(names(AlarmFilter { action_prefix: Some("arn:aws:sns".into()), ..AlarmFilter::default() }).len(), 3);
    let (first, token) = control
        .describe_alarms(AlarmFilter { metric_alarms: true, max_records: Some(2), ..AlarmFilter::default() })
        .unwrap();
    assert_eq!(first.len(), 2);
    let (rest, end) = control
        .describe_alarms(AlarmFilter { metric_alarms: true, next_token: token, ..AlarmFilter::default() })
        .unwrap();
    assert_eq!((rest.len(), end), (1, None));
    let for_metric = MetricFilter {
        namespace: "App".into(),
        metric_name: "CPU".into(),
        statistic: Some("Maximum".into()),
        ..MetricFilter::default()
    };
    assert_eq!(control.describe_alarms_for_metric(&for_metric).len(), 3);

    control.set_alarm_actions_enabled(vec!["api-cpu".into(), "unknown".into()], false).await.unwrap();
    assert!(
        !control
            .describe_alarms(AlarmFilter {
                names: vec!["api-cpu".into()],
                metric_alarms: true,
                ..AlarmFilter::default()
            })
            .unwrap()
            .0[0]
            .config
            .actions_enabled
    );
    let refused = control.delete_alarms(vec!["api-cpu".into(), "unknown".into()]).await.unwrap_err();
    assert_eq!(kind(refused), MetricsErrorKind::ResourceNotFound);
    assert_eq!(names(AlarmFilter::default()).len(), 3, "a refused delete deletes nothing");
    control.delete_alarms(vec!["api-cpu".into(), "web-cpu".into()]).await.unwrap();
    assert_eq!(names(AlarmFilter::default()), vec!["api-memory"]);
}
