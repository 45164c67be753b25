//! GetMetricData: metric queries (`MetricStat`) read from the store and math expressions over
//! them, each returned query answered as timestamps and values, newest first unless asked
//! otherwise, paged by `MaxDatapoints`.

use super::datums::DimensionInput;
use super::error::{required, MetricsError, MetricsErrorKind, MetricsResult};
use super::math::{self, parse::Expr, Points, Scope, Series, Value};
use super::statistic::{check_period, round_start, Statistic};
use super::statistics::{metric_key, time_range};
use berth_metric_store::{MetricStore, SeriesKey};
use std::collections::{HashMap, HashSet};

pub const MAX_QUERIES: usize = 500;
pub const DEFAULT_MAX_DATAPOINTS: usize = 100_800;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataQueryInput {
    pub id: Option<String>,
    pub metric_stat: Option<MetricStatInput>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
    pub period: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricStatInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<DimensionInput>,
    pub period: Option<i32>,
    pub stat: Option<String>,
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataRequest {
    pub queries: Option<Vec<DataQueryInput>>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub next_token: Option<String>,
    /// `ScanBy: TimestampAscending`; CloudWatch's default is newest first.
    pub ascending: bool,
    pub max_datapoints: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataResult {
    pub id: String,
    pub label: String,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// `Complete`, or `PartialData` when later pages hold more of it.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataAnswer {
    pub results: Vec<DataResult>,
    pub next_token: Option<String>,
}

enum Body {
    Metric { series: SeriesKey, period: u32, stat: Statistic, unit: Option<&'static str> },
    Expression(Expr),
}

struct Query {
    id: String,
    label: Option<String>,
    return_data: bool,
    body: Body,
}

pub fn metric_data(store: &MetricStore, request: DataRequest, now_ms: i64) -> MetricsResult<DataAnswer> {
    let (start, end) = time_range(request.start_ms, request.end_ms)?;
    let queries = check_queries(required(request.queries, "MetricDataQueries")?)?;
    let max = match request.max_datapoints {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(max) if max > 0 => max as usize,
        Some(max) => return Err(MetricsError::invalid("MaxDatapoints", format!("must be positive, not {max}."))),
    };
    let offset = match request.next_token.as_deref() {
        None => 0,
        Some(token) => parse_token(token)?,
    };
    let grid_period = queries
        .iter()
        .filter_map(|query| match query.body {
            Body::Metric { period, .. } => Some(period),
            Body::Expression(_) => None,
        })
        .min()
        .unwrap_or(60);
    let mut reader = Reader {
        store,
        queries: &queries,
        start,
        end,
        now_ms,
        grid_period,
        values: HashMap::new(),
        busy: HashSet::new(),
    };
    let mut answers = Vec::new();
    for (index, query) in queries.iter().enumerate().filter(|(_, query)| query.return_data) {
        let value = reader.value_at(index).map_err(|why| {
            MetricsError::invalid(
                &format!("MetricDataQueries.member.{}.Expression", index + 1),
                format!("(id {}) cannot be evaluated: {why}.", query.id),
            )
        })?;
        let default_label = |series: &Series| {
            if series.label.is_empty() {
                query.id.clone()
            } else {
                series.label.clone()
            }
        };
        match value {
            Value::Series(series) => answers.push((
                query.id.clone(),
                query.label.clone().unwrap_or_else(|| default_label(&series)),
                series.points,
            )),
            Value::Array(array) => {
                for series in array {
                    answers.push((query.id.clone(), default_label(&series), series.points));
                }
            }
            Value::Scalar(scalar) => {
                // A scalar answer is drawn across the request's periods, as a constant line.
                let points = reader.grid().into_iter().map(|time| (time, scalar)).collect();
                answers.push((query.id.clone(), query.label.clone().unwrap_or_else(|| query.id.clone()), points))
            }
        }
    }
    Ok(page(answers, request.ascending, offset, max))
}

fn page(answers: Vec<(String, String, Points)>, ascending: bool, offset: usize, max: usize) -> DataAnswer {
    let total: usize = answers.iter().map(|(_, _, points)| points.len()).sum();
    let mut skipped = 0;
    let results = answers
        .into_iter()
        .map(|(id, label, points)| {
            let mut ordered: Vec<(i64, f64)> = points.into_iter().collect();
            if !ascending {
                ordered.reverse();
            }
            let first = offset.saturating_sub(skipped).min(ordered.len());
            let room = (offset + max).saturating_sub(skipped).min(ordered.len());
            skipped += ordered.len();
            let shown = &ordered[first..room.max(first)];
            DataResult {
                id,
                label,
                timestamps: shown.iter().map(|(time, _)| *time).collect(),
                values: shown.iter().map(|(_, value)| *value).collect(),
                complete: room >= ordered.len(),
            }
        })
        .collect();
    let next_token = (offset + max < total).then(|| format!("berth-offset-{}", offset + max));
    DataAnswer { results, next_token }
}

fn parse_token(token: &str) -> MetricsResult<usize> {
    token.strip_prefix("berth-offset-").and_then(|offset| offset.parse().ok()).ok_or_else(|| {
        MetricsError::new(MetricsErrorKind::InvalidNextToken, "The NextToken is not one this server gave.")
    })
}

fn is_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

fn check_queries(inputs: Vec<DataQueryInput>) -> MetricsResult<Vec<Query>> {
    if inputs.is_empty() || inputs.len() > MAX_QUERIES {
        return Err(MetricsError::invalid(
            "MetricDataQueries",
            format!("must have 1 to {MAX_QUERIES} members, not {}.", inputs.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut queries = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.into_iter().enumerate() {
        let field = format!("MetricDataQueries.member.{}", index + 1);
        let id = required(input.id, &format!("{field}.Id"))?;
        if !is_query_id(&id) {
            return Err(MetricsError::invalid(
                &format!("{field}.Id"),
                format!(
                    "must start with a lowercase letter and hold only letters, digits and underscores, not {id:?}."
                ),
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(MetricsError::invalid(&format!("{field}.Id"), format!("repeats the id {id}.")));
        }
        let body = match (input.metric_stat, input.expression) {
            (Some(stat), None) => {
                // `stat` is shadowed by the parsed statistic below.
                let unit = stat.unit;
                let series = metric_key(
                    stat.namespace,
                    stat.metric_name,
                    stat.dimensions,
                    &format!("{field}.MetricStat.Metric."),
                )?;
                let period = check_period(
                    required(stat.period, &format!("{field}.MetricStat.Period"))?,
                    &format!("{field}.MetricStat.Period"),
                )?;
                let stat_name = required(stat.stat, &format!("{field}.MetricStat.Stat"))?;
                let stat = Statistic::parse(&stat_name, &format!("{field}.MetricStat.Stat"))?;
                Body::Metric { series, period, stat, unit }
            }
            (None, Some(expression)) => Body::Expression(math::parse::parse(&expression).map_err(|why| {
                MetricsError::invalid(&format!("{field}.Expression"), format!("is not a valid expression: {why}."))
            })?),
            _ => {
                return Err(MetricsError::combination(format!(
                    "Exactly one of {field}.MetricStat and {field}.Expression must be specified."
                )))
            }
        };
        queries.push(Query { id, label: input.label, return_data: input.return_data.unwrap_or(true), body });
    }
    if !queries.iter().any(|query| query.return_data) {
        return Err(MetricsError::invalid("MetricDataQueries", "must have at least one query with ReturnData true."));
    }
    Ok(queries)
}

/// Evaluates queries on demand, each once, refusing cycles (`e1` using `e2` using `e1`).
struct Reader<'a> {
    store: &'a MetricStore,
    queries: &'a [Query],
    start: i64,
    end: i64,
    now_ms: i64,
    grid_period: u32,
    values: HashMap<usize, Value>,
    busy: HashSet<usize>,
}

impl Reader<'_> {
    fn value_at(&mut self, index: usize) -> Result<Value, String> {
        if let Some(value) = self.values.get(&index) {
            return Ok(value.clone());
        }
        if !self.busy.insert(index) {
            return Err(format!("{} depends on itself", self.queries[index].id));
        }
        let query = &self.queries[index];
        let value = match &query.body {
            Body::Metric { series, period, stat, unit } => {
                let start = round_start(self.start, self.now_ms, *period);
                let periods =
                    self.store.read(series, *unit, start, self.end, *period).map_err(|error| error.to_string())?;
                let points = periods.iter().map(|period| (period.start_ms, stat.of(&period.stats))).collect();
                let label = query.label.clone().unwrap_or_else(|| series.metric_name.clone());
                Value::Series(Series { label, points })
            }
            Body::Expression(expr) => {
                let expr = expr.clone();
                let mut value = math::evaluate(&expr, self)?;
                if let (Value::Series(series), Some(label)) = (&mut value, &query.label) {
                    series.label = label.clone();
                }
                value
            }
        };
        self.busy.remove(&index);
        self.values.insert(index, value.clone());
        Ok(value)
    }
}

impl Scope for Reader<'_> {
    fn value_of(&mut self, id: &str) -> Result<Value, String> {
        let index =
            self.queries.iter().position(|query| query.id == id).ok_or_else(|| format!("no query has the id {id}"))?;
        self.value_at(index)
    }

    fn metric_ids(&self, filter: Option<&str>) -> Vec<String> {
        self.queries
            .iter()
            .filter(|query| matches!(query.body, Body::Metric { .. }))
            .filter(|query| filter.is_none_or(|text| query.id.contains(text)))
            .map(|query| query.id.clone())
            .collect()
    }

    fn grid(&self) -> Vec<i64> {
        let step = i64::from(self.grid_period) * 1000;
        let start = round_start(self.start, self.now_ms, self.grid_period);
        (0..)
            .map(|index| start + index * step)
            .take_while(|time| *time < self.end)
            .take(DEFAULT_MAX_DATAPOINTS)
            .collect()
    }
}
