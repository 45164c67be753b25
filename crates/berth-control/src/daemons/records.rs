//! The durable daemon records: the daemon (its configuration and the planner's progress),
//! its revisions (immutable snapshots taken when a deployment starts) and its deployments.
//!
//! Invariant: a daemon's tasks are the task group [`DaemonRecord::group`] of its cluster and
//! carry the planner deployment that started them as `startedBy`; each deployment record names
//! that planner deployment, so tasks, deployments and revisions link without another index.

use berth_planner::{DeploymentId, ServiceProgress, TaskDefinitionKey};
use berth_types::{ClusterName, DaemonName, Tag, Timestamp};
use serde::{Deserialize, Serialize};

/// `DaemonStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DaemonStatus {
    Active,
    /// DeleteDaemon was called; the record goes once its tasks have stopped.
    DeleteInProgress,
}

impl DaemonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DaemonStatus::Active => "ACTIVE",
            DaemonStatus::DeleteInProgress => "DELETE_IN_PROGRESS",
        }
    }
}

/// `DaemonDeploymentConfiguration`, as accepted (alarms may be named but not enabled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonDeploymentSettings {
    /// Percentage of the daemon's instances whose task may be down at once during a roll.
    pub drain_percent: f64,
    pub bake_time_in_minutes: u32,
    pub alarm_names: Vec<String>,
}

impl Default for DaemonDeploymentSettings {
    /// As a DAEMON service's default `minimumHealthyPercent` of 0: every instance may roll at once.
    fn default() -> Self {
        DaemonDeploymentSettings { drain_percent: 100.0, bake_time_in_minutes: 0, alarm_names: vec![] }
    }
}

/// What the user configured (CreateDaemon, replaced whole by UpdateDaemon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonConfiguration {
    pub task_definition: TaskDefinitionKey,
    /// Capacity provider names; the daemon runs on every instance that joined one of them.
    pub capacity_providers: Vec<String>,
    pub deployment: DaemonDeploymentSettings,
    /// `propagateTags: DAEMON`: the daemon's tags go on each task it starts.
    pub propagate_tags: bool,
    pub enable_ecs_managed_tags: bool,
    pub enable_execute_command: bool,
    pub critical: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonRecord {
    pub cluster: ClusterName,
    pub name: DaemonName,
    pub status: DaemonStatus,
    pub configuration: DaemonConfiguration,
    /// The pure planner's memory, as for a DAEMON service.
    pub progress: ServiceProgress,
    /// The newest deployment (create, update or delete) and the revision it deploys.
    pub deployment_id: String,
    pub revision_id: String,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub client_token: Option<String>,
}

impl DaemonRecord {
    pub fn key(cluster: &ClusterName, name: &DaemonName) -> String {
        format!("{cluster}/{name}")
    }

    /// The task group of the daemon's tasks (ECS services use `service:NAME`).
    pub fn group(name: &DaemonName) -> String {
        format!("daemon:{name}")
    }
}

/// The key of a revision or deployment: `cluster/daemon/id`.
pub fn history_key(cluster: &ClusterName, daemon: &DaemonName, id: &str) -> String {
    format!("{cluster}/{daemon}/{id}")
}

/// A daemon revision: the configuration a deployment rolls out, never changed afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonRevisionRecord {
    pub cluster: ClusterName,
    pub daemon: DaemonName,
    pub id: String,
    pub task_definition: TaskDefinitionKey,
    /// Each container's name and image.
    pub container_images: Vec<(String, String)>,
    pub capacity_providers: Vec<String>,
    pub propagate_tags: bool,
    pub enable_ecs_managed_tags: bool,
    pub enable_execute_command: bool,
    pub critical: bool,
    pub created_at: Timestamp,
}

impl DaemonRevisionRecord {
    pub fn key(&self) -> String {
        history_key(&self.cluster, &self.daemon, &self.id)
    }
}

/// `DaemonDeploymentStatus` (Berth never uses STOP_REQUESTED or the rollback statuses: daemon
/// deployments have no circuit breaker or alarms here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DaemonDeploymentStatus {
    Pending,
    InProgress,
    Successful,
    Stopped,
    StopRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
}

impl DaemonDeploymentStatus {
    pub const ALL: [DaemonDeploymentStatus; 8] = [
        DaemonDeploymentStatus::Pending,
        DaemonDeploymentStatus::InProgress,
        DaemonDeploymentStatus::Successful,
        DaemonDeploymentStatus::Stopped,
        DaemonDeploymentStatus::StopRequested,
        DaemonDeploymentStatus::RollbackInProgress,
        DaemonDeploymentStatus::RollbackSuccessful,
        DaemonDeploymentStatus::RollbackFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DaemonDeploymentStatus::Pending => "PENDING",
            DaemonDeploymentStatus::InProgress => "IN_PROGRESS",
            DaemonDeploymentStatus::Successful => "SUCCESSFUL",
            DaemonDeploymentStatus::Stopped => "STOPPED",
            DaemonDeploymentStatus::StopRequested => "STOP_REQUESTED",
            DaemonDeploymentStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            DaemonDeploymentStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            DaemonDeploymentStatus::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == value)
    }

    pub fn is_open(self) -> bool {
        matches!(self, DaemonDeploymentStatus::Pending | DaemonDeploymentStatus::InProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonDeploymentRecord {
    pub cluster: ClusterName,
    pub daemon: DaemonName,
    /// The planner deployment's 19 digits (its tasks' `startedBy` is `ecs-svc/` and these).
    pub id: String,
    pub status: DaemonDeploymentStatus,
    pub status_reason: String,
    /// The revision rolled out; `None` for the deployment of DeleteDaemon, which only drains.
    pub target_revision: Option<String>,
    /// The revisions that were running when it started.
    pub source_revisions: Vec<String>,
    pub settings: DaemonDeploymentSettings,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl DaemonDeploymentRecord {
    pub fn key(&self) -> String {
        history_key(&self.cluster, &self.daemon, &self.id)
    }

    /// The planner deployment whose tasks this deployment started.
    pub fn planner_id(&self) -> Option<DeploymentId> {
        DeploymentId::parse(&format!("ecs-svc/{}", self.id))
    }
}

/// The history ID of a planner deployment: its digits.
pub fn deployment_history_id(id: &DeploymentId) -> String {
    id.as_str().trim_start_matches("ecs-svc/").to_string()
}
