//! CloudWatch metrics: datapoints written by PutMetricData (`datums`) and by Berth itself
//! (the agents' usage samples, `publish`), read back as statistics (`statistics`,
//! `metric_data` with `math`) and listed (`list`). The datapoints live in their own store
//! (`berth-metric-store`), far more than memory holds; nothing here is in the control plane's
//! records.
//!
//! Invariant: a PutMetricData is acknowledged only once all its datapoints are durable, and a
//! request with one bad datum stores none of them.

pub mod alarms;
pub mod datums;
pub mod error;
pub mod list;
pub mod math;
pub mod metric_data;
pub mod statistic;
pub mod statistics;
pub mod usage_sink;

#[cfg(test)]
mod tests;

use crate::ControlPlane;
use berth_metric_store::{MetricStore, NewDatapoint};
use berth_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

pub use error::{MetricsError, MetricsErrorKind, MetricsResult};

/// Runs `call` on the metric store off the async threads (its reads and commits block).
async fn on_store<T: Send + 'static>(
    store: Arc<MetricStore>,
    call: impl FnOnce(&MetricStore, i64) -> MetricsResult<T> + Send + 'static,
) -> MetricsResult<T> {
    tokio::task::spawn_blocking(move || call(&store, Timestamp::now().0)).await.map_err(|_| {
        MetricsError::new(MetricsErrorKind::Internal, "The metric store is unavailable; retry the request.")
    })?
}

impl ControlPlane {
    /// PutMetricData: checks every datum, then stores them all; returns once durable.
    pub async fn put_metric_data(
        &self,
        namespace: Option<String>,
        datums: Option<Vec<datums::DatumInput>>,
    ) -> MetricsResult<()> {
        on_store(self.metric_store(), move |store, now| {
            let datapoints = datums::datapoints(namespace, datums, now)?;
            Ok(store.put(datapoints)?)
        })
        .await
    }

    /// Stores datapoints Berth itself measured (in `AWS/…` namespaces, which callers may not
    /// write to).
    pub async fn publish_metrics(&self, datapoints: Vec<NewDatapoint>) -> MetricsResult<()> {
        on_store(self.metric_store(), move |store, _| Ok(store.put(datapoints)?)).await
    }

    pub async fn metric_statistics(
        &self,
        request: statistics::StatisticsRequest,
    ) -> MetricsResult<statistics::StatisticsAnswer> {
        on_store(self.metric_store(), move |store, now| statistics::metric_statistics(store, request, now)).await
    }

    pub async fn metric_data(&self, request: metric_data::DataRequest) -> MetricsResult<metric_data::DataAnswer> {
        on_store(self.metric_store(), move |store, now| metric_data::metric_data(store, request, now)).await
    }

    pub async fn list_metrics(&self, request: list::ListRequest) -> MetricsResult<list::ListAnswer> {
        on_store(self.metric_store(), move |store, now| list::list_metrics(store, request, now)).await
    }
}

/// Rolls datapoints up to coarser periods and drops expired ones, every `interval`.
pub async fn run_metric_sweep(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        match on_store(control.metric_store(), |store, now| Ok(store.sweep(now)?)).await {
            Ok(outcome) => tracing::debug!(rolled_up = outcome.rolled_up, deleted = outcome.deleted, "metric sweep"),
            Err(error) => tracing::warn!(%error, "the metric sweep failed; it runs again next time"),
        }
    }
}
