use super::datums::{DatumInput, DimensionInput, StatisticSetInput};
use super::list::ListRequest;
use super::metric_data::{DataQueryInput, DataRequest, MetricStatInput};
use super::statistic::Statistic;
use super::statistics::StatisticsRequest;
use super::MetricsErrorKind;
use crate::testing::control_plane;
use berth_types::Timestamp;

const MINUTE: i64 = 60_000;

fn dimension(name: &str, value: &str) -> DimensionInput {
    DimensionInput { name: Some(name.into()), value: Some(value.into()) }
}

fn datum(name: &str, service: &str, at: i64, value: f64) -> DatumInput {
    DatumInput {
        metric_name: Some(name.into()),
        dimensions: vec![dimension("ServiceName", service), dimension("ClusterName", "prod")],
        timestamp_ms: Some(at),
        value: Some(value),
        unit: Some("Percent"),
        ..DatumInput::default()
    }
}

/// The start of the minute an hour ago, so periods line up with the datapoints.
fn an_hour_ago() -> i64 {
    let now = Timestamp::now().0;
    (now - 60 * MINUTE).div_euclid(MINUTE) * MINUTE
}

fn statistics_request(service: &str, start: i64, minutes: i64, period: i32) -> StatisticsRequest {
    StatisticsRequest {
        namespace: Some("App".into()),
        metric_name: Some("Load".into()),
        // The other order than the datums': dimension order does not matter.
        dimensions: vec![dimension("ClusterName", "prod"), dimension("ServiceName", service)],
        start_ms: Some(start),
        end_ms: Some(start + minutes * MINUTE),
        period: Some(period),
        statistics: Statistic::ALL.iter().map(|statistic| statistic.as_str().to_string()).collect(),
        ..StatisticsRequest::default()
    }
}

#[tokio::test]
async fn put_then_statistics_per_period() {
    let control = control_plane();
    let start = an_hour_ago();
    let datums = (0..10).map(|n| datum("Load", "web", start + n * 30_000, n as f64)).collect();
    control.put_metric_data(Some("App".into()), Some(datums)).await.unwrap();
    let answer = control.metric_statistics(statistics_request("web", start, 5, 120)).await.unwrap();
    assert_eq!(answer.label, "Load");
    let rows: Vec<(i64, Vec<f64>)> = answer
        .datapoints
        .iter()
        .map(|point| (point.timestamp_ms - start, point.values.iter().map(|(_, value)| *value).collect()))
        .collect();
    // Values 0..=3 in the first two minutes, 4..=7 in the next two, 8 and 9 in the fifth.
    assert_eq!(
        rows,
        vec![
            (0, vec![4.0, 1.5, 6.0, 0.0, 3.0]),
            (2 * MINUTE, vec![4.0, 5.5, 22.0, 4.0, 7.0]),
            (4 * MINUTE, vec![2.0, 8.5, 17.0, 8.0, 9.0])
        ]
    );
    assert!(answer.datapoints.iter().all(|point| point.unit == "Percent"));
    let other = control.metric_statistics(statistics_request("api", start, 5, 60)).await.unwrap();
    assert!(other.datapoints.is_empty(), "another service's series is another metric");
}

#[tokio::test]
async fn statistic_sets_and_values_with_counts_are_stored_as_their_statistics() {
    let control = control_plane();
    let start = an_hour_ago();
    let set = DatumInput {
        statistic_values: Some(StatisticSetInput {
            sample_count: Some(4.0),
            sum: Some(40.0),
            minimum: Some(1.0),
            maximum: Some(20.0),
        }),
        value: None,
        ..datum("Load", "web", start, 0.0)
    };
    let counted = DatumInput {
        values: Some(vec![2.0, 30.0]),
        counts: Some(vec![3.0, 1.0]),
        value: None,
        ..datum("Load", "web", start + 1000, 0.0)
    };
    control.put_metric_data(Some("App".into()), Some(vec![set, counted])).await.unwrap();
    let answer = control.metric_statistics(statistics_request("web", start, 1, 60)).await.unwrap();
    let values: Vec<f64> = answer.datapoints[0].values.iter().map(|(_, value)| *value).collect();
    assert_eq!(values, vec![8.0, 76.0 / 8.0, 76.0, 1.0, 30.0]);
}

