//! The working view of a cluster during one placement call: every instance's remaining
//! resources and group counts as earlier copies of the same call left them, plus what was
//! decided once per call (static rejections, spread buckets, tie-break ranks).
//!
//! Invariant: `rejection(i)` is the single definition of feasibility; both choosers and the
//! failure report use it, so "placed" and "why not" can never disagree. Within a call
//! remaining resources only shrink and group counts only grow.
//!
//! Not here: choosing among feasible instances (`scan`, `index`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use berth_types::{ContainerInstanceStatus, Resources};

use super::rng::SeededRng;
use crate::model::{BinpackField, InstanceView, PlacementConstraint, PlacementRequest, PlacementStrategy, SpreadField};
use crate::query::{Expression, Facts};
use crate::rejection::Rejection;

/// At most five strategies, so a sort key fits in a fixed array.
pub(crate) type SortKey = [i64; 5];

/// What one strategy sorts by; smaller is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrategyKey {
    RemainingCpu,
    RemainingMemory,
    /// Tasks of the group on the instance itself.
    GroupTasksOnInstance,
    /// Tasks of the group on all instances sharing the instance's value of an attribute;
    /// the index is into `WorkingCluster::spread_dimensions`.
    GroupTasksInBucket(usize),
}

/// Instances grouped by their value of one attribute, with the group's task count per value.
pub(crate) struct SpreadDimension {
    pub bucket_of: Vec<u32>,
    pub tasks_in_bucket: Vec<i64>,
}

pub(crate) struct WorkingCluster<'a> {
    pub instances: &'a [InstanceView],
    request: &'a PlacementRequest,
    /// Borrowed from the instances until a copy of this call lands on one; cloning every
    /// instance's resources up front cost more than the placement itself on large clusters.
    remaining: Vec<Cow<'a, Resources>>,
    placed: Vec<u32>,
    group_tasks: Vec<u32>,
    static_rejection: Vec<Option<Rejection>>,
    placement_dependent_member_of: Vec<&'a Expression>,
    member_of_cache: Vec<Option<bool>>,
    distinct_instance: bool,
    /// A seeded random rank per instance: the last tie-break, one fixed order per call.
    pub ranks: Vec<u64>,
    pub spread_dimensions: Vec<SpreadDimension>,
}

