//! The `awslogs` log driver, agent side: Docker keeps an awslogs container's output in
//! json-file (`crate::container_config`), and a shipper per container follows that output and
//! ships it to the server's CloudWatch Logs store over the agent protocol's log channel
//! (`berth_agent_protocol::logs`).
//!
//! - `config`: the definition's `awslogs-*` options, parsed once ([`AwslogsConfig`]), and
//!   the stream's name; `strftime`: `awslogs-datetime-format` as a regular expression.
//! - `events`: lines into events (multiline grouping, CloudWatch's size limit).
//! - `batch`: events waiting to ship, cut into batches within CloudWatch's limits.
//! - `shipper`: one container's loop (open, follow, batch, ship, retry, resume).
//! - `sink`: the [`LogSink`] trait and [`ServerLogSink`] over the agent's `ServerClient`;
//!   `memory_sink`: [`MemoryLogSink`] for tests.
//! - [`LogShippers`] (here): the registry, one shipper per Docker container ID.
//!
//! Invariants: the server is the checkpoint — a shipper resumes at the position the server
//! holds and the server stores only lines after it, so restarts of agent or server lose
//! nothing Docker still holds and duplicate nothing. At most one shipper runs per container,
//! and a container is removed only after its shipper finished (the task runner's cleanup
//! waits for [`LogShippers::finished`]).
//!
//! Lines Docker rotated away before they were read (the shipper far behind, or no agent
//! running, for longer than json-file's 1 GiB lasts) are reported by the runtime on the next
//! line (`ContainerLogLine::lines_lost_before`), and the stream says so once
//! (`LogBatch::gap_before`, stored as an event before that line).
//!
//! Deliberately not here: shipping for orphaned containers, which are removed unshipped.

mod batch;
mod config;
mod events;
pub mod memory_sink;
mod shipper;
mod sink;
mod strftime;

#[cfg(test)]
mod tests;

pub use config::{AwslogsConfig, ConfigError, DeliveryMode, StreamName, AWSLOGS_DRIVER};
pub use memory_sink::MemoryLogSink;
pub use shipper::{ship_container_logs, ShipperJob, ShipperOutcome, EVENT_IDLE_FLUSH, FLUSH_AFTER};
pub use sink::{refusal_message, LogSink, ServerLogSink, SinkError};

use crate::runtime::ContainerRuntime;
use berth_agent_protocol::logs::OpenLogStream;
use berth_types::spec::ContainerSpec;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// What shipping `container` (of the task `task_arn`, Docker ID `container_id`) takes:
/// `None` when it does not log with `awslogs`, a refusal when its options are invalid.
pub fn job_for(
    task_arn: &str,
    container: &ContainerSpec,
    container_id: &str,
) -> Option<Result<ShipperJob, ConfigError>> {
    let configuration = container.log_configuration.as_ref().filter(|config| config.driver == AWSLOGS_DRIVER)?;
    Some(AwslogsConfig::parse(&configuration.options).map(|config| ShipperJob {
        container_id: container_id.to_string(),
        stream: OpenLogStream {
            log_group: config.group.clone(),
            log_stream: config.stream_name(task_arn, &container.name, container_id),
            create_group: config.create_group,
        },
        event_start: config.event_start,
    }))
}

/// The shippers of this agent, by Docker container ID. A container gets one shipper however
/// often it is asked for (a restarted runner, an adopted container, a re-inspect); it is
/// forgotten when the container is removed.
pub struct LogShippers {
    runtime: Arc<dyn ContainerRuntime>,
    sink: Arc<dyn LogSink>,
    shippers: Mutex<HashMap<String, ShipperHandle>>,
}

struct ShipperHandle {
    outcome: watch::Receiver<Option<ShipperOutcome>>,
    abort: AbortHandle,
}

impl LogShippers {
    pub fn new(runtime: Arc<dyn ContainerRuntime>, sink: Arc<dyn LogSink>) -> Self {
        LogShippers { runtime, sink, shippers: Mutex::new(HashMap::new()) }
    }

    pub fn sink(&self) -> &dyn LogSink {
        self.sink.as_ref()
    }

    /// Starts shipping `job`'s container unless a shipper runs (or ran) for it. True if
    /// this call started one.
    pub fn ensure(&self, job: ShipperJob) -> bool {
        let mut shippers = self.shippers.lock();
        if shippers.contains_key(&job.container_id) {
            return false;
        }
        let container_id = job.container_id.clone();
        let (report, outcome) = watch::channel(None);
        let (runtime, sink) = (Arc::clone(&self.runtime), Arc::clone(&self.sink));
        let id = container_id.clone();
        let task = tokio::spawn(async move {
            let outcome = ship_container_logs(runtime, sink, job).await;
            tracing::debug!(container = %id, ?outcome, "log shipper finished");
            report.send_replace(Some(outcome));
        });
        shippers.insert(container_id, ShipperHandle { outcome, abort: task.abort_handle() });
        true
    }

    /// Waits until the shipper of `container_id` finished: the container stopped and its
    /// last line was acknowledged (or the sink refused the stream). `None` at once when no
    /// shipper runs for it, or when its shipper was aborted.
    pub async fn finished(&self, container_id: &str) -> Option<ShipperOutcome> {
        let mut outcome = self.shippers.lock().get(container_id)?.outcome.clone();
        let finished = outcome.wait_for(Option::is_some).await.ok()?.clone();
        finished
    }

    /// Forgets the container (removed), stopping its shipper if it still runs.
    pub fn forget(&self, container_id: &str) {
        if let Some(shipper) = self.shippers.lock().remove(container_id) {
            shipper.abort.abort();
        }
    }

    /// How many containers have a shipper, running or finished.
    pub fn len(&self) -> usize {
        self.shippers.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every shipper (the agent is going away; a restarted agent resumes them from the
    /// server's positions).
    pub fn abort_all(&self) {
        for (_, shipper) in self.shippers.lock().drain() {
            shipper.abort.abort();
        }
    }
}

impl Drop for LogShippers {
    fn drop(&mut self) {
        self.abort_all();
    }
}
