//! ListMetrics: the metrics with a datapoint in the last two weeks (three hours with
//! `RecentlyActive: PT3H`), filtered by namespace, name and dimensions, 500 a page.

use super::datums::{check_name, DimensionInput, MAX_DIMENSIONS};
use super::error::{required, MetricsError, MetricsErrorKind, MetricsResult};
use berth_metric_store::{MetricStore, SeriesKey};

pub const PAGE_SIZE: usize = 500;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3_600_000;
const THREE_HOURS_MS: i64 = 3 * 3_600_000;
const MAX_DIMENSION_FILTERS: usize = 10;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRequest {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// A name, and the value it must have when one is given.
    pub dimensions: Vec<DimensionInput>,
    pub recently_active: bool,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListAnswer {
    pub metrics: Vec<SeriesKey>,
    pub next_token: Option<String>,
}

struct Filter {
    name: String,
    value: Option<String>,
}

pub fn list_metrics(store: &MetricStore, request: ListRequest, now_ms: i64) -> MetricsResult<ListAnswer> {
    let namespace = request.namespace.map(|name| check_name(Some(name), "Namespace", 255)).transpose()?;
    let metric_name = request.metric_name.map(|name| check_name(Some(name), "MetricName", 255)).transpose()?;
    if request.dimensions.len() > MAX_DIMENSION_FILTERS.min(MAX_DIMENSIONS) {
        return Err(MetricsError::invalid("Dimensions", format!("must have at most {MAX_DIMENSION_FILTERS} members.")));
    }
    let filters = request
        .dimensions
        .into_iter()
        .enumerate()
        .map(|(index, filter)| {
            let field = format!("Dimensions.member.{}", index + 1);
            let name =
                check_name(Some(required(filter.name, &format!("{field}.Name"))?), &format!("{field}.Name"), 255)?;
            let value =
                filter.value.map(|value| check_name(Some(value), &format!("{field}.Value"), 1024)).transpose()?;
            Ok(Filter { name, value })
        })
        .collect::<MetricsResult<Vec<_>>>()?;
    let offset = match request.next_token.as_deref() {
        None => 0,
        Some(token) => {
            token.strip_prefix("berth-list-").and_then(|offset| offset.parse::<usize>().ok()).ok_or_else(|| {
                MetricsError::new(MetricsErrorKind::InvalidNextToken, "The NextToken is not one this server gave.")
            })?
        }
    };
    let since = now_ms - if request.recently_active { THREE_HOURS_MS } else { TWO_WEEKS_MS };
    let matching: Vec<SeriesKey> = store
        .series(since)
        .into_iter()
        .map(|info| info.key)
        .filter(|key| namespace.as_ref().is_none_or(|namespace| &key.namespace == namespace))
        .filter(|key| metric_name.as_ref().is_none_or(|name| &key.metric_name == name))
        .filter(|key| {
            filters.iter().all(|filter| {
                key.dimensions.iter().any(|dimension| {
                    dimension.name == filter.name && filter.value.as_ref().is_none_or(|value| &dimension.value == value)
                })
            })
        })
        .collect();
    let next_token = (offset + PAGE_SIZE < matching.len()).then(|| format!("berth-list-{}", offset + PAGE_SIZE));
    let metrics = matching.into_iter().skip(offset).take(PAGE_SIZE).collect();
    Ok(ListAnswer { metrics, next_token })
}
