//! The control plane's own metrics: reconciler pass times, placement latency, group commits
//! (latency and size), the stores' sizes on disk and log ingest. One [`ControlMetrics`] per
//! [`crate::ControlPlane`], so tests never share counters; the edge (`berth-api`) registers it
//! with the registry its `/metrics` renders.
//!
//! Invariant: every label value is one of a fixed few (reconciler names, placement callers,
//! file names the binary chose), so no request can grow the number of series.
//!
//! Not here: request counts and latencies (the edge's), rendering (the edge's).

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Buckets of the control plane's durations: 50 µs to about 13 s (powers of 2).
fn duration_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 19))
}

/// Buckets of counts per group commit: 1 to 4096.
fn size_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcilerLabels {
    /// `service`, `daemon`, `retention`, `liveness`, `draining` or `log_retention`.
    pub reconciler: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PlacementLabels {
    /// `run_task` (RunTask and StartTask) or `service` (the service reconciler's launches).
    pub caller: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LogSourceLabels {
    /// `agent` (the awslogs channel) or `put_log_events`.
    pub source: &'static str,
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// The control plane's metric definitions; cheap handles that share their values with the
/// registry they are registered in.
#[derive(Debug)]
pub struct ControlMetrics {
    reconciler_pass: HistogramFamily<ReconcilerLabels>,
    placement: HistogramFamily<PlacementLabels>,
    pub(crate) commit: CommitMetrics,
    log_lines_received: Counter,
    log_bytes_received: Counter,
    log_events_stored: Family<LogSourceLabels, Counter>,
    store_files: Arc<StoreFiles>,
    /// How long after its due time each schedule firing called RunTask.
    schedule_lateness: Histogram,
}

/// What the committer thread records of each group commit.
#[derive(Debug, Clone)]
pub(crate) struct CommitMetrics {
    pub duration: Histogram,
    pub batches: Histogram,
    pub operations: Histogram,
}

impl Default for ControlMetrics {
    fn default() -> Self {
        ControlMetrics {
            reconciler_pass: Family::new_with_constructor(duration_buckets),
            placement: Family::new_with_constructor(duration_buckets),
            commit: CommitMetrics { duration: duration_buckets(), batches: size_buckets(), operations: size_buckets() },
            log_lines_received: Counter::default(),
            log_bytes_received: Counter::default(),
            log_events_stored: Family::default(),
            store_files: Arc::default(),
            schedule_lateness: duration_buckets(),
        }
    }
}

impl ControlMetrics {
    /// A schedule firing called RunTask `lateness_ms` after it was due.
    pub(crate) fn schedule_firing_lateness(&self, lateness_ms: i64) {
        self.schedule_lateness.observe(lateness_ms.max(0) as f64 / 1000.0);
    }

    /// Registers every metric of the control plane with `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "berth_schedule_firing_lateness_seconds",
            "How long after its due time an EventBridge Scheduler firing called RunTask",
            self.schedule_lateness.clone(),
        );
        registry.register(
            "berth_reconciler_pass_duration_seconds",
            "How long one pass of a background reconciler took",
            self.reconciler_pass.clone(),
        );
        registry.register(
            "berth_placement_duration_seconds",
            "How long placing one request's tasks on container instances took",
            self.placement.clone(),
        );
        registry.register(
            "berth_store_commit_duration_seconds",
            "How long one group commit to the store took, fsync included",
            self.commit.duration.clone(),
        );
        registry.register(
            "berth_store_commit_batches",
            "Writers' batches made durable by one group commit",
            self.commit.batches.clone(),
        );
        registry.register(
            "berth_store_commit_operations",
            "Rows put or deleted by one group commit",
            self.commit.operations.clone(),
        );
        registry.register(
            "berth_log_lines_received",
            "Log lines agents shipped over the awslogs channel",
            self.log_lines_received.clone(),
        );
        registry.register(
            "berth_log_bytes_received",
            "Bytes of log messages agents shipped over the awslogs channel",
            self.log_bytes_received.clone(),
        );
        registry.register(
            "berth_log_events_stored",
            "Log events stored, by where they came from",
            self.log_events_stored.clone(),
        );
        registry.register_collector(Box::new(Arc::clone(&self.store_files)));
    }

    /// Measures a file's size on every scrape as `berth_store_file_size_bytes{file=NAME}`.
    pub fn watch_store_file(&self, name: &'static str, path: PathBuf) {
        self.store_files.files.lock().push((name, path));
    }

    /// Records the pass's duration when the returned guard is dropped.
    pub(crate) fn reconciler_pass(&self, reconciler: &'static str) -> Timer {
        Timer {
            histogram: self.reconciler_pass.get_or_create_owned(&ReconcilerLabels { reconciler }),
            started: Instant::now(),
        }
    }

    /// Records the placement's duration when the returned guard is dropped.
    pub(crate) fn placement(&self, caller: &'static str) -> Timer {
        Timer { histogram: self.placement.get_or_create_owned(&PlacementLabels { caller }), started: Instant::now() }
    }

    /// An agent's batch of `lines` lines, `bytes` bytes of messages, of which `stored` were new.
    pub(crate) fn agent_logs_received(&self, lines: usize, bytes: usize, stored: usize) {
        self.log_lines_received.inc_by(lines as u64);
        self.log_bytes_received.inc_by(bytes as u64);
        self.log_events_stored.get_or_create(&LogSourceLabels { source: "agent" }).inc_by(stored as u64);
    }

    pub(crate) fn put_log_events_stored(&self, stored: usize) {
        self.log_events_stored.get_or_create(&LogSourceLabels { source: "put_log_events" }).inc_by(stored as u64);
    }
}

/// Observes the time since it was made into its histogram when dropped.
pub(crate) struct Timer {
    histogram: Histogram,
    started: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

/// The files whose sizes are read at scrape time.
#[derive(Debug, Default)]
struct StoreFiles {
    files: Mutex<Vec<(&'static str, PathBuf)>>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileLabels {
    file: &'static str,
}

impl Collector for StoreFiles {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let files = self.files.lock();
        if files.is_empty() {
            return Ok(());
        }
        let sizes: Family<FileLabels, Gauge> = Family::default();
        for (name, path) in files.iter() {
            // A file that cannot be read (not created yet) is left out rather than shown as 0.
            if let Ok(metadata) = std::fs::metadata(path) {
                sizes.get_or_create(&FileLabels { file: name }).set(i64::try_from(metadata.len()).unwrap_or(i64::MAX));
            }
        }
        let metric = encoder.encode_descriptor(
            "berth_store_file_size_bytes",
            "Size on disk of the store's files",
            None,
            sizes.metric_type(),
        )?;
        sizes.encode(metric)
    }
}
