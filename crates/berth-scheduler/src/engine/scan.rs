//! The reference chooser: look at every instance, keep the feasible ones that sort first by
//! the strategy chain, break remaining ties by the seeded rank (or, after `random`, by a fresh
//! seeded draw).
//!
//! Invariant: its answer is, by definition, what placement means; the index must agree with
//! it (a property test checks that). O(instances) per copy — used when the chain contains
//! `random` or spreads by attribute after the first strategy — except that a plain `random`
//! chain first tries a few uniform draws and so usually examines only those instances.

use super::rng::SeededRng;
use super::working::{SortKey, StrategyKey, WorkingCluster};

/// How many uniform draws a plain `random` chain tries before it scans everything.
const RANDOM_DRAWS: usize = 32;

pub(crate) fn choose(
    cluster: &mut WorkingCluster<'_>,
    keys: &[StrategyKey],
    ends_with_random: bool,
    rng: &mut SeededRng,
) -> Option<usize> {
    // A plain `random` chain (RunTask's default) wants any feasible instance, uniformly:
    // draw instances uniformly and keep the first that fits — the accepted draw is uniform over
    // the feasible ones — and scan only when the draws keep missing (a nearly full cluster).
    if keys.is_empty() && ends_with_random && cluster.len() > 0 {
        for _ in 0..RANDOM_DRAWS {
            let candidate = rng.below(cluster.len());
            if cluster.rejection(candidate).is_none() {
                return Some(candidate);
            }
        }
    }
    let mut best: Option<(SortKey, u64, usize)> = None;
    let mut tied: Vec<usize> = Vec::new();
    for index in 0..cluster.len() {
        if cluster.rejection(index).is_some() {
            continue;
        }
        let key = cluster.key(index, keys);
        if ends_with_random {
            match best {
                Some((best_key, ..)) if key > best_key => {}
                Some((best_key, ..)) if key == best_key => tied.push(index),
                _ => {
                    best = Some((key, 0, index));
                    tied.clear();
                    tied.push(index);
                }
            }
        } else {
            let candidate = (key, cluster.rank(index), index);
            if best.is_none_or(|best| candidate < best) {
                best = Some(candidate);
            }
        }
    }
    if ends_with_random {
        (!tied.is_empty()).then(|| tied[rng.below(tied.len())])
    } else {
        best.map(|(.., index)| index)
    }
}
