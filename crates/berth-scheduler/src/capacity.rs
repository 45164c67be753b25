//! Splitting a launch across a capacity provider strategy: each provider's `base` first (in
//! strategy order), then the rest by `weight`, each next task going to the provider that is
//! furthest below its weighted share. Pure and deterministic.

/// One entry of a strategy, as the splitter needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderShare {
    pub weight: u32,
    pub base: u32,
}

/// How many of `count` tasks each provider takes, in strategy order. `already` holds tasks the
/// providers already run for the same group (services), so shares hold across calls; pass
/// zeros for a fresh RunTask.
pub fn split_by_strategy(shares: &[ProviderShare], already: &[u32], count: usize) -> Vec<usize> {
    let already = |index: usize| u64::from(already.get(index).copied().unwrap_or(0));
    let mut assigned = vec![0usize; shares.len()];
    let mut left = count;
    for (index, share) in shares.iter().enumerate() {
        let taken = (u64::from(share.base).saturating_sub(already(index)) as usize).min(left);
        assigned[index] += taken;
        left -= taken;
    }
    // Weights share out only what lies beyond each provider's base.
    let mut beyond_base: Vec<u64> = shares
        .iter()
        .enumerate()
        .map(|(index, share)| (already(index) + assigned[index] as u64).saturating_sub(u64::from(share.base)))
        .collect();
    for _ in 0..left {
        // The provider whose (tasks + 1) / weight is smallest is furthest below its share;
        // compare by cross-multiplying to stay in integers. Ties go to the earlier provider.
        let chosen = shares
            .iter()
            .enumerate()
            .filter(|(_, share)| share.weight > 0)
            .min_by(|(left_index, left_share), (right_index, right_share)| {
                let left_load = (beyond_base[*left_index] + 1) * u64::from(right_share.weight);
                let right_load = (beyond_base[*right_index] + 1) * u64::from(left_share.weight);
                left_load.cmp(&right_load).then(left_index.cmp(right_index))
            })
            .map(|(index, _)| index);
        match chosen {
            Some(index) => {
                assigned[index] += 1;
                beyond_base[index] += 1;
            }
            None => break,
        }
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(weight: u32, base: u32) -> ProviderShare {
        ProviderShare { weight, base }
    }

    #[test]
    fn base_first_then_by_weight() {
        assert_eq!(split_by_strategy(&[share(1, 2), share(3, 0)], &[0, 0], 10), vec![4, 6]);
        assert_eq!(split_by_strategy(&[share(1, 0), share(1, 0)], &[0, 0], 5), vec![3, 2]);
        assert_eq!(split_by_strategy(&[share(0, 3), share(1, 0)], &[0, 0], 2), vec![2, 0], "base before weight");
        assert_eq!(split_by_strategy(&[share(0, 1), share(1, 0)], &[0, 0], 4), vec![1, 3]);
        assert_eq!(split_by_strategy(&[share(1, 1), share(4, 0)], &[0, 0], 6), vec![2, 4], "the ECS guide's example");
    }

    #[test]
    fn existing_tasks_count_toward_shares() {
        assert_eq!(split_by_strategy(&[share(1, 0), share(1, 0)], &[4, 0], 4), vec![0, 4]);
        assert_eq!(
            split_by_strategy(&[share(1, 2), share(1, 0)], &[2, 0], 2),
            vec![1, 1],
            "base met: weights share the rest"
        );
    }

    #[test]
    fn nothing_to_split_without_weights() {
        assert_eq!(split_by_strategy(&[share(0, 1)], &[0], 3), vec![1]);
        assert_eq!(split_by_strategy(&[], &[], 3), Vec::<usize>::new());
    }
}
