//! GetMetricStatistics: one metric's statistics over `[StartTime, EndTime)` in periods.

use super::datums::{check_dimensions, check_name, DimensionInput};
use super::error::{required, MetricsError, MetricsResult};
use super::statistic::{check_period, period_count, round_start, Statistic};
use berth_metric_store::{MetricStore, SeriesKey};

/// At most this many periods in one answer.
pub const MAX_DATAPOINTS: i64 = 1440;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatisticsRequest {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<DimensionInput>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub period: Option<i32>,
    pub statistics: Vec<String>,
    pub extended_statistics: Vec<String>,
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsPoint {
    pub timestamp_ms: i64,
    pub values: Vec<(Statistic, f64)>,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsAnswer {
    pub label: String,
    pub datapoints: Vec<StatisticsPoint>,
}

/// A metric as a request names it (any namespace may be read, `AWS/…` included).
pub fn metric_key(
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Vec<DimensionInput>,
    prefix: &str,
) -> MetricsResult<SeriesKey> {
    let namespace = check_name(namespace, &format!("{prefix}Namespace"), 255)?;
    let metric_name = check_name(metric_name, &format!("{prefix}MetricName"), 255)?;
    let dimensions = check_dimensions(dimensions, &format!("{prefix}Dimensions"))?;
    Ok(SeriesKey::new(namespace, metric_name, dimensions))
}

/// `[start, end)` as given, refused unless start comes first.
pub fn time_range(start_ms: Option<i64>, end_ms: Option<i64>) -> MetricsResult<(i64, i64)> {
    let start = required(start_ms, "StartTime")?;
    let end = required(end_ms, "EndTime")?;
    if start >= end {
        return Err(MetricsError::invalid("StartTime", "must be less than the parameter EndTime."));
    }
    Ok((start, end))
}

pub fn metric_statistics(
    store: &MetricStore,
    request: StatisticsRequest,
    now_ms: i64,
) -> MetricsResult<StatisticsAnswer> {
    let series = metric_key(request.namespace, request.metric_name, request.dimensions, "")?;
    let (start, end) = time_range(request.start_ms, request.end_ms)?;
    let period = check_period(required(request.period, "Period")?, "Period")?;
    if request.statistics.is_empty() && request.extended_statistics.is_empty() {
        return Err(MetricsError::combination(
            "At least one of the parameters Statistics and ExtendedStatistics must be specified.",
        ));
    }
    if request.statistics.len() > 5 {
        return Err(MetricsError::invalid("Statistics", "must have at most 5 members."));
    }
    if let Some(extended) = request.extended_statistics.first() {
        return Err(Statistic::parse(extended, "ExtendedStatistics.member.1").unwrap_err());
    }
    let statistics = request
        .statistics
        .iter()
        .enumerate()
        .map(|(index, name)| Statistic::parse(name, &format!("Statistics.member.{}", index + 1)))
        .collect::<MetricsResult<Vec<_>>>()?;
    let start = round_start(start, now_ms, period);
    let requested = period_count(start, end, period);
    if requested > MAX_DATAPOINTS {
        return Err(MetricsError::combination(format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let datapoints = store
        .read(&series, request.unit, start, end, period)?
        .into_iter()
        .map(|period| StatisticsPoint {
            timestamp_ms: period.start_ms,
            values: statistics.iter().map(|statistic| (*statistic, statistic.of(&period.stats))).collect(),
            unit: period.unit,
        })
        .collect();
    Ok(StatisticsAnswer { label: series.metric_name, datapoints })
}
