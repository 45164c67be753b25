//! The durable records of a service's history: one [`ServiceRevisionRecord`] per
//! configuration a deployment rolled out, one [`ServiceDeploymentRecord`] per deployment
//! CreateService or UpdateService started.
//!
//! Invariant: a record is keyed `cluster/service/id` ([`history_key`]), so one service's
//! history is a contiguous range of its table; a revision never changes once written; a
//! deployment in a terminal status ([`HistoryStatus::is_terminal`]) never changes again.
//! Not here: how planner deployments move these records (`mapping`), the actions (`actions`).

use crate::services::CircuitBreakerSettings;
use berth_planner::{DeploymentId, TaskDefinitionKey};
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::{ClusterName, ServiceName, Timestamp};
use serde::{Deserialize, Serialize};

/// The key of a history record; the prefix of one service's records is [`service_prefix`].
pub fn history_key(cluster: &ClusterName, service: &ServiceName, id: &str) -> String {
    format!("{}{id}", service_prefix(cluster, service))
}

/// Neither cluster nor service names may contain `/`, so no service's prefix is another's.
pub fn service_prefix(cluster: &ClusterName, service: &ServiceName) -> String {
    format!("{cluster}/{service}/")
}

/// The ID both history records take from the planner deployment that created them: the 19
/// digits of `ecs-svc/…`.
pub fn history_id(deployment: &DeploymentId) -> String {
    deployment.as_str().trim_start_matches("ecs-svc/").to_string()
}

/// A service revision: what one deployment rolls out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRevisionRecord {
    pub id: String,
    pub cluster: ClusterName,
    pub service: ServiceName,
    pub task_definition: TaskDefinitionKey,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// `None` when a capacity provider strategy is used.
    pub launch_type: Option<String>,
    /// `(containerName, image)` of the task definition's containers.
    pub container_images: Vec<(String, String)>,
    pub created_at: Timestamp,
    /// The service's `loadBalancers` when the revision was made (gateway-managed entries
    /// included, marked with their route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<crate::services::ServiceLoadBalancer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateway_connectors: Vec<crate::gateways::connectors::GatewayConnector>,
}

impl ServiceRevisionRecord {
    pub fn key(&self) -> String {
        history_key(&self.cluster, &self.service, &self.id)
    }
}

/// `ServiceDeploymentStatus`, in ECS's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryStatus {
    Pending,
    InProgress,
    Successful,
    Stopped,
    RollbackRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
}

impl HistoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Pending => "PENDING",
            HistoryStatus::InProgress => "IN_PROGRESS",
            HistoryStatus::Successful => "SUCCESSFUL",
            HistoryStatus::Stopped => "STOPPED",
            HistoryStatus::RollbackRequested => "ROLLBACK_REQUESTED",
            HistoryStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            HistoryStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            HistoryStatus::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    /// ECS's "Completed" stage: nothing moves the deployment any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            HistoryStatus::Successful
                | HistoryStatus::Stopped
                | HistoryStatus::RollbackSuccessful
                | HistoryStatus::RollbackFailed
        )
    }
}

/// `ServiceDeploymentRollbackMonitorsStatus` of the circuit breaker, and of the deployment
/// alarms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BreakerStatus {
    #[default]
    Disabled,
    Monitoring,
    MonitoringComplete,
    Triggered,
}

impl BreakerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerStatus::Disabled => "DISABLED",
            BreakerStatus::Monitoring => "MONITORING",
            BreakerStatus::MonitoringComplete => "MONITORING_COMPLETE",
            BreakerStatus::Triggered => "TRIGGERED",
        }
    }
}

/// One revision a deployment moves from or to, with the task counts last seen for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionCounts {
    pub revision_id: String,
    /// The planner deployment whose tasks are this revision's tasks in this deployment.
    pub deployment_id: DeploymentId,
    pub requested: u32,
    pub running: u32,
    pub pending: u32,
}

/// `rollback`: why, since when, and to which revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub reason: String,
    pub started_at: Timestamp,
    /// `None` if no revision of the rollback's task definition is known (history that
    /// predates the revision records).
    pub revision_id: Option<String>,
    /// The planner deployment doing the rollback, once it exists.
    pub deployment_id: Option<DeploymentId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDeploymentRecord {
    pub id: String,
    pub cluster: ClusterName,
    pub service: ServiceName,
    /// The planner deployment rolling out the target revision.
    pub deployment_id: DeploymentId,
    pub status: HistoryStatus,
    pub status_reason: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// The revisions that had tasks when the deployment began, the previous PRIMARY first.
    pub source_revisions: Vec<RevisionCounts>,
    pub target_revision: RevisionCounts,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub circuit_breaker: CircuitBreakerSettings,
    pub breaker_status: BreakerStatus,
    pub breaker_failure_count: u32,
    pub breaker_threshold: u32,
    pub rollback: Option<RollbackRecord>,
    /// `deploymentConfiguration.alarms` when the deployment began, the alarms' monitor
    /// status, and the alarms that failed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<crate::services::DeploymentAlarmSettings>,
    #[serde(default)]
    pub alarm_status: BreakerStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggered_alarms: Vec<String>,
    /// A blue/green, linear or canary deployment's lifecycle stage and the PAUSE hooks it
    /// reached (copied from the service's traffic shift by each pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hook_runs: Vec<crate::elb::traffic_shift::HookRun>,
}

impl ServiceDeploymentRecord {
    pub fn key(&self) -> String {
        history_key(&self.cluster, &self.service, &self.id)
    }
}
