//! What placement is asked and what it looks at: the [`InstanceView`] of each container
//! instance and the [`PlacementRequest`] with its constraints and strategies.
//!
//! Invariant: a strategy or constraint value is always well formed (a binpack field is cpu or
//! memory, a memberOf carries a parsed expression); the wire's loose `{type, field}` and
//! `{type, expression}` pairs become these values only through `from_wire` (see `validate`).
//!
//! Not here: deciding anything — see `engine`.

use std::collections::BTreeMap;

use berth_types::{ContainerInstanceStatus, Resources};

use crate::query::Expression;

/// One container instance as placement and the query language see it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    pub id: String,
    pub status: ContainerInstanceStatus,
    pub agent_connected: bool,
    /// Registered resources less what its tasks hold; ports are the ones *taken*.
    pub remaining: Resources,
    /// Attribute name → value (`None` for an attribute registered without one).
    pub attributes: BTreeMap<String, Option<String>>,
    pub ec2_instance_id: String,
    pub agent_version: Option<String>,
    pub registered_at_epoch_ms: i64,
    pub running_tasks_count: u32,
    /// Groups of the instance's tasks that are not stopped, with how many tasks each.
    pub task_groups: BTreeMap<String, u32>,
    /// Carried for capacity-provider strategies; placement does not read it yet.
    pub capacity_provider: Option<String>,
}

/// Place `count` copies of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRequest {
    /// What one copy needs; its ports are static host ports.
    pub demand: Resources,
    pub count: usize,
    /// The task group (`family:NAME`, `service:NAME` or the caller's own), which
    /// distinctInstance, spread and `task:group` count.
    pub group: String,
    /// The request's and the task definition's constraints together (at most 10).
    pub constraints: Vec<PlacementConstraint>,
    /// Applied in order (at most 5). Empty means [`PlacementStrategy::run_task_default`].
    pub strategy: Vec<PlacementStrategy>,
    /// The task definition's `requiresAttributes`: name, and the value if one is required.
    pub required_attributes: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementConstraint {
    /// Every task of the group on a different instance, counting the group's existing tasks.
    DistinctInstance,
    /// Only instances the expression matches.
    MemberOf(Expression),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementStrategy {
    /// Prefer the instance with the least remaining amount that still fits.
    Binpack(BinpackField),
    /// Prefer the instances whose value of the field holds the fewest tasks of the group.
    Spread(SpreadField),
    /// Choose uniformly among the instances still in the running (seeded).
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinpackField {
    Cpu,
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadField {
    InstanceId,
    /// ECS's alias of `instanceId`.
    Host,
    /// `attribute:NAME`. Counts the group's tasks on every instance given, candidate or not;
    /// instances without the attribute share one "no value" bucket.
    Attribute(String),
}

impl PlacementStrategy {
    /// RunTask without `placementStrategy`: ECS places randomly among the instances that
    /// satisfy the constraints.
    pub fn run_task_default() -> Vec<PlacementStrategy> {
        vec![PlacementStrategy::Random]
    }

    /// A service without `placementStrategy`: ECS's service scheduler balances tasks across
    /// Availability Zones, then onto the instances with the fewest tasks of the service.
    pub fn service_default() -> Vec<PlacementStrategy> {
        vec![
            PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".to_string())),
            PlacementStrategy::Spread(SpreadField::InstanceId),
        ]
    }
}

impl std::fmt::Display for PlacementStrategy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlacementStrategy::Binpack(BinpackField::Cpu) => formatter.write_str("binpack(cpu)"),
            PlacementStrategy::Binpack(BinpackField::Memory) => formatter.write_str("binpack(memory)"),
            PlacementStrategy::Spread(SpreadField::InstanceId) => formatter.write_str("spread(instanceId)"),
            PlacementStrategy::Spread(SpreadField::Host) => formatter.write_str("spread(host)"),
            PlacementStrategy::Spread(SpreadField::Attribute(name)) => {
                write!(formatter, "spread(attribute:{name})")
            }
            PlacementStrategy::Random => formatter.write_str("random"),
        }
    }
}
