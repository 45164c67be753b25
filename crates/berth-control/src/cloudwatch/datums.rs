//! PutMetricData's input, checked against CloudWatch's rules and turned into the store's
//! datapoints. Every refusal names the field as a Query client writes it
//! (`MetricData.member.2.Dimensions.member.1.Value`), and one bad datum refuses the whole
//! request: nothing of it is stored.

use super::error::{required, MetricsError, MetricsResult};
use berth_metric_store::{Dimension, NewDatapoint, Resolution, SeriesKey, StatisticSet};

/// One `MetricDatum` as the request gave it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatumInput {
    pub metric_name: Option<String>,
    pub dimensions: Vec<DimensionInput>,
    pub timestamp_ms: Option<i64>,
    pub value: Option<f64>,
    pub statistic_values: Option<StatisticSetInput>,
    pub values: Option<Vec<f64>>,
    pub counts: Option<Vec<f64>>,
    /// A `StandardUnit` (the decoder already refused other text).
    pub unit: Option<&'static str>,
    pub storage_resolution: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DimensionInput {
    pub name: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatisticSetInput {
    pub sample_count: Option<f64>,
    pub sum: Option<f64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

pub const MAX_DATUMS: usize = 1000;
pub const MAX_DIMENSIONS: usize = 30;
pub const MAX_VALUES: usize = 150;
const NAME_MAX: usize = 255;
const DIMENSION_VALUE_MAX: usize = 1024;
/// CloudWatch refuses magnitudes beyond 2^360 (and NaN and the infinities).
const VALUE_LIMIT: f64 = 2.348_542_582_773_833_2e108;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3_600_000;
const TWO_HOURS_MS: i64 = 2 * 3_600_000;

/// The namespace a caller may write to: 1–255 printable ASCII characters, and not one of
/// AWS's (`AWS/…`), which only Berth itself publishes to.
pub fn check_namespace(namespace: Option<String>, field: &str) -> MetricsResult<String> {
    let namespace = check_name(namespace, field, NAME_MAX)?;
    if namespace.starts_with("AWS/") {
        return Err(MetricsError::invalid(
            field,
            "may not begin with AWS/: that prefix is reserved for AWS's own metrics.",
        ));
    }
    Ok(namespace)
}

/// A name (metric, dimension, namespace): present, 1 to `max` characters, no control ones.
pub fn check_name(name: Option<String>, field: &str, max: usize) -> MetricsResult<String> {
    let name = required(name, field)?;
    let length = name.chars().count();
    if length == 0 || length > max {
        return Err(MetricsError::invalid(field, format!("must be 1 to {max} characters long, not {length}.")));
    }
    if name.chars().any(char::is_control) {
        return Err(MetricsError::invalid(field, "may not contain control characters."));
    }
    Ok(name)
}

/// Dimensions as a metric names them: up to 30, names unique.
pub fn check_dimensions(dimensions: Vec<DimensionInput>, field: &str) -> MetricsResult<Vec<Dimension>> {
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(MetricsError::invalid(
            field,
            format!("must have at most {MAX_DIMENSIONS} members, not {}.", dimensions.len()),
        ));
    }
    let mut checked: Vec<Dimension> = Vec::with_capacity(dimensions.len());
    for (index, dimension) in dimensions.into_iter().enumerate() {
        let member = format!("{field}.member.{}", index + 1);
        let name = check_name(dimension.name, &format!("{member}.Name"), NAME_MAX)?;
        let value = check_name(dimension.value, &format!("{member}.Value"), DIMENSION_VALUE_MAX)?;
        if checked.iter().any(|earlier| earlier.name == name) {
            return Err(MetricsError::invalid(&format!("{member}.Name"), format!("repeats the dimension {name}.")));
        }
        checked.push(Dimension { name, value });
    }
    Ok(checked)
}

/// Every datum of a PutMetricData request, as the store's datapoints.
pub fn datapoints(
    namespace: Option<String>,
    datums: Option<Vec<DatumInput>>,
    now_ms: i64,
) -> MetricsResult<Vec<NewDatapoint>> {
    let namespace = check_namespace(namespace, "Namespace")?;
    let datums = required(datums, "MetricData")?;
    if datums.is_empty() || datums.len() > MAX_DATUMS {
        return Err(MetricsError::invalid(
            "MetricData",
            format!("must have 1 to {MAX_DATUMS} members, not {}.", datums.len()),
        ));
    }
    datums
        .into_iter()
        .enumerate()
        .map(|(index, datum)| datapoint(&namespace, datum, &format!("MetricData.member.{}", index + 1), now_ms))
        .collect()
}

fn datapoint(namespace: &str, datum: DatumInput, field: &str, now_ms: i64) -> MetricsResult<NewDatapoint> {
    let metric_name = check_name(datum.metric_name, &format!("{field}.MetricName"), NAME_MAX)?;
    let dimensions = check_dimensions(datum.dimensions, &format!("{field}.Dimensions"))?;
    let timestamp_ms = datum.timestamp_ms.unwrap_or(now_ms);
    if timestamp_ms < now_ms - TWO_WEEKS_MS {
        return Err(MetricsError::invalid(
            &format!("{field}.Timestamp"),
            "must specify a time within the past two weeks.",
        ));
    }
    if timestamp_ms > now_ms + TWO_HOURS_MS {
        return Err(MetricsError::invalid(
            &format!("{field}.Timestamp"),
            "must specify a time no more than two hours in the future.",
        ));
    }
    let resolution = match datum.storage_resolution {
        None | Some(60) => Resolution::Standard,
        Some(1) => Resolution::High,
        Some(other) => {
            return Err(MetricsError::invalid(
                &format!("{field}.StorageResolution"),
                format!("must be 1 or 60, not {other}."),
            ))
        }
    };
    let stats = match (datum.value, datum.statistic_values, datum.values) {
        (Some(value), None, None) => StatisticSet::of_value(check_value(value, &format!("{field}.Value"))?),
        (None, Some(set), None) => statistic_set(set, &format!("{field}.StatisticValues"))?,
        (None, None, Some(values)) => values_and_counts(values, datum.counts, field)?,
        (None, None, None) => {
            return Err(MetricsError::combination(format!(
                "One of the parameters {field}.Value, {field}.StatisticValues and {field}.Values must be specified."
            )))
        }
        _ => {
            return Err(MetricsError::combination(format!(
                "The parameters {field}.Value, {field}.StatisticValues and {field}.Values are mutually exclusive."
            )))
        }
    };
    Ok(NewDatapoint {
        series: SeriesKey::new(namespace.to_string(), metric_name, dimensions),
        timestamp_ms,
        resolution,
        unit: datum.unit.unwrap_or("None").to_string(),
        stats,
    })
}

fn check_value(value: f64, field: &str) -> MetricsResult<f64> {
    if !value.is_finite() || value.abs() > VALUE_LIMIT {
        return Err(MetricsError::invalid(field, format!("must be a finite number within ±2^360, not {value}.")));
    }
    Ok(value)
}

fn statistic_set(set: StatisticSetInput, field: &str) -> MetricsResult<StatisticSet> {
    let part = |value: Option<f64>, name: &str| {
        let name = format!("{field}.{name}");
        check_value(required(value, &name)?, &name)
    };
    let checked = StatisticSet {
        sample_count: part(set.sample_count, "SampleCount")?,
        sum: part(set.sum, "Sum")?,
        minimum: part(set.minimum, "Minimum")?,
        maximum: part(set.maximum, "Maximum")?,
    };
    if checked.sample_count <= 0.0 {
        return Err(MetricsError::invalid(&format!("{field}.SampleCount"), "must be greater than 0."));
    }
    if checked.minimum > checked.maximum {
        return Err(MetricsError::invalid(&format!("{field}.Minimum"), "must not be greater than Maximum."));
    }
    Ok(checked)
}

fn values_and_counts(values: Vec<f64>, counts: Option<Vec<f64>>, field: &str) -> MetricsResult<StatisticSet> {
    if values.is_empty() || values.len() > MAX_VALUES {
        return Err(MetricsError::invalid(
            &format!("{field}.Values"),
            format!("must have 1 to {MAX_VALUES} members, not {}.", values.len()),
        ));
    }
    let counts = match counts {
        Some(counts) if counts.len() != values.len() => {
            return Err(MetricsError::combination(format!(
                "The parameters {field}.Values and {field}.Counts must have the same number of members ({} and {}).",
                values.len(),
                counts.len()
            )))
        }
        Some(counts) => counts,
        None => vec![1.0; values.len()],
    };
    let mut merged: Option<StatisticSet> = None;
    for (index, (value, count)) in values.into_iter().zip(counts).enumerate() {
        let value = check_value(value, &format!("{field}.Values.member.{}", index + 1))?;
        let count_field = format!("{field}.Counts.member.{}", index + 1);
        let count = check_value(count, &count_field)?;
        if count < 0.0 {
            return Err(MetricsError::invalid(&count_field, "must not be negative."));
        }
        if count == 0.0 {
            continue;
        }
        let set = StatisticSet::of_values(value, count);
        match merged.as_mut() {
            Some(merged) => merged.merge(&set),
            None => merged = Some(set),
        }
    }
    merged.ok_or_else(|| MetricsError::invalid(&format!("{field}.Counts"), "must count at least one value."))
}
