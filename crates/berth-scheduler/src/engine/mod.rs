//! Placement of several copies of a task: feasibility, constraints, then the strategy chain,
//! one copy after another on a working view that each placed copy updates.
//!
//! Strategies narrow in order, as ECS applies them: binpack keeps the instances with the least
//! remaining amount, spread those whose value holds the fewest tasks of the group, random picks
//! one of what is left. That is a lexicographic minimum over per-strategy sort keys; ties left
//! after the chain go to a seeded random rank per instance, fixed for the call.
//!
//! A call costs what its chooser examines: the working view computes per-instance facts on
//! first use (see `working`), so RunTask's default `random` chain touches a few instances per
//! copy even on a large cluster; the indexed chains and attribute spreads read each instance
//! once per call.
//!
//! Invariant: pure and deterministic — same instances, request and seed, same placements.
//! Every copy either lands on an instance that fits it (given earlier copies) and satisfies
//! every constraint, or is reported with one reason per instance.
//!
//! Not here: the query language (`query`), wire parsing (`validate`), capacity providers.

mod index;
mod rng;
mod scan;
mod working;

use crate::model::{InstanceView, PlacementRequest, PlacementStrategy};
use crate::rejection::Rejection;
use crate::validate::PlacementRequestError;
use index::IndexedChooser;
use rng::SeededRng;
use working::{strategy_keys, WorkingCluster};

/// The outcome of placing one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Index into the instances (or candidates) given.
    Placed(usize),
    /// Nothing fits: each instance's index with its reason, in input order.
    Unplaceable(Vec<(usize, Rejection)>),
}

/// Places `request.count` copies onto `instances`; one [`Placement`] per copy, in order.
pub fn place(
    instances: &[InstanceView],
    request: &PlacementRequest,
    seed: u64,
) -> Result<Vec<Placement>, PlacementRequestError> {
    place_with(instances, request, seed, true)
}

/// `place` with the index switched off: the reference answer the property tests compare
/// against. Not for production use.
#[doc(hidden)]
pub fn place_by_scan(
    instances: &[InstanceView],
    request: &PlacementRequest,
    seed: u64,
) -> Result<Vec<Placement>, PlacementRequestError> {
    place_with(instances, request, seed, false)
}

fn place_with(
    instances: &[InstanceView],
    request: &PlacementRequest,
    seed: u64,
    allow_index: bool,
) -> Result<Vec<Placement>, PlacementRequestError> {
    request.validate()?;
    let default_chain = PlacementStrategy::run_task_default();
    let chain = if request.strategy.is_empty() { &default_chain } else { &request.strategy };
    // Instance ranks are draws 0..n of the seed's stream (see `WorkingCluster::rank`); the
    // chooser's draws follow them, as when the ranks were drawn up front.
    let mut rng = SeededRng::after_draws(seed, instances.len() as u64);
    let mut cluster = WorkingCluster::new(instances, request, chain, seed);
    let (keys, ends_with_random) = strategy_keys(chain);
    let mut index = if allow_index {
        IndexedChooser::for_chain(
            chain,
            &keys,
            ends_with_random,
            &mut cluster,
            request.demand.cpu,
            request.demand.memory,
        )
    } else {
        None
    };
    let mut placements = Vec::with_capacity(request.count);
    for _ in 0..request.count {
        let chosen = match &mut index {
            Some(index) => index.choose(&mut cluster),
            None => scan::choose(&mut cluster, &keys, ends_with_random, &mut rng),
        };
        let Some(instance) = chosen else {
            // Nothing changes after a copy fails, so every later copy fails the same way.
            let rejections: Vec<(usize, Rejection)> = (0..cluster.len())
                .filter_map(|instance| cluster.rejection(instance).map(|rejection| (instance, rejection)))
                .collect();
            placements.resize(request.count, Placement::Unplaceable(rejections));
            break;
        };
        if let Some(index) = &mut index {
            index.before_apply(&cluster, instance);
        }
        cluster.apply(instance);
        if let Some(index) = &mut index {
            index.after_apply(&mut cluster, instance);
        }
        placements.push(Placement::Placed(instance));
    }
    Ok(placements)
}
