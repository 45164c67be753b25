//! Choosing where a request goes: a target group among a forward action's weighted groups, then
//! a target within the group (round robin or least outstanding requests, slow start, `AWSALB`
//! stickiness), with ALB's fail-open: when no Active target is healthy, all Active ones are
//! candidates. Draining targets are never chosen. Lock-free and allocation-free.

use crate::targets::{now_millis, GroupRuntime, TargetRuntime};
use berth_proxy_protocol::Algorithm;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Picks the index of a weighted entry given a uniform draw in `0..total`; weight 0 never wins.
pub fn pick_weighted(weights: impl Iterator<Item = u32>, draw: u32) -> Option<usize> {
    let mut acc: u64 = 0;
    for (index, weight) in weights.enumerate() {
        acc += u64::from(weight);
        if u64::from(draw) < acc {
            return Some(index);
        }
    }
    None
}

/// Chooses a target of `group`; `None` when the group has no Active target at all (503).
/// `sticky` is the request's `AWSALB` cookie value, if lb_cookie stickiness is on.
pub fn choose_target(group: &GroupRuntime, sticky: Option<&str>) -> Option<Arc<TargetRuntime>> {
    let any_healthy = group.targets.iter().any(|target| target.is_active() && target.is_routable());
    let eligible = |target: &TargetRuntime| target.is_active() && (!any_healthy || target.is_routable());
    let count = group.targets.iter().filter(|target| eligible(target)).count();
    if count == 0 {
        return None;
    }
    if let Some(cookie) = sticky {
        if let Some(target) = group.targets.iter().find(|target| target.cookie == cookie && eligible(target)) {
            return Some(Arc::clone(target));
        }
    }
    if group.slow_start_millis > 0 && any_healthy {
        if let Some(target) = choose_with_slow_start(group, &eligible, count) {
            return Some(target);
        }
    }
    let start = group.next.fetch_add(1, Ordering::Relaxed);
    match group.algorithm {
        Algorithm::RoundRobin => {
            group.targets.iter().filter(|target| eligible(target)).nth(start % count).map(Arc::clone)
        }
        Algorithm::LeastOutstandingRequests => {
            // Start the scan at the round-robin position so that ties spread evenly.
            let len = group.targets.len();
            (0..len)
                .map(|offset| &group.targets[(start + offset) % len])
                .filter(|target| eligible(target))
                .min_by_key(|target| target.outstanding())
                .map(Arc::clone)
        }
    }
}

/// While some eligible target is within its slow-start window, draw by weight: a target's share
/// grows linearly from a small floor to 1 over the window. `None` when nobody is slow-starting
/// (then the usual algorithm decides).
fn choose_with_slow_start(
    group: &GroupRuntime,
    eligible: &dyn Fn(&TargetRuntime) -> bool,
    count: usize,
) -> Option<Arc<TargetRuntime>> {
    let now = now_millis();
    let window = group.slow_start_millis;
    let share = |target: &TargetRuntime| -> u32 {
        let elapsed = now.saturating_sub(target.routable_since_millis());
        if elapsed >= window {
            1000
        } else {
            (elapsed * 1000 / window).max(10) as u32
        }
    };
    let eligible_targets = || group.targets.iter().filter(|target| eligible(target));
    let starting = eligible_targets().filter(|target| share(target) < 1000).count();
    // When every candidate is starting there is nobody to shield them from load: share equally.
    if starting == 0 || starting == count {
        return None;
    }
    let total: u32 = eligible_targets().map(|target| share(target)).sum();
    let draw = rand::random_range(0..total);
    pick_weighted(eligible_targets().map(|target| share(target)), draw)
        .and_then(|index| eligible_targets().nth(index))
        .map(Arc::clone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TargetKey;
    use berth_proxy_protocol::TargetProtocol;

    fn target(port: u16) -> Arc<TargetRuntime> {
        let key = TargetKey { target_group_arn: "tg".into(), target_id: "10.0.0.1".into(), port };
        Arc::new(TargetRuntime::new(key, format!("10.0.0.1:{port}").parse().unwrap(), TargetProtocol::Http))
    }

    fn group(targets: Vec<Arc<TargetRuntime>>, algorithm: Algorithm) -> GroupRuntime {
        GroupRuntime::new("tg".into(), algorithm, 0, None, targets)
    }

    #[test]
    fn weighted_pick_distribution() {
        let weights = [3u32, 0, 1];
        let total: u32 = weights.iter().sum();
        let mut counts = [0usize; 3];
        for draw in 0..total * 1000 {
            counts[pick_weighted(weights.iter().copied(), draw % total).unwrap()] += 1;
        }
        assert_eq!(counts, [3000, 0, 1000]);
        assert_eq!(pick_weighted([0u32, 0].into_iter(), 0), None);
        // Random draws land within a few percent of the weights.
        let mut random_counts = [0usize; 3];
        for _ in 0..40_000 {
            random_counts[pick_weighted(weights.iter().copied(), rand::random_range(0..total)).unwrap()] += 1;
        }
        assert!((29_000..=31_000).contains(&random_counts[0]), "{random_counts:?}");
        assert_eq!(random_counts[1], 0);
    }

    #[test]
    fn round_robin_over_healthy_targets_only() {
        let targets: Vec<_> = (1..=3).map(target).collect();
        targets[0].set_routable(true);
        targets[2].set_routable(true);
        let group = group(targets.clone(), Algorithm::RoundRobin);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..100 {
            *seen.entry(choose_target(&group, None).unwrap().address.port()).or_insert(0) += 1;
        }
        assert_eq!(seen.get(&1), Some(&50));
        assert_eq!(seen.get(&3), Some(&50));
        assert_eq!(seen.get(&2), None);
    }

    #[test]
    fn fail_open_and_draining() {
        let targets: Vec<_> = (1..=2).map(target).collect();
        let group = group(targets.clone(), Algorithm::RoundRobin);
        // Nobody healthy: every Active target is a candidate.
        let ports: std::collections::HashSet<_> =
            (0..10).map(|_| choose_target(&group, None).unwrap().address.port()).collect();
        assert_eq!(ports.len(), 2);
        targets[0].set_active(false);
        assert!((0..10).all(|_| choose_target(&group, None).unwrap().address.port() == 2));
        targets[1].set_active(false);
        assert!(choose_target(&group, None).is_none());
    }

    #[test]
    fn stickiness_and_least_outstanding() {
        let targets: Vec<_> = (1..=3).map(target).collect();
        for target in &targets {
            target.set_routable(true);
        }
        let group = group(targets.clone(), Algorithm::LeastOutstandingRequests);
        let _busy = [targets[0].begin_request(), targets[1].begin_request()];
        assert!((0..10).all(|_| choose_target(&group, None).unwrap().address.port() == 3));
        let cookie = targets[1].cookie.clone();
        assert_eq!(choose_target(&group, Some(&cookie)).unwrap().address.port(), 2);
        assert_eq!(choose_target(&group, Some("unknown")).unwrap().address.port(), 3);
    }
}
