//! The protocol between the control plane and an agent, over HTTP/JSON on the server's
//! listen address. An agent registers itself through the ECS API's own
//! `RegisterContainerInstance` (as the ECS agent does), then uses the two endpoints here:
//!
//! - `GET  /agent/v1/clusters/{cluster}/instances/{id}/desired?after={generation}[&changes_only=true]`
//!   — long poll. Answers at once with the [`DesiredDocument`] when the server's generation is
//!   newer than `after`, otherwise waits up to [`LONG_POLL_SECONDS`] and answers with the
//!   current one. The document is whole unless `changes_only=true` and `after` is a generation
//!   the server can answer from; then it lists only the tasks that changed after `after` (new
//!   ones, and ones whose desired status moved) and says `complete: false`. Every poll counts
//!   as a heartbeat.
//! - `POST /agent/v1/clusters/{cluster}/instances/{id}/report` — a [`StateReport`] with the
//!   observed state of some or all of the instance's tasks. Idempotent: reporting the same
//!   state twice changes nothing, and a task's `lastStatus` never moves backwards.
//!
//! The awslogs channel ([`logs`]) and the usage channel ([`usage`]) live under the same prefix.
//!
//! The poll, the report and the usage channel answer `410 Gone` when the instance has been
//! deregistered (the agent then registers afresh) and `404` for an unknown cluster or instance.
//!
//! Invariant: a document with generation G, applied on top of everything the agent applied up
//! to the `after` it asked with, tells the agent every task it must know as of G; the agent
//! converges to the newest document it has seen and ignores older ones. Only a complete
//! document may make the agent stop a task by leaving it out.

use berth_types::records::{ContainerState, TaskRecord};
use berth_types::spec::TaskSpec;
use berth_types::{DesiredStatus, TaskStatus, TaskStopCode, Timestamp};
use serde::{Deserialize, Serialize};

/// How long the server holds a desired-state poll open before answering unchanged.
pub const LONG_POLL_SECONDS: u64 = 20;

/// Docker label keys an agent puts on every container it creates. They let a restarted agent
/// find and adopt its containers, and keep two agents on one host apart.
pub mod labels {
    pub const CLUSTER: &str = "com.amazonaws.ecs.cluster";
    pub const TASK_ARN: &str = "com.amazonaws.ecs.task-arn";
    pub const CONTAINER_NAME: &str = "com.amazonaws.ecs.container-name";
    pub const TASK_FAMILY: &str = "com.amazonaws.ecs.task-definition-family";
    pub const TASK_REVISION: &str = "com.amazonaws.ecs.task-definition-version";
    /// The container instance that owns the container: an agent touches only its own.
    pub const CONTAINER_INSTANCE: &str = "dev.berth.container-instance";
}

/// What the server wants running on one container instance: everything, or (asked for with
/// `changes_only=true`) the tasks that changed since the agent's generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredDocument {
    /// Grows whenever anything in the document changes.
    pub generation: u64,
    pub tasks: Vec<DesiredTask>,
    /// Whether `tasks` is every task of the instance, so that a task missing from it is not
    /// wanted. A document without the field (an older server) is complete.
    #[serde(default = "complete_by_default")]
    pub complete: bool,
}

fn complete_by_default() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredTask {
    pub task_arn: String,
    pub spec: TaskSpec,
    pub desired_status: DesiredStatus,
    /// What the server last recorded, so that a restarted agent knows what it already reported.
    pub last_status: TaskStatus,
}

/// Observed state of tasks on one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateReport {
    pub tasks: Vec<TaskReport>,
}

/// One task's observed state. Fields left `None` keep what the server already has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    pub task_arn: String,
    pub last_status: TaskStatus,
    pub containers: Vec<ContainerState>,
    pub pull_started_at: Option<Timestamp>,
    pub pull_stopped_at: Option<Timestamp>,
    /// When the task reached RUNNING.
    pub started_at: Option<Timestamp>,
    /// When the last container stopped.
    pub execution_stopped_at: Option<Timestamp>,
    /// Set by the agent when *it* decided the task stops (an essential container exited, a
    /// container failed to start or to pull); a user's or scheduler's stop already carries one.
    pub stop_code: Option<TaskStopCode>,
    pub stopped_reason: Option<String>,
}