#[tokio::test]
async fn a_bad_datum_refuses_the_whole_request_and_names_its_field() {
    let control = control_plane();
    let start = an_hour_ago();
    let cases: Vec<(Option<&str>, Vec<DatumInput>, MetricsErrorKind, &str)> = vec![
        (Some("AWS/ECS"), vec![datum("Load", "web", start, 1.0)], MetricsErrorKind::InvalidParameterValue, "Namespace"),
        (None, vec![datum("Load", "web", start, 1.0)], MetricsErrorKind::MissingParameter, "Namespace"),
        (
            Some("App"),
            vec![datum("Load", "web", start, 1.0), DatumInput { metric_name: None, ..datum("x", "web", start, 1.0) }],
            MetricsErrorKind::MissingParameter,
            "MetricData.member.2.MetricName",
        ),
        (
            Some("App"),
            vec![datum("Load", "web", start, f64::NAN)],
            MetricsErrorKind::InvalidParameterValue,
            "MetricData.member.1.Value",
        ),
        (
            Some("App"),
            vec![datum("Load", "web", start - 15 * 24 * 60 * MINUTE, 1.0)],
            MetricsErrorKind::InvalidParameterValue,
            "MetricData.member.1.Timestamp",
        ),
        (
            Some("App"),
            vec![DatumInput { values: Some(vec![1.0]), ..datum("Load", "web", start, 1.0) }],
            MetricsErrorKind::InvalidParameterCombination,
            "mutually exclusive",
        ),
        (
            Some("App"),
            vec![DatumInput {
                values: Some(vec![1.0, 2.0]),
                counts: Some(vec![1.0]),
                value: None,
                ..datum("Load", "web", start, 1.0)
            }],
            MetricsErrorKind::InvalidParameterCombination,
            "Counts",
        ),
        (
            Some("App"),
            vec![DatumInput { storage_resolution: Some(30), ..datum("Load", "web", start, 1.0) }],
            MetricsErrorKind::InvalidParameterValue,
            "StorageResolution",
        ),
        (
            Some("App"),
            vec![DatumInput {
                dimensions: vec![dimension("A", "1"), dimension("A", "2")],
                ..datum("Load", "web", start, 1.0)
            }],
            MetricsErrorKind::InvalidParameterValue,
            "Dimensions.member.2.Name",
        ),
    ];
    for (namespace, datums, kind, field) in cases {
        let error = control.put_metric_data(namespace.map(String::from), Some(datums)).await.unwrap_err();
        assert_eq!(error.kind, kind, "{error}");
        assert!(error.message.contains(field), "{field}: {error}");
    }
    let listed = control.list_metrics(ListRequest::default()).await.unwrap();
    assert!(listed.metrics.is_empty(), "nothing of a refused request is stored: {listed:?}");
}

#[tokio::test]
async fn statistics_requests_are_checked() {
    let control = control_plane();
    let start = an_hour_ago();
    let too_many =
        control.metric_statistics(statistics_request("web", start - 24 * 60 * MINUTE, 25 * 60, 60)).await.unwrap_err();
    assert_eq!(too_many.kind, MetricsErrorKind::InvalidParameterCombination);
    assert!(too_many.message.contains("1440"), "{too_many}");
    let backwards = StatisticsRequest { end_ms: Some(start - MINUTE), ..statistics_request("web", start, 1, 60) };
    assert!(control.metric_statistics(backwards).await.unwrap_err().message.contains("StartTime"));
    let odd_period = statistics_request("web", start, 5, 90);
    assert!(control.metric_statistics(odd_period).await.unwrap_err().message.contains("Period"));
    let none = StatisticsRequest { statistics: vec![], ..statistics_request("web", start, 5, 60) };
    assert_eq!(control.metric_statistics(none).await.unwrap_err().kind, MetricsErrorKind::InvalidParameterCombination);
    let percentile =
        StatisticsRequest { extended_statistics: vec!["p99".into()], ..statistics_request("web", start, 5, 60) };
    assert!(control.metric_statistics(percentile).await.unwrap_err().message.contains("p99"));
}

fn stat_query(id: &str, service: &str, stat: &str, return_data: bool) -> DataQueryInput {
    DataQueryInput {
        id: Some(id.into()),
        metric_stat: Some(MetricStatInput {
            namespace: Some("App".into()),
            metric_name: Some("Load".into()),
            dimensions: vec![dimension("ServiceName", service), dimension("ClusterName", "prod")],
            period: Some(60),
            stat: Some(stat.into()),
            unit: None,
        }),
        return_data: Some(return_data),
        ..DataQueryInput::default()
    }
}

fn expression(id: &str, text: &str) -> DataQueryInput {
    DataQueryInput { id: Some(id.into()), expression: Some(text.into()), ..DataQueryInput::default() }
}

