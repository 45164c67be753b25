//! The working view of a cluster during one placement call: every instance's remaining
//! resources and group counts as earlier copies of the same call left them, plus what holds
//! for the whole call (static rejections, spread buckets, tie-break ranks).
//!
//! Setup costs O(instances) only in zeroed or filled per-instance arrays; everything that reads
//! an instance (static checks, its group count, placement-dependent `memberOf`) is computed the
//! first time a chooser asks and cached, and resources changed by this call's copies live in a
//! sparse overlay. RunTask's default `random` chain looks at a few instances per copy, so a
//! call on a large cluster costs what it examines, not what the cluster holds. Ranks are a pure
//! function of (seed, index). Spreading by attribute still reads every instance once, to count
//! the group's tasks per value.
//!
//! Invariant: `rejection(i)` is the single definition of feasibility; both choosers and the
//! failure report use it, so "placed" and "why not" can never disagree. Within a call
//! remaining resources only shrink and group counts only grow. A cached answer is the answer
//! computing it afresh would give: static checks and the instance's own group count read only
//! the `InstanceView`, and the `memberOf` cache is cleared whenever a copy lands on the instance.
//!
//! Not here: choosing among feasible instances (`scan`, `index`).

use std::collections::BTreeMap;

use berth_types::{ContainerInstanceStatus, Resources};

use super::rng;
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

/// The checks that do not depend on this call's copies, once an instance has been asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaticCheck {
    Unchecked,
    Passed,
    Rejected(Rejection),
}

/// Marks a group count not yet read from the instance's `task_groups`. An instance really
/// holding `u32::MAX` tasks of the group is merely looked up again each time.
const GROUP_TASKS_UNREAD: u32 = u32::MAX;

/// What this call's copies changed on one instance.
struct PlacedHere {
    remaining: Resources,
    copies: u32,
}

pub(crate) struct WorkingCluster<'a> {
    pub instances: &'a [InstanceView],
    request: &'a PlacementRequest,
    fixed_member_of: Vec<&'a Expression>,
    static_checks: Vec<StaticCheck>,
    /// The group's tasks on each instance before this call, or `GROUP_TASKS_UNREAD`: reading
    /// every instance's `task_groups` map up front was most of a large cluster's setup.
    existing_group_tasks: Vec<u32>,
    /// Per instance, 0 when no copy of this call is on it, else 1 + its slot in `placed_here`.
    /// Cloning every instance's resources up front cost more than the placement itself.
    placed_slot: Vec<u32>,
    placed_here: Vec<PlacedHere>,
    placement_dependent_member_of: Vec<&'a Expression>,
    /// Empty unless some `memberOf` depends on placed tasks.
    member_of_cache: Vec<Option<bool>>,
    distinct_instance: bool,
    /// Seeds the tie-break ranks (see `rank`).
    seed: u64,
    pub spread_dimensions: Vec<SpreadDimension>,
}