/// The answer to a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportResponse {
    /// Tasks the server does not know on this instance. The agent stops and removes their
    /// containers: they were never acknowledged to anyone, so nothing may keep them running.
    pub unknown_tasks: Vec<String>,
}

impl DesiredTask {
    pub fn from_record(task_arn: String, record: &TaskRecord) -> Self {
        DesiredTask {
            task_arn,
            spec: record.spec.clone(),
            // A deactivating task keeps running until its load balancers have drained it.
            desired_status: record.agent_desired_status(),
            last_status: record.last_status,
        }
    }
}

/// The `awslogs` log driver's channel: an agent ships each container's output to the log
/// group and stream its definition names, and the server is the checkpoint.
///
/// - `POST /agent/v1/clusters/{cluster}/instances/{id}/logs/open` — an [`OpenLogStream`]:
///   creates the stream (and, with `create_group`, the group) if it is missing and answers a
///   [`LogPosition`]: the Docker timestamp of the last line the server holds for the stream.
///   `404` with a CloudWatch Logs message when the group does not exist and may not be made.
/// - `POST /agent/v1/clusters/{cluster}/instances/{id}/logs` — a [`LogBatch`], answered with
///   the new [`LogPosition`] once the lines are durable.
///
/// Invariant: the server stores a line only if its `source_ns` is after the stream's
/// position, so a batch sent twice (an agent that died before it heard the answer, a retry)
/// stores nothing twice; an agent that resumes from the position it is told loses nothing
/// that Docker still holds.
pub mod logs {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OpenLogStream {
        pub log_group: String,
        pub log_stream: String,
        /// `awslogs-create-group: true`.
        #[serde(default)]
        pub create_group: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct LogBatch {
        pub log_group: String,
        pub log_stream: String,
        /// In the order Docker gave them; `source_ns` never decreases.
        pub lines: Vec<LogLine>,
        /// Set once when the agent saw that Docker no longer holds lines it had not shipped
        /// (rotated away while the agent was gone): the server records it in the stream.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub gap_before: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct LogLine {
        /// Docker's timestamp of the line, nanoseconds since the Unix epoch; the event's
        /// `timestamp` is this in milliseconds.
        pub source_ns: i64,
        pub message: String,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct LogPosition {
        /// The `source_ns` of the last line stored for the stream; `None` for a new stream.
        pub position_ns: Option<i64>,
    }
}

/// The usage channel: every few seconds an agent reports what each running container of its
/// tasks used, and the server turns the reports into the CloudWatch datapoints ECS publishes
/// (`AWS/ECS`, and `ECS/ContainerInsights` when the cluster enables it).
///
/// - `POST /agent/v1/clusters/{cluster}/instances/{id}/usage` — a [`UsageReport`], answered
///   `204 No Content` once the server took it; `404`/`410` as the other agent endpoints.
///
/// Metrics are best effort: an agent never resends a report the server did not take, and the
/// server drops samples of tasks it does not know on the instance (or that are not RUNNING).
/// A sample covers the interval since the agent's previous sample of the same container, so a
/// container's first sample is taken but never sent.
pub mod usage {
    use serde::{Deserialize, Serialize};

    /// One sampling tick of one agent: a sample per running container.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct UsageReport {
        pub samples: Vec<ContainerUsage>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ContainerUsage {
        pub task_arn: String,
        pub container_name: String,
        /// When the sample was taken, milliseconds since the Unix epoch.
        pub timestamp_ms: i64,
        /// How long the interval this sample averages over was, in milliseconds.
        pub interval_ms: u64,
        /// CPU used on average over the interval, in CPU units (1024 = one core busy).
        pub cpu_units_used: f64,
        /// Memory in use less the page cache the kernel may reclaim (cgroup `inactive_file`),
        /// as `docker stats` shows it.
        pub memory_bytes: u64,
        /// Cumulative bytes over every interface of the container since it started.
        pub network_rx_bytes: u64,
        pub network_tx_bytes: u64,
        /// The same counters as rates over the interval, in bytes per second (0 when a
        /// counter went backwards), so that the server needs no memory of earlier reports.
        pub network_rx_bytes_per_second: f64,
        pub network_tx_bytes_per_second: f64,
    }
}