#[tokio::test]
async fn metric_data_answers_stats_and_math_newest_first_and_pages() {
    let control = control_plane();
    let start = an_hour_ago();
    let mut datums = Vec::new();
    for minute in 0..3 {
        datums.push(datum("Load", "web", start + minute * MINUTE, 10.0 * (minute + 1) as f64));
        datums.push(datum("Load", "api", start + minute * MINUTE, 1.0));
    }
    control.put_metric_data(Some("App".into()), Some(datums)).await.unwrap();
    let request = DataRequest {
        queries: Some(vec![
            stat_query("web", "web", "Average", true),
            stat_query("api", "api", "Sum", false),
            expression("total", "SUM(METRICS())"),
            expression("ratio", "web / api"),
            expression("peak", "MAX(web)"),
        ]),
        start_ms: Some(start),
        end_ms: Some(start + 3 * MINUTE),
        ..DataRequest::default()
    };
    let answer = control.metric_data(request.clone()).await.unwrap();
    let by_id = |id: &str| answer.results.iter().find(|result| result.id == id).unwrap_or_else(|| panic!("no {id}"));
    assert!(answer.results.iter().all(|result| result.id != "api"), "ReturnData false is not answered");
    let web = by_id("web");
    assert_eq!(web.label, "Load");
    assert_eq!(web.timestamps, vec![start + 2 * MINUTE, start + MINUTE, start], "newest first by default");
    assert_eq!(web.values, vec![30.0, 20.0, 10.0]);
    assert_eq!(by_id("total").values, vec![31.0, 21.0, 11.0]);
    assert_eq!(by_id("ratio").values, vec![30.0, 20.0, 10.0]);
    assert_eq!(by_id("peak").values, vec![30.0, 30.0, 30.0]);
    assert!(answer.results.iter().all(|result| result.complete) && answer.next_token.is_none());

    let ascending = DataRequest { ascending: true, max_datapoints: Some(4), ..request.clone() };
    let first = control.metric_data(ascending.clone()).await.unwrap();
    assert_eq!(first.results[0].values, vec![10.0, 20.0, 30.0]);
    assert_eq!(first.results[1].values, vec![11.0], "the page holds four datapoints");
    assert!(first.results[0].complete && !first.results[1].complete);
    let token = first.next_token.clone().expect("a second page");
    let second = control.metric_data(DataRequest { next_token: Some(token), ..ascending }).await.unwrap();
    assert_eq!(second.results[1].values, vec![21.0, 31.0]);
    assert!(second.results[0].values.is_empty());
}

#[tokio::test]
async fn metric_data_queries_are_checked() {
    let control = control_plane();
    let start = an_hour_ago();
    let ask = |queries: Vec<DataQueryInput>| DataRequest {
        queries: Some(queries),
        start_ms: Some(start),
        end_ms: Some(start + MINUTE),
        ..DataRequest::default()
    };
    let cases = vec![
        (vec![stat_query("Web", "web", "Sum", true)], "MetricDataQueries.member.1.Id"),
        (vec![stat_query("a", "web", "Sum", true), stat_query("a", "web", "Sum", true)], "repeats"),
        (vec![expression("e", "nope(")], "MetricDataQueries.member.1.Expression"),
        (vec![expression("e", "x + 1")], "no query has the id x"),
        (vec![expression("e", "f"), expression("f", "e")], "depends on itself"),
        (vec![stat_query("a", "web", "p99", true)], "p99"),
        (vec![stat_query("a", "web", "Sum", false)], "ReturnData"),
        (vec![DataQueryInput { id: Some("a".into()), ..DataQueryInput::default() }], "Exactly one"),
    ];
    for (queries, why) in cases {
        let error = control.metric_data(ask(queries)).await.unwrap_err();
        assert!(error.message.contains(why), "{why}: {error}");
    }
    let token = DataRequest { next_token: Some("forged".into()), ..ask(vec![stat_query("a", "web", "Sum", true)]) };
    assert_eq!(control.metric_data(token).await.unwrap_err().kind, MetricsErrorKind::InvalidNextToken);
}

#[tokio::test]
async fn list_metrics_filters_by_namespace_name_and_dimensions() {
    let control = control_plane();
    let start = an_hour_ago();
    let datums =
        vec![datum("Load", "web", start, 1.0), datum("Load", "api", start, 1.0), datum("Errors", "web", start, 1.0)];
    control.put_metric_data(Some("App".into()), Some(datums)).await.unwrap();
    control.put_metric_data(Some("Other".into()), Some(vec![datum("Load", "web", start, 1.0)])).await.unwrap();
    let names = |request: ListRequest| {
        let control = control.clone();
        async move {
            let answer = control.list_metrics(request).await.unwrap();
            answer
                .metrics
                .iter()
                .map(|key| {
                    format!(
                        "{}/{}/{}",
                        key.namespace,
                        key.metric_name,
                        key.dimensions.iter().find(|d| d.name == "ServiceName").unwrap().value
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(ListRequest::default()).await.len(), 4);
    assert_eq!(
        names(ListRequest {
            namespace: Some("App".into()),
            metric_name: Some("Load".into()),
            ..ListRequest::default()
        })
        .await,
        vec!["App/Load/api", "App/Load/web"]
    );
    let web = ListRequest {
        dimensions: vec![dimension("ServiceName", "web")],
        namespace: Some("App".into()),
        ..ListRequest::default()
    };
    assert_eq!(names(web).await, vec!["App/Errors/web", "App/Load/web"]);
    let any_service = ListRequest {
        dimensions: vec![DimensionInput { name: Some("ServiceName".into()), value: None }],
        ..ListRequest::default()
    };
    assert_eq!(names(any_service).await.len(), 4);
    let missing = ListRequest { dimensions: vec![dimension("TaskId", "x")], ..ListRequest::default() };
    assert!(names(missing).await.is_empty());
}