impl<'a> WorkingCluster<'a> {
    pub fn new(
        instances: &'a [InstanceView],
        request: &'a PlacementRequest,
        chain: &[PlacementStrategy],
        seed: u64,
    ) -> Self {
        let (fixed_member_of, placement_dependent_member_of): (Vec<&Expression>, Vec<&Expression>) = request
            .constraints
            .iter()
            .filter_map(|constraint| match constraint {
                PlacementConstraint::MemberOf(expression) => Some(expression),
                PlacementConstraint::DistinctInstance => None,
            })
            .partition(|expression| !expression.depends_on_placed_tasks());
        let mut existing_group_tasks = vec![GROUP_TASKS_UNREAD; instances.len()];
        let spread_dimensions = chain
            .iter()
            .filter_map(|strategy| match strategy {
                PlacementStrategy::Spread(SpreadField::Attribute(name)) => {
                    Some(spread_dimension(instances, name, &request.group, &mut existing_group_tasks))
                }
                _ => None,
            })
            .collect();
        let member_of_cache =
            if placement_dependent_member_of.is_empty() { Vec::new() } else { vec![None; instances.len()] };
        WorkingCluster {
            instances,
            request,
            fixed_member_of,
            static_checks: vec![StaticCheck::Unchecked; instances.len()],
            existing_group_tasks,
            placed_slot: vec![0; instances.len()],
            placed_here: Vec::new(),
            placement_dependent_member_of,
            member_of_cache,
            distinct_instance: request.constraints.contains(&PlacementConstraint::DistinctInstance),
            seed,
            spread_dimensions,
        }
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// The instance's seeded random rank: the last tie-break, one fixed order per call. Draw
    /// `index` of the seed's stream, so the chooser's own draws start after `len()` of them.
    pub fn rank(&self, index: usize) -> u64 {
        rng::draw(self.seed, index as u64)
    }

    pub fn is_statically_rejected(&mut self, index: usize) -> bool {
        self.static_rejection(index).is_some()
    }

    /// Why the next copy cannot go on the instance, if it cannot.
    pub fn rejection(&mut self, index: usize) -> Option<Rejection> {
        self.static_rejection(index).or_else(|| self.dynamic_rejection(index))
    }

    fn static_rejection(&mut self, index: usize) -> Option<Rejection> {
        match self.static_checks[index] {
            StaticCheck::Passed => None,
            StaticCheck::Rejected(rejection) => Some(rejection),
            StaticCheck::Unchecked => {
                let rejection = static_rejection(&self.instances[index], self.request, &self.fixed_member_of);
                self.static_checks[index] = rejection.map_or(StaticCheck::Passed, StaticCheck::Rejected);
                rejection
            }
        }
    }

    /// The checks whose answer depends on earlier copies of this call.
    pub fn dynamic_rejection(&mut self, index: usize) -> Option<Rejection> {
        if !self.placement_dependent_member_of.is_empty() && !self.member_of_holds(index) {
            return Some(Rejection::MemberOf);
        }
        if self.distinct_instance && self.group_tasks(index) > 0 {
            return Some(Rejection::DistinctInstance);
        }
        let demand = &self.request.demand;
        let remaining = self.remaining(index);
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

    fn placed_here(&self, index: usize) -> Option<&PlacedHere> {
        match self.placed_slot[index] {
            0 => None,
            slot => Some(&self.placed_here[slot as usize - 1]),
        }
    }

    fn remaining(&self, index: usize) -> &Resources {
        self.placed_here(index).map_or(&self.instances[index].remaining, |placed| &placed.remaining)
    }

    fn copies_placed(&self, index: usize) -> u32 {
        self.placed_here(index).map_or(0, |placed| placed.copies)
    }

    /// The group's tasks on the instance, counting this call's copies.
    fn group_tasks(&mut self, index: usize) -> u32 {
        let mut existing = self.existing_group_tasks[index];
        if existing == GROUP_TASKS_UNREAD {
            existing = group_tasks(&self.instances[index], &self.request.group);
            self.existing_group_tasks[index] = existing;
        }
        existing + self.copies_placed(index)
    }

    fn member_of_holds(&mut self, index: usize) -> bool {
        if let Some(known) = self.member_of_cache[index] {
            return known;
        }
        let facts = Facts {
            instance: &self.instances[index],
            placed_group: &self.request.group,
            placed_count: self.copies_placed(index),
        };
        let holds = self.placement_dependent_member_of.iter().all(|expression| expression.matches_facts(facts));
        self.member_of_cache[index] = Some(holds);
        holds
    }

    pub fn key(&mut self, index: usize, keys: &[StrategyKey]) -> SortKey {
        let mut sort_key = [0; 5];
        for (slot, key) in sort_key.iter_mut().zip(keys) {
            *slot = match key {
                StrategyKey::RemainingCpu => self.remaining(index).cpu,
                StrategyKey::RemainingMemory => self.remaining(index).memory,
                StrategyKey::GroupTasksOnInstance => i64::from(self.group_tasks(index)),
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
        let slot = match self.placed_slot[index] {
            0 => {
                self.placed_here.push(PlacedHere { remaining: self.instances[index].remaining.clone(), copies: 0 });
                self.placed_slot[index] = self.placed_here.len() as u32;
                self.placed_here.len() - 1
            }
            slot => slot as usize - 1,
        };
        let demand = &self.request.demand;
        let placed = &mut self.placed_here[slot];
        placed.remaining.cpu -= demand.cpu;
        placed.remaining.memory -= demand.memory;
        placed.remaining.ports_tcp.extend(demand.ports_tcp.iter().copied());
        placed.remaining.ports_udp.extend(demand.ports_udp.iter().copied());
        placed.copies += 1;
        for dimension in &mut self.spread_dimensions {
            dimension.tasks_in_bucket[dimension.bucket_of[index] as usize] += 1;
        }
        if let Some(cached) = self.member_of_cache.get_mut(index) {
            *cached = None;
        }
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

/// Also fills `existing_group_tasks`, since it reads every instance's count anyway.
fn spread_dimension(
    instances: &[InstanceView],
    attribute: &str,
    group: &str,
    existing_group_tasks: &mut [u32],
) -> SpreadDimension {
    let mut bucket_by_value: BTreeMap<Option<&str>, u32> = BTreeMap::new();
    let mut tasks_in_bucket = Vec::new();
    let bucket_of = instances
        .iter()
        .zip(existing_group_tasks.iter_mut())
        .map(|(instance, existing)| {
            let value = instance.attributes.get(attribute).and_then(|value| value.as_deref());
            let next = bucket_by_value.len() as u32;
            let bucket = *bucket_by_value.entry(value).or_insert(next);
            if bucket as usize == tasks_in_bucket.len() {
                tasks_in_bucket.push(0);
            }
            if *existing == GROUP_TASKS_UNREAD {
                *existing = group_tasks(instance, group);
            }
            tasks_in_bucket[bucket as usize] += i64::from(*existing);
            bucket
        })
        .collect();
    SpreadDimension { bucket_of, tasks_in_bucket }
}
