//! The values the store takes and gives: series keys, statistic sets, datapoints, periods.
//!
//! Invariant: a [`SeriesKey`] the store holds has its dimensions sorted (by name, then value),
//! so two keys naming the same dimensions in another order are one series, as in CloudWatch.

/// One dimension of a metric: a name and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

impl Dimension {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Dimension {
        Dimension { name: name.into(), value: value.into() }
    }
}

/// What names one series: namespace, metric name and dimensions. Ordered by namespace, then
/// metric name, then dimensions, which is the order [`crate::MetricStore::series`] lists in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name (then value) when built with [`SeriesKey::new`]; the store sorts keys
    /// built by hand before it uses them.
    pub dimensions: Vec<Dimension>,
}

impl SeriesKey {
    pub fn new(namespace: impl Into<String>, metric_name: impl Into<String>, dimensions: Vec<Dimension>) -> SeriesKey {
        let mut key = SeriesKey { namespace: namespace.into(), metric_name: metric_name.into(), dimensions };
        key.dimensions.sort();
        key
    }

    /// The key with its dimensions in the store's order; cheap when they already are.
    pub(crate) fn normalized(mut self) -> SeriesKey {
        if !self.dimensions.is_sorted() {
            self.dimensions.sort();
        }
        self
    }
}

/// CloudWatch's statistic set: what is kept of any number of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

impl StatisticSet {
    pub fn of_value(value: f64) -> StatisticSet {
        StatisticSet::of_values(value, 1.0)
    }

    /// `value` reported `count` times (PutMetricData's Values with Counts).
    pub fn of_values(value: f64, count: f64) -> StatisticSet {
        StatisticSet { sample_count: count, sum: value * count, minimum: value, maximum: value }
    }

    pub fn merge(&mut self, other: &StatisticSet) {
        self.sample_count += other.sample_count;
        self.sum += other.sum;
        self.minimum = self.minimum.min(other.minimum);
        self.maximum = self.maximum.max(other.maximum);
    }

    /// The mean; 0 for a set of no samples rather than NaN.
    pub fn average(&self) -> f64 {
        if self.sample_count > 0.0 {
            self.sum / self.sample_count
        } else {
            0.0
        }
    }
}

/// PutMetricData's StorageResolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// 60: kept per minute.
    Standard,
    /// 1: kept per second for three hours, then per minute.
    High,
}

/// One datapoint to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDatapoint {
    pub series: SeriesKey,
    /// The datapoint's own time, ms since the Unix epoch.
    pub timestamp_ms: i64,
    pub resolution: Resolution,
    /// CloudWatch's StandardUnit text; "None" when the caller gave none.
    pub unit: String,
    pub stats: StatisticSet,
}

/// One period of a read: the merge of every stored bucket starting in it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodStats {
    pub start_ms: i64,
    pub stats: StatisticSet,
    /// The buckets' unit; "None" when the period merged buckets of different units.
    pub unit: String,
}

/// What the store knows of a series without reading its datapoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesInfo {
    pub key: SeriesKey,
    /// The latest datapoint timestamp ever put.
    pub last_timestamp_ms: i64,
    /// Wall time of the last put that touched the series.
    pub last_put_ms: i64,
}

/// What a sweep did, in buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepOutcome {
    /// Buckets merged into a coarser level (and removed from their own).
    pub rolled_up: u64,
    /// Buckets dropped at the end of their retention.
    pub deleted: u64,
}
