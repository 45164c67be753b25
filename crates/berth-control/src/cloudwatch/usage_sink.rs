//! The agents' usage datapoints (`usage`) into the metric store, where GetMetricStatistics,
//! GetMetricData and alarms read them like any other metric.

use crate::usage::{UsageDatum, UsageSink};
use berth_metric_store::{Dimension, MetricStore, NewDatapoint, Resolution, SeriesKey, StatisticSet};
use std::sync::Arc;

pub struct MetricStoreSink {
    store: Arc<MetricStore>,
}

impl MetricStoreSink {
    pub fn new(store: Arc<MetricStore>) -> Self {
        MetricStoreSink { store }
    }
}

pub fn datapoint(datum: UsageDatum) -> NewDatapoint {
    let dimensions = datum.dimensions.into_iter().map(|(name, value)| Dimension { name, value }).collect();
    NewDatapoint {
        series: SeriesKey::new(datum.namespace.to_string(), datum.metric_name.to_string(), dimensions),
        timestamp_ms: datum.timestamp_ms,
        // ECS publishes its metrics a minute apart; the 5-second samples fill the minute.
        resolution: Resolution::Standard,
        unit: datum.unit.to_string(),
        stats: StatisticSet {
            sample_count: datum.sample_count,
            sum: datum.sum,
            minimum: datum.minimum,
            maximum: datum.maximum,
        },
    }
}

impl UsageSink for MetricStoreSink {
    /// Queues the put on a blocking thread: the agent's request does not wait for the fsync.
    /// Usage is best effort (the next report comes in seconds), so a failed put is logged.
    fn publish(&self, datums: Vec<UsageDatum>) {
        if datums.is_empty() {
            return;
        }
        let datapoints: Vec<NewDatapoint> = datums.into_iter().map(datapoint).collect();
        let store = Arc::clone(&self.store);
        let put = move || {
            if let Err(error) = store.put(datapoints) {
                tracing::warn!(%error, "usage datapoints were not stored");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(put)),
            Err(_) => put(),
        }
    }
}
