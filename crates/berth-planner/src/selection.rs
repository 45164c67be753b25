//! Which tasks to stop when only some may: the lowest preference key goes first, and among
//! tasks of equal preference the one on the instance running the most of the service's live
//! tasks, so that what remains stays spread across instances.
//!
//! Invariant: deterministic. Ties on load break by instance ID, then by task ID.

use crate::classify::TaskState;
use berth_types::ContainerInstanceId;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

pub(crate) fn choose_to_stop<K: Ord>(
    tasks: &[TaskState],
    candidates: Vec<usize>,
    count: usize,
    preference: impl Fn(&TaskState) -> K,
) -> Vec<usize> {
    if count == 0 || candidates.is_empty() {
        return Vec::new();
    }
    let mut load: HashMap<&ContainerInstanceId, u32> = HashMap::new();
    for task in tasks.iter().filter(|task| task.is_live()) {
        *load.entry(&task.task.instance).or_default() += 1;
    }
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for index in candidates {
        groups.entry(preference(&tasks[index])).or_default().push(index);
    }
    let mut chosen = Vec::with_capacity(count);
    for (_, group) in groups {
        let remaining = count - chosen.len();
        if remaining == 0 {
            break;
        }
        chosen.extend(spread_pick(tasks, group, remaining, &mut load));
    }
    chosen
}

/// Takes `count` from `group`, each time from the most loaded instance.
fn spread_pick<'a>(
    tasks: &[TaskState<'a>],
    group: Vec<usize>,
    count: usize,
    load: &mut HashMap<&'a ContainerInstanceId, u32>,
) -> Vec<usize> {
    let mut by_instance: BTreeMap<&ContainerInstanceId, VecDeque<usize>> = BTreeMap::new();
    for index in group {
        by_instance.entry(&tasks[index].task.instance).or_default().push_back(index);
    }
    for queue in by_instance.values_mut() {
        queue.make_contiguous().sort_by(|a, b| tasks[*a].task.id.cmp(&tasks[*b].task.id));
    }
    let mut heap: BinaryHeap<(u32, Reverse<&ContainerInstanceId>)> =
        by_instance.keys().map(|instance| (load.get(instance).copied().unwrap_or(0), Reverse(*instance))).collect();
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let Some((instance_load, Reverse(instance))) = heap.pop() else { break };
        let queue = by_instance.get_mut(instance).expect("heap holds only grouped instances");
        let Some(index) = queue.pop_front() else { continue };
        picked.push(index);
        let new_load = instance_load.saturating_sub(1);
        load.insert(instance, new_load);
        if !queue.is_empty() {
            heap.push((new_load, Reverse(instance)));
        }
    }
    picked
}
