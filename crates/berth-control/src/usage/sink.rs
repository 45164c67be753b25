//! Where usage datapoints go: the [`UsageSink`] trait, which the CloudWatch metric store
//! implements (`cloudwatch::usage_sink`, every control plane's own), [`DiscardUsage`] and the
//! [`RecordingUsageSink`] of tests.

use parking_lot::Mutex;

/// One CloudWatch datapoint as a statistic set (`PutMetricData`'s `StatisticValues`): what the
/// store needs to answer Average (`sum / sample_count`), Minimum, Maximum, Sum and SampleCount.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageDatum {
    /// `AWS/ECS` or `ECS/ContainerInsights`.
    pub namespace: &'static str,
    pub metric_name: &'static str,
    /// Name and value, `ClusterName` first.
    pub dimensions: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// CloudWatch's `StandardUnit` text: `Percent`, `Count`, `Megabytes`, `Bytes/Second`, `None`.
    pub unit: &'static str,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

impl UsageDatum {
    /// The dimension's value, if the datum has it.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// `sum / sample_count`, CloudWatch's Average.
    pub fn average(&self) -> f64 {
        self.sum / self.sample_count
    }
}

/// Takes the datapoints of each usage report. Called on the agent's request path, so it must
/// not block: a store that writes to disk queues and returns.
pub trait UsageSink: Send + Sync {
    fn publish(&self, datums: Vec<UsageDatum>);
}

/// The sink until a metric store is connected: every datum is dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardUsage;

impl UsageSink for DiscardUsage {
    fn publish(&self, _datums: Vec<UsageDatum>) {}
}

/// Keeps everything published, for tests (here and in other crates).
#[derive(Debug, Default)]
pub struct RecordingUsageSink {
    datums: Mutex<Vec<UsageDatum>>,
}

impl RecordingUsageSink {
    pub fn datums(&self) -> Vec<UsageDatum> {
        self.datums.lock().clone()
    }

    /// The datums of one namespace and metric, in the order published.
    pub fn of(&self, namespace: &str, metric_name: &str) -> Vec<UsageDatum> {
        self.datums
            .lock()
            .iter()
            .filter(|datum| datum.namespace == namespace && datum.metric_name == metric_name)
            .cloned()
            .collect()
    }
}

impl UsageSink for RecordingUsageSink {
    fn publish(&self, datums: Vec<UsageDatum>) {
        self.datums.lock().extend(datums);
    }
}
