//! Application Auto Scaling as the control plane's store keeps it: scalable targets, their
//! scaling policies, scheduled actions and scaling activities. Values here are already
//! validated (`targets`, `policies`, `scheduled_actions` parse the requests).

use berth_types::{ClusterName, ServiceName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only namespace and dimension Berth scales: an ECS service's desired count.
pub const ECS_NAMESPACE: &str = "ecs";
pub const ECS_DESIRED_COUNT: &str = "ecs:service:DesiredCount";

/// What a target scales: `service/<cluster>/<service>` in the `ecs` namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TargetKey {
    pub cluster: ClusterName,
    pub service: ServiceName,
}

impl TargetKey {
    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.service)
    }

    /// The store key: the resource ID, which holds the namespace and dimension implicitly.
    pub fn store_key(&self) -> String {
        self.resource_id()
    }

    /// How AWS names a target in its messages.
    pub fn describe(&self) -> String {
        format!(
            "service namespace: {ECS_NAMESPACE}, resource ID: {}, scalable dimension: {ECS_DESIRED_COUNT}",
            self.resource_id()
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspendedState {
    pub dynamic_in: bool,
    pub dynamic_out: bool,
    pub scheduled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalableTargetRecord {
    pub key: TargetKey,
    pub arn: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub role_arn: String,
    pub suspended: SuspendedState,
    pub created_ms: i64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdjustmentType {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregation {
    Average,
    Minimum,
    Maximum,
}

/// One row of a step policy's table: bounds are relative to the alarm's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAdjustment {
    pub lower_bound: Option<f64>,
    pub upper_bound: Option<f64>,
    pub adjustment: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepConfig {
    pub adjustment_type: AdjustmentType,
    pub steps: Vec<StepAdjustment>,
    pub min_adjustment_magnitude: Option<i32>,
    pub cooldown_seconds: Option<u32>,
    pub aggregation: Option<Aggregation>,
}

/// A metric of a customized target tracking specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRef {
    pub namespace: String,
    pub metric_name: String,
    /// In the order given.
    pub dimensions: Vec<(String, String)>,
}

/// One query of a customized specification's `Metrics` (metric math).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingQuery {
    pub id: String,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
    /// The metric, its statistic and unit.
    pub metric_stat: Option<(MetricRef, String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TrackedMetric {
    Predefined { metric_type: String, resource_label: Option<String> },
    Single { metric: MetricRef, statistic: String, unit: Option<String> },
    Math { queries: Vec<TrackingQuery> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingConfig {
    pub target_value: f64,
    pub metric: TrackedMetric,
    pub scale_out_cooldown: Option<u32>,
    pub scale_in_cooldown: Option<u32>,
    pub disable_scale_in: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyConfig {
    Step(StepConfig),
    TargetTracking(TrackingConfig),
}

impl PolicyConfig {
    pub fn type_name(&self) -> &'static str {
        match self {
            PolicyConfig::Step(_) => "StepScaling",
            PolicyConfig::TargetTracking(_) => "TargetTrackingScaling",
        }
    }
}

/// A CloudWatch alarm a policy is attached to (target tracking: the alarms it owns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAlarm {
    pub name: String,
    pub arn: String,
}

/// When the policy last scaled, for its cooldowns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cooldowns {
    /// The last scale-out, and the capacity it started from: during the cooldown a further
    /// scale-out is computed from that capacity, so the capacity it already added counts.
    pub last_scale_out: Option<(i64, u32)>,
    pub last_scale_in_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicyRecord {
    pub target: TargetKey,
    pub name: String,
    pub arn: String,
    pub config: PolicyConfig,
    /// Target tracking: the alarms it owns (high, then low).
    pub owned_alarms: Vec<PolicyAlarm>,
    pub created_ms: i64,
    pub cooldowns: Cooldowns,
}

impl ScalingPolicyRecord {
    pub fn store_key(&self) -> String {
        policy_key(&self.target, &self.name)
    }
}

pub fn policy_key(target: &TargetKey, name: &str) -> String {
    // Resource IDs hold no NUL.
    format!("{}\u{0}{name}", target.store_key())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledActionRecord {
    pub target: TargetKey,
    pub name: String,
    pub arn: String,
    /// As given (`at(...)`, `rate(...)`, `cron(...)`); parsed again where it is used.
    pub schedule: String,
    pub timezone: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
    pub created_ms: i64,
    /// When it runs next; `None` once it never will again.
    pub next_run_ms: Option<i64>,
}

impl ScheduledActionRecord {
    pub fn store_key(&self) -> String {
        policy_key(&self.target, &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityStatus {
    InProgress,
    Successful,
    Failed,
}

impl ActivityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::InProgress => "InProgress",
            ActivityStatus::Successful => "Successful",
            ActivityStatus::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub target: TargetKey,
    /// A UUIDv7, so activities sort by when they began.
    pub id: String,
    pub description: String,
    pub cause: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub status: ActivityStatus,
    pub status_message: Option<String>,
}

impl ActivityRecord {
    pub fn store_key(&self) -> String {
        policy_key(&self.target, &self.id)
    }
}

/// Activities kept per target (AWS keeps six weeks of them).
pub const ACTIVITIES_KEPT: usize = 100;