impl<'a> WorkingCluster<'a> {
    pub fn new(
        instances: &'a [InstanceView],
        request: &'a PlacementRequest,
        chain: &[PlacementStrategy],
        rng: &mut SeededRng,
    ) -> Self {
        let (fixed_member_of, placement_dependent_member_of): (Vec<&Expression>, Vec<&Expression>) = request
            .constraints
            .iter()
            .filter_map(|constraint| match constraint {
                PlacementConstraint::MemberOf(expression) => Some(expression),
                PlacementConstraint::DistinctInstance => None,
            })
            .partition(|expression| !expression.depends_on_placed_tasks());
        let static_rejection =
            instances.iter().map(|instance| static_rejection(instance, request, &fixed_member_of)).collect();
        let spread_dimensions = chain
            .iter()
            .filter_map(|strategy| match strategy {
                PlacementStrategy::Spread(SpreadField::Attribute(name)) => {
                    Some(spread_dimension(instances, name, &request.group))
                }
                _ => None,
            })
            .collect();
        WorkingCluster {
            instances,
            request,
            remaining: instances.iter().map(|instance| Cow::Borrowed(&instance.remaining)).collect(),
            placed: vec![0; instances.len()],
            group_tasks: instances.iter().map(|instance| group_tasks(instance, &request.group)).collect(),
            static_rejection,
            placement_dependent_member_of,
            member_of_cache: vec![None; instances.len()],
            distinct_instance: request.constraints.contains(&PlacementConstraint::DistinctInstance),
            ranks: instances.iter().map(|_| rng.next_u64()).collect(),
            spread_dimensions,
        }
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_statically_rejected(&self, index: usize) -> bool {
        self.static_rejection[index].is_some()
    }

    /// Why the next copy cannot go on the instance, if it cannot.
    pub fn rejection(&mut self, index: usize) -> Option<Rejection> {
        self.static_rejection[index].or_else(|| self.dynamic_rejection(index))
    }

    /// The checks whose answer depends on earlier copies of this call.
    pub fn dynamic_rejection(&mut self, index: usize) -> Option<Rejection> {
        if !self.placement_dependent_member_of.is_empty() && !self.member_of_holds(index) {
            return Some(Rejection::MemberOf);
        }
        if self.distinct_instance && self.group_tasks[index] > 0 {
            return Some(Rejection::DistinctInstance);
        }
        let demand = &self.request.demand;
        let remaining = &self.remaining[index];
        if demand.cpu > remaining.cpu {
            return Some(Rejection::Cpu);
        }
        if demand.memory > remaining.memory {
            return Some(Rejection::Memory);
        }
        if demand.ports_tcp.iter().any(|port| remaining.ports_tcp.contains(port)) {
            return Some(Rejection::Ports);
        }
        if demand.ports_udp.iter().any(|port| remaining.ports_udp.contains(port)) {
            return Some(Rejection::PortsUdp);
        }
        None
    }

    fn member_of_holds(&mut self, index: usize) -> bool {
        if let Some(known) = self.member_of_cache[index] {
            return known;
        }
        let facts = Facts {
            instance: &self.instances[index],
            placed_group: &self.request.group,
            placed_count: self.placed[index],
        };
        let holds = self.placement_dependent_member_of.iter().all(|expression| expression.matches_facts(facts));
        self.member_of_cache[index] = Some(holds);
        holds
    }

    pub fn key(&self, index: usize, keys: &[StrategyKey]) -> SortKey {
        let mut sort_key = [0; 5];
        for (slot, key) in sort_key.iter_mut().zip(keys) {
            *slot = match key {
                StrategyKey::RemainingCpu => self.remaining[index].cpu,
                StrategyKey::RemainingMemory => self.remaining[index].memory,
                StrategyKey::GroupTasksOnInstance => i64::from(self.group_tasks[index]),
                StrategyKey::GroupTasksInBucket(dimension) => {
                    let dimension = &self.spread_dimensions[*dimension];
                    dimension.tasks_in_bucket[dimension.bucket_of[index] as usize]
                }
            };
        }
        sort_key
    }

    /// Records one copy on the instance, so later copies see what it took.
    pub fn apply(&mut self, index: usize) {
        let demand = &self.request.demand;
        let remaining = self.remaining[index].to_mut();
        remaining.cpu -= demand.cpu;
        remaining.memory -= demand.memory;
        remaining.ports_tcp.extend(demand.ports_tcp.iter().copied());
        remaining.ports_udp.extend(demand.ports_udp.iter().copied());
        self.placed[index] += 1;
        self.group_tasks[index] += 1;
        for dimension in &mut self.spread_dimensions {
            dimension.tasks_in_bucket[dimension.bucket_of[index] as usize] += 1;
        }
        self.member_of_cache[index] = None;
    }
}

/// The strategy chain as sort keys: everything before the first `random` (which ends the
/// chain: it picks among whatever is left), and whether it ended that way.
pub(crate) fn strategy_keys(chain: &[PlacementStrategy]) -> (Vec<StrategyKey>, bool) {
    let mut keys = Vec::new();
    let mut dimension = 0;
    for strategy in chain {
        keys.push(match strategy {
            PlacementStrategy::Random => return (keys, true),
            PlacementStrategy::Binpack(BinpackField::Cpu) => StrategyKey::RemainingCpu,
            PlacementStrategy::Binpack(BinpackField::Memory) => StrategyKey::RemainingMemory,
            PlacementStrategy::Spread(SpreadField::InstanceId | SpreadField::Host) => StrategyKey::GroupTasksOnInstance,
            PlacementStrategy::Spread(SpreadField::Attribute(_)) => {
                dimension += 1;
                StrategyKey::GroupTasksInBucket(dimension - 1)
            }
        });
    }
    (keys, false)
}

fn group_tasks(instance: &InstanceView, group: &str) -> u32 {
    instance.task_groups.get(group).copied().unwrap_or(0)
}

fn static_rejection(
    instance: &InstanceView,
    request: &PlacementRequest,
    fixed_member_of: &[&Expression],
) -> Option<Rejection> {
    if instance.status != ContainerInstanceStatus::Active {
        return Some(Rejection::NotActive);
    }
    if !instance.agent_connected {
        return Some(Rejection::AgentDisconnected);
    }
    let has_required_attributes = request.required_attributes.iter().all(|(name, required_value)| {
        match (instance.attributes.get(name), required_value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(value), Some(required)) => value.as_deref() == Some(required.as_str()),
        }
    });
    if !has_required_attributes {
        return Some(Rejection::MissingAttribute);
    }
    if !fixed_member_of.iter().all(|expression| expression.matches(instance)) {
        return Some(Rejection::MemberOf);
    }
    None
}

fn spread_dimension(instances: &[InstanceView], attribute: &str, group: &str) -> SpreadDimension {
    let mut bucket_by_value: BTreeMap<Option<&str>, u32> = BTreeMap::new();
    let mut tasks_in_bucket = Vec::new();
    let bucket_of = instances
        .iter()
        .map(|instance| {
            let value = instance.attributes.get(attribute).and_then(|value| value.as_deref());
            let next = bucket_by_value.len() as u32;
            let bucket = *bucket_by_value.entry(value).or_insert(next);
            if bucket as usize == tasks_in_bucket.len() {
                tasks_in_bucket.push(0);
            }
            tasks_in_bucket[bucket as usize] += i64::from(group_tasks(instance, group));
            bucket
        })
        .collect();
    SpreadDimension { bucket_of, tasks_in_bucket }
}
