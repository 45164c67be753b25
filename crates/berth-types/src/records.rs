//! The records the control plane stores: desired state written by API actions and observed
//! state reported by agents, side by side on the same record.

use crate::ids::{ClusterName, ContainerInstanceId, TaskDefinitionFamily, TaskId};
use crate::resources::{PortProtocol, Resources};
use crate::spec::TaskSpec;
use crate::status::{
    ClusterStatus, ContainerInstanceStatus, DesiredStatus, HealthStatus, TaskDefinitionStatus, TaskStatus, TaskStopCode,
};
use crate::time::Timestamp;
use crate::{Attribute, Tag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    pub name: ClusterName,
    pub status: ClusterStatus,
    pub tags: Vec<Tag>,
    /// `containerInsights` and any other cluster settings, by name.
    pub settings: BTreeMap<String, String>,
    pub created_at: Timestamp,
    /// Capacity providers associated with the cluster (PutClusterCapacityProviders).
    #[serde(default)]
    pub capacity_providers: Vec<String>,
    /// Used by RunTask and CreateService when they name neither a launch type nor a strategy.
    #[serde(default)]
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
}

/// One entry of a capacity provider strategy: `base` tasks first, the rest split by `weight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityProviderStrategyItem {
    pub capacity_provider: String,
    pub weight: u32,
    pub base: u32,
}

/// A named pool of container instances; agents join one by configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityProviderRecord {
    pub name: String,
    /// ACTIVE, or INACTIVE once deleted.
    pub active: bool,
    pub update_status: String,
    /// Why the last update failed (`DELETE_FAILED` while a cluster still uses the provider).
    #[serde(default)]
    pub update_status_reason: Option<String>,
    /// The `autoScalingGroupProvider` as given, echoed by describe (Berth scales nothing).
    pub auto_scaling_group_provider: Option<serde_json::Value>,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinitionRecord {
    pub family: TaskDefinitionFamily,
    pub revision: u32,
    pub status: TaskDefinitionStatus,
    pub spec: TaskSpec,
    /// The registered definition in the edge's own rendering, kept verbatim so that describe
    /// shows exactly what was registered (including members Berth does not act on).
    pub document: serde_json::Value,
    pub tags: Vec<Tag>,
    pub registered_at: Timestamp,
    pub deregistered_at: Option<Timestamp>,
}

/// A host port bound to a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkBinding {
    pub bind_ip: String,
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: PortProtocol,
}

/// One container of a task, as last reported by its agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub name: String,
    /// The Docker container ID, once created.
    pub runtime_id: Option<String>,
    pub last_status: TaskStatus,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub network_bindings: Vec<NetworkBinding>,
    pub health_status: HealthStatus,
    pub image_digest: Option<String>,
}

