//! PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics: wire shapes to the
//! control plane's requests and its answers back to wire shapes. Every rule lives in
//! `berth_control::cloudwatch`; here only the shapes change.

use super::error::CloudWatchResult;
use crate::Api;
use berth_cloudwatch_wire as wire;
use berth_control::cloudwatch::datums::{DatumInput, DimensionInput, StatisticSetInput};
use berth_control::cloudwatch::list::ListRequest;
use berth_control::cloudwatch::metric_data::{DataQueryInput, DataRequest, MetricStatInput};
use berth_control::cloudwatch::statistic::Statistic;
use berth_control::cloudwatch::statistics::StatisticsRequest;
use berth_metric_store::SeriesKey;

fn millis(timestamp: Option<wire::Timestamp>) -> Option<i64> {
    timestamp.map(|timestamp| timestamp.unix_millis)
}

pub(super) fn dimensions(dimensions: Option<Vec<wire::Dimension>>) -> Vec<DimensionInput> {
    dimensions
        .unwrap_or_default()
        .into_iter()
        .map(|dimension| DimensionInput { name: dimension.name, value: dimension.value })
        .collect()
}

fn unit(unit: Option<wire::StandardUnit>) -> Option<&'static str> {
    unit.map(|unit| unit.as_str())
}

fn wire_unit(text: &str) -> Option<wire::StandardUnit> {
    wire::StandardUnit::ALL.iter().copied().find(|unit| unit.as_str() == text)
}

fn wire_metric(key: SeriesKey) -> wire::Metric {
    let dimensions = key
        .dimensions
        .into_iter()
        .map(|dimension| wire::Dimension { name: Some(dimension.name), value: Some(dimension.value) })
        .collect();
    wire::Metric { namespace: Some(key.namespace), metric_name: Some(key.metric_name), dimensions: Some(dimensions) }
}

pub async fn put_metric_data(api: &Api, input: wire::PutMetricDataInput) -> CloudWatchResult<()> {
    let datums = input.metric_data.map(|datums| {
        datums
            .into_iter()
            .map(|datum| DatumInput {
                metric_name: datum.metric_name,
                dimensions: dimensions(datum.dimensions),
                timestamp_ms: millis(datum.timestamp),
                value: datum.value,
                statistic_values: datum.statistic_values.map(|set| StatisticSetInput {
                    sample_count: set.sample_count,
                    sum: set.sum,
                    minimum: set.minimum,
                    maximum: set.maximum,
                }),
                values: datum.values,
                counts: datum.counts,
                unit: unit(datum.unit),
                storage_resolution: datum.storage_resolution,
            })
            .collect()
    });
    Ok(api.control.put_metric_data(input.namespace, datums).await?)
}

pub async fn get_metric_statistics(
    api: &Api,
    input: wire::GetMetricStatisticsInput,
) -> CloudWatchResult<wire::GetMetricStatisticsOutput> {
    let request = StatisticsRequest {
        namespace: input.namespace,
        metric_name: input.metric_name,
        dimensions: dimensions(input.dimensions),
        start_ms: millis(input.start_time),
        end_ms: millis(input.end_time),
        period: input.period,
        statistics: input
            .statistics
            .unwrap_or_default()
            .iter()
            .map(|statistic| statistic.as_str().to_string())
            .collect(),
        extended_statistics: input.extended_statistics.unwrap_or_default(),
        unit: unit(input.unit),
    };
    let answer = api.control.metric_statistics(request).await?;
    let datapoints = answer
        .datapoints
        .into_iter()
        .map(|point| {
            let value = |wanted: Statistic| {
                point.values.iter().find(|(statistic, _)| *statistic == wanted).map(|(_, value)| *value)
            };
            wire::Datapoint {
                timestamp: Some(wire::Timestamp::from_unix_millis(point.timestamp_ms)),
                sample_count: value(Statistic::SampleCount),
                average: value(Statistic::Average),
                sum: value(Statistic::Sum),
                minimum: value(Statistic::Minimum),
                maximum: value(Statistic::Maximum),
                unit: wire_unit(&point.unit),
                extended_statistics: None,
            }
        })
        .collect();
    Ok(wire::GetMetricStatisticsOutput { label: Some(answer.label), datapoints: Some(datapoints) })
}

/// One `MetricDataQuery`, as GetMetricData and metric math alarms take it.
pub(super) fn query_in(query: wire::MetricDataQuery) -> DataQueryInput {
    DataQueryInput {
        id: query.id,
        metric_stat: query.metric_stat.map(|stat| {
            let metric = stat.metric.unwrap_or_default();
            MetricStatInput {
                namespace: metric.namespace,
                metric_name: metric.metric_name,
                dimensions: dimensions(metric.dimensions),
                period: stat.period,
                stat: stat.stat,
                unit: unit(stat.unit),
            }
        }),
        expression: query.expression,
        label: query.label,
        return_data: query.return_data,
        period: query.period,
    }
}

pub async fn get_metric_data(
    api: &Api,
    input: wire::GetMetricDataInput,
) -> CloudWatchResult<wire::GetMetricDataOutput> {
    let queries = input.metric_data_queries.map(|queries| queries.into_iter().map(query_in).collect());
    let request = DataRequest {
        queries,
        start_ms: millis(input.start_time),
        end_ms: millis(input.end_time),
        next_token: input.next_token,
        ascending: matches!(input.scan_by, Some(wire::ScanBy::TimestampAscending)),
        max_datapoints: input.max_datapoints,
    };
    let answer = api.control.metric_data(request).await?;
    let results = answer
        .results
        .into_iter()
        .map(|result| wire::MetricDataResult {
            id: Some(result.id),
            label: Some(result.label),
            timestamps: Some(result.timestamps.into_iter().map(wire::Timestamp::from_unix_millis).collect()),
            values: Some(result.values),
            status_code: Some(if result.complete { wire::StatusCode::Complete } else { wire::StatusCode::PartialData }),
            messages: Some(vec![]),
        })
        .collect();
    Ok(wire::GetMetricDataOutput {
        metric_data_results: Some(results),
        next_token: answer.next_token,
        messages: Some(vec![]),
    })
}

pub async fn list_metrics(api: &Api, input: wire::ListMetricsInput) -> CloudWatchResult<wire::ListMetricsOutput> {
    let filters = input
        .dimensions
        .unwrap_or_default()
        .into_iter()
        .map(|filter| DimensionInput { name: filter.name, value: filter.value })
        .collect();
    let request = ListRequest {
        namespace: input.namespace,
        metric_name: input.metric_name,
        dimensions: filters,
        recently_active: input.recently_active.is_some(),
        next_token: input.next_token,
    };
    let answer = api.control.list_metrics(request).await?;
    Ok(wire::ListMetricsOutput {
        metrics: Some(answer.metrics.into_iter().map(wire_metric).collect()),
        next_token: answer.next_token,
        owning_accounts: None,
    })
}
