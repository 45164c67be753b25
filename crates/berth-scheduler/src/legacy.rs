//! The first placement API, kept so `berth-control` compiles unchanged until it moves to
//! [`place`](crate::place): random choice among feasible instances, resources and ports only.
//!
//! Invariant: same candidates, demand and seed give the same placements. Not here: attributes,
//! constraints, strategies — use [`place`](crate::place) for those.

use berth_types::{ContainerInstanceStatus, Resources};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::engine::Placement;
use crate::rejection::Rejection;

/// One container instance as the first API saw it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub status: ContainerInstanceStatus,
    pub agent_connected: bool,
    /// Registered resources less what placed tasks hold; ports are the ones *taken*.
    pub remaining: Resources,
}

/// Whether `demand` fits on `candidate`; the first unmet requirement otherwise.
pub fn check_fit(candidate: &Candidate, demand: &Resources) -> Result<(), Rejection> {
    if candidate.status != ContainerInstanceStatus::Active {
        return Err(Rejection::NotActive);
    }
    if !candidate.agent_connected {
        return Err(Rejection::AgentDisconnected);
    }
    if demand.cpu > candidate.remaining.cpu {
        return Err(Rejection::Cpu);
    }
    if demand.memory > candidate.remaining.memory {
        return Err(Rejection::Memory);
    }
    if demand.ports_tcp.iter().any(|port| candidate.remaining.ports_tcp.contains(port)) {
        return Err(Rejection::Ports);
    }
    if demand.ports_udp.iter().any(|port| candidate.remaining.ports_udp.contains(port)) {
        return Err(Rejection::PortsUdp);
    }
    Ok(())
}

/// Places `count` copies of `demand` one after another, each seeing the resources the previous
/// ones took. Returns one [`Placement`] per copy.
pub fn place_tasks(candidates: &[Candidate], demand: &Resources, count: usize, seed: u64) -> Vec<Placement> {
    let mut remaining: Vec<Resources> = candidates.iter().map(|candidate| candidate.remaining.clone()).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut placements = Vec::with_capacity(count);
    for _ in 0..count {
        let mut feasible = Vec::new();
        let mut rejections = Vec::new();
        for (index, candidate) in candidates.iter().enumerate() {
            let view = Candidate { remaining: remaining[index].clone(), ..candidate.clone() };
            match check_fit(&view, demand) {
                Ok(()) => feasible.push(index),
                Err(rejection) => rejections.push((index, rejection)),
            }
        }
        if feasible.is_empty() {
            placements.push(Placement::Unplaceable(rejections));
            continue;
        }
        let chosen = feasible[rng.random_range(0..feasible.len())];
        let taken = &mut remaining[chosen];
        taken.cpu -= demand.cpu;
        taken.memory -= demand.memory;
        taken.ports_tcp.extend(demand.ports_tcp.iter().copied());
        taken.ports_udp.extend(demand.ports_udp.iter().copied());
        placements.push(Placement::Placed(chosen));
    }
    placements
}
#[cfg(test)]
mod tests {
    use super::*;

    fn instance(cpu: i64, memory: i64) -> Candidate {
        Candidate {
            status: ContainerInstanceStatus::Active,
            agent_connected: true,
            remaining: Resources { cpu, memory, ports_tcp: [22].into(), ports_udp: Default::default() },
        }
    }

    fn demand(cpu: i64, memory: i64, ports: &[u16]) -> Resources {
        Resources { cpu, memory, ports_tcp: ports.iter().copied().collect(), ports_udp: Default::default() }
    }

    #[test]
    fn later_copies_see_what_earlier_ones_took() {
        let placements = place_tasks(&[instance(1024, 300)], &demand(0, 128, &[]), 3, 7);
        assert_eq!(placements[0], Placement::Placed(0));
        assert_eq!(placements[1], Placement::Placed(0));
        assert_eq!(placements[2], Placement::Unplaceable(vec![(0, Rejection::Memory)]));
    }

    #[test]
    fn static_ports_are_never_double_booked() {
        let placements = place_tasks(&[instance(1024, 1024)], &demand(0, 1, &[8080]), 2, 1);
        assert_eq!(placements[1], Placement::Unplaceable(vec![(0, Rejection::Ports)]));
        let reserved = place_tasks(&[instance(1024, 1024)], &demand(0, 1, &[22]), 1, 1);
        assert_eq!(reserved[0], Placement::Unplaceable(vec![(0, Rejection::Ports)]));
    }

    #[test]
    fn reasons_follow_ecs_order_and_words() {
        let mut disconnected = instance(4096, 4096);
        disconnected.agent_connected = false;
        let mut draining = instance(4096, 4096);
        draining.status = ContainerInstanceStatus::Draining;
        let candidates = [disconnected, draining, instance(100, 4096)];
        let placements = place_tasks(&candidates, &demand(512, 64, &[]), 1, 0);
        assert_eq!(
            placements[0],
            Placement::Unplaceable(vec![
                (0, Rejection::AgentDisconnected),
                (1, Rejection::NotActive),
                (2, Rejection::Cpu)
            ])
        );
        assert_eq!(Rejection::Memory.reason(), "RESOURCE:MEMORY");
    }

    #[test]
    fn same_seed_same_placement() {
        let candidates: Vec<Candidate> = (0..20).map(|_| instance(4096, 4096)).collect();
        let first = place_tasks(&candidates, &demand(10, 10, &[]), 10, 42);
        assert_eq!(first, place_tasks(&candidates, &demand(10, 10, &[]), 10, 42));
    }
}