impl ContainerState {
    /// A container at `last_status` with nothing else known yet: no Docker ID, exit code,
    /// bindings or digest, and health UNKNOWN.
    pub fn new(name: impl Into<String>, last_status: TaskStatus) -> Self {
        ContainerState {
            name: name.into(),
            runtime_id: None,
            last_status,
            exit_code: None,
            reason: None,
            network_bindings: vec![],
            health_status: HealthStatus::Unknown,
            image_digest: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: TaskId,
    pub cluster: ClusterName,
    pub family: TaskDefinitionFamily,
    pub revision: u32,
    pub container_instance: ContainerInstanceId,
    /// The definition with overrides applied: what the agent runs.
    pub spec: TaskSpec,
    /// Held on the instance while the task is not STOPPED.
    pub demand: Resources,
    /// The request's `overrides` in the edge's rendering, echoed back by describe.
    pub overrides: serde_json::Value,
    pub last_status: TaskStatus,
    pub desired_status: DesiredStatus,
    pub started_by: Option<String>,
    pub group: String,
    pub launch_type: String,
    /// Set when the task was launched through a capacity provider strategy.
    #[serde(default)]
    pub capacity_provider: Option<String>,
    pub containers: Vec<ContainerState>,
    pub health_status: HealthStatus,
    pub created_at: Timestamp,
    pub pull_started_at: Option<Timestamp>,
    pub pull_stopped_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub stopping_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    pub execution_stopped_at: Option<Timestamp>,
    pub stop_code: Option<TaskStopCode>,
    pub stopped_reason: Option<String>,
    /// Grows by one on every change a user could see.
    pub version: u64,
    pub tags: Vec<Tag>,
    /// The instance's desired generation at which this task last changed in a way its agent
    /// acts on (it appeared, or its desired status moved), so an agent can be sent only what
    /// changed since the generation it has. 0 (records from before this field) means unknown.
    #[serde(default)]
    pub desired_generation: u64,
    /// Launched with `enableExecuteCommand` (a service's tasks inherit the service's flag):
    /// only such tasks accept ExecuteCommand.
    // Absent when false: every task record is written often, and most never enable exec.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_execute_command: bool,
    /// Scale-in protection (UpdateTaskProtection) holds until this instant; `None` when it was
    /// never set or was disabled. Protection is enabled while this lies in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_until: Option<Timestamp>,
    /// Desired STOPPED while its load balancers drain it: until this instant the agent is told
    /// to keep it running (ECS's DEACTIVATING), so requests in flight finish. `None` once the
    /// agent may stop it, and for every task without load balancer targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivating_until: Option<Timestamp>,
    /// The load balancer targets its service registered it as (written with the registration,
    /// so deregistration and health never depend on a configuration that may have changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_targets: Vec<TaskTarget>,
}

/// One ELBv2 target a service task is registered as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTarget {
    pub target_group_arn: String,
    /// The instance's EC2 instance ID (target type `instance`).
    pub id: String,
    pub port: u16,
}

impl TaskRecord {
    /// Whether the task still holds resources on its instance.
    pub fn holds_resources(&self) -> bool {
        self.last_status != TaskStatus::Stopped
    }

    /// The desired status its agent acts on: RUNNING while the task is deactivating.
    pub fn agent_desired_status(&self) -> DesiredStatus {
        if self.deactivating_until.is_some() {
            DesiredStatus::Running
        } else {
            self.desired_status
        }
    }

    /// The status DescribeTasks shows: DEACTIVATING while load balancers drain a RUNNING task.
    pub fn shown_last_status(&self) -> TaskStatus {
        if self.deactivating_until.is_some() && self.last_status == TaskStatus::Running {
            TaskStatus::Deactivating
        } else {
            self.last_status
        }
    }
}

impl ContainerInstanceRecord {
    /// Every attribute the instance shows: the agent's, overlaid with PutAttributes ones.
    pub fn effective_attributes(&self) -> Vec<Attribute> {
        let mut attributes: Vec<Attribute> = self
            .attributes
            .iter()
            .filter(|attribute| !self.custom_attributes.iter().any(|custom| custom.name == attribute.name))
            .cloned()
            .collect();
        attributes.extend(self.custom_attributes.iter().cloned());
        attributes
    }
}

/// The agent software and Docker versions an instance reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub agent_version: Option<String>,
    pub agent_hash: Option<String>,
    pub docker_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerInstanceRecord {
    pub id: ContainerInstanceId,
    pub cluster: ClusterName,
    /// The host's identity as its agent reported it (stable across agent restarts).
    pub ec2_instance_id: String,
    pub status: ContainerInstanceStatus,
    pub status_reason: Option<String>,
    pub registered: Resources,
    /// Attributes the agent registered (built-in ones and its configured custom ones).
    pub attributes: Vec<Attribute>,
    /// Attributes set through PutAttributes. They survive the agent's re-registration and win
    /// over an agent attribute of the same name.
    #[serde(default)]
    pub custom_attributes: Vec<Attribute>,
    /// The capacity provider the agent joined, if any.
    #[serde(default)]
    pub capacity_provider: Option<String>,
    pub version_info: VersionInfo,
    pub registered_at: Timestamp,
    pub tags: Vec<Tag>,
    /// Grows by one on every change a user could see.
    pub version: u64,
    /// Generation of the desired document sent to this instance's agent; grows whenever the
    /// instance's set of tasks or any of their desired statuses changes. Durable, so it keeps
    /// growing across server restarts and an agent never mistakes a new document for an old one.
    pub desired_generation: u64,
}
