//! The indexed chooser for chains without `random` whose only attribute spread (if any) comes
//! first — the common shapes `binpack(memory)`, `spread(attribute:…)` + `binpack(…)` and
//! `spread(attribute:…)` + `spread(instanceId)`.
//!
//! Instances are bucketed by the first strategy's attribute value (one bucket when it is not
//! an attribute spread); buckets are ordered by the group's task count; inside a bucket a
//! `BTreeSet` orders instances by the remaining sort keys and seeded rank. A copy walks the
//! buckets of the lowest count level and, in each, the set from the smallest key that could
//! fit (a range query when the first key is a binpack amount) to the first feasible instance.
//!
//! Invariant: the answer equals `scan::choose` for the same working cluster. Instances whose
//! rejection lasts for the call (resources, ports, distinctInstance) are dropped when met, so
//! each is stepped over at most once per call; only a `memberOf` on `runningTasksCount` or
//! `task:group` can make the walk revisit instances.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::working::{SortKey, StrategyKey, WorkingCluster};
use crate::model::{BinpackField, PlacementStrategy, SpreadField};

type Entry = (SortKey, u64, u32);

pub(crate) struct IndexedChooser {
    /// The spread dimension buckets come from; `None` puts every instance in bucket 0.
    bucket_dimension: Option<usize>,
    /// Keys within a bucket (the chain after the bucketing strategy).
    keys: Vec<StrategyKey>,
    /// Smallest first key that can fit the demand, for a range start.
    first_key_floor: i64,
    buckets: Vec<BTreeSet<Entry>>,
    /// Non-empty buckets by (group tasks in the bucket, bucket).
    bucket_order: BTreeSet<(i64, u32)>,
    entry_of: Vec<Option<Entry>>,
}

impl IndexedChooser {
    /// The chooser for the chain, or `None` when the chain needs the scan.
    pub fn for_chain(
        chain: &[PlacementStrategy],
        keys: &[StrategyKey],
        ends_with_random: bool,
        cluster: &mut WorkingCluster<'_>,
        demand_cpu: i64,
        demand_memory: i64,
    ) -> Option<Self> {
        if ends_with_random || chain.is_empty() {
            return None;
        }
        let spreads_by_attribute_later = keys[1..].iter().any(|key| matches!(key, StrategyKey::GroupTasksInBucket(_)));
        if spreads_by_attribute_later {
            return None;
        }
        let (bucket_dimension, keys) = match keys[0] {
            StrategyKey::GroupTasksInBucket(dimension) => (Some(dimension), keys[1..].to_vec()),
            _ => (None, keys.to_vec()),
        };
        let first_strategy = if bucket_dimension.is_some() { chain.get(1) } else { chain.first() };
        let first_key_floor = match first_strategy {
            Some(PlacementStrategy::Binpack(BinpackField::Cpu)) => demand_cpu,
            Some(PlacementStrategy::Binpack(BinpackField::Memory)) => demand_memory,
            Some(PlacementStrategy::Spread(SpreadField::InstanceId | SpreadField::Host)) => 0,
            _ => i64::MIN,
        };
        let bucket_count = match bucket_dimension {
            Some(dimension) => cluster.spread_dimensions[dimension].tasks_in_bucket.len(),
            None => 1,
        };
        let mut chooser = IndexedChooser {
            bucket_dimension,
            keys,
            first_key_floor,
            buckets: vec![BTreeSet::new(); bucket_count],
            bucket_order: BTreeSet::new(),
            entry_of: vec![None; cluster.len()],
        };
        for index in 0..cluster.len() {
            if !cluster.is_statically_rejected(index) {
                chooser.insert(cluster, index);
            }
        }
        Some(chooser)
    }

    fn bucket(&self, cluster: &WorkingCluster<'_>, index: usize) -> (usize, i64) {
        match self.bucket_dimension {
            Some(dimension) => {
                let dimension = &cluster.spread_dimensions[dimension];
                let bucket = dimension.bucket_of[index] as usize;
                (bucket, dimension.tasks_in_bucket[bucket])
            }
            None => (0, 0),
        }
    }

    fn insert(&mut self, cluster: &mut WorkingCluster<'_>, index: usize) {
        let entry = (cluster.key(index, &self.keys), cluster.rank(index), index as u32);
        let (bucket, tasks) = self.bucket(cluster, index);
        self.buckets[bucket].insert(entry);
        self.bucket_order.insert((tasks, bucket as u32));
        self.entry_of[index] = Some(entry);
    }

    /// Call before `WorkingCluster::apply(index)`: takes the instance and its bucket's order
    /// entry out while their keys are still the old ones.
    pub fn before_apply(&mut self, cluster: &WorkingCluster<'_>, index: usize) {
        let (bucket, tasks) = self.bucket(cluster, index);
        self.bucket_order.remove(&(tasks, bucket as u32));
        if let Some(entry) = self.entry_of[index].take() {
            self.buckets[bucket].remove(&entry);
        }
    }

    /// Call after `WorkingCluster::apply(index)`: puts them back under the new keys.
    pub fn after_apply(&mut self, cluster: &mut WorkingCluster<'_>, index: usize) {
        self.insert(cluster, index);
    }

    pub fn choose(&mut self, cluster: &mut WorkingCluster<'_>) -> Option<usize> {
        let mut best: Option<(i64, Entry)> = None;
        let mut cursor = Bound::Unbounded;
        while let Some(&(tasks, bucket)) = self.bucket_order.range((cursor, Bound::Unbounded)).next() {
            cursor = Bound::Excluded((tasks, bucket));
            if best.is_some_and(|(best_tasks, _)| tasks > best_tasks) {
                break;
            }
            if let Some(entry) = self.first_feasible(cluster, bucket as usize, tasks) {
                if best.is_none_or(|(_, best_entry)| entry < best_entry) {
                    best = Some((tasks, entry));
                }
            }
        }
        best.map(|(_, (.., index))| index as usize)
    }

    fn first_feasible(&mut self, cluster: &mut WorkingCluster<'_>, bucket: usize, tasks: i64) -> Option<Entry> {
        let mut floor = [i64::MIN; 5];
        floor[0] = self.first_key_floor;
        let start: Entry = (floor, 0, 0);
        let mut dropped = Vec::new();
        let mut found = None;
        for entry in self.buckets[bucket].range(start..) {
            match cluster.dynamic_rejection(entry.2 as usize) {
                None => {
                    found = Some(*entry);
                    break;
                }
                Some(rejection) if rejection.lasts_for_the_call() => dropped.push(*entry),
                Some(_) => {}
            }
        }
        for entry in dropped {
            self.buckets[bucket].remove(&entry);
            self.entry_of[entry.2 as usize] = None;
        }
        if self.buckets[bucket].is_empty() {
            self.bucket_order.remove(&(tasks, bucket as u32));
        }
        found
    }
}
