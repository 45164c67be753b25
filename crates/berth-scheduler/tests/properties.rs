//! Property tests over random clusters and requests: placements never overbook resources or
//! ports, constraints always hold, reasons are true, spread balances, the index agrees with the
//! reference scan, and a seed fixes the outcome.

mod common;

use berth_scheduler::{
    place, place_by_scan, BinpackField, Expression, InstanceView, Placement, PlacementConstraint, PlacementRequest,
    PlacementStrategy, Rejection, SpreadField,
};
use berth_types::ContainerInstanceStatus;
use common::{demand, instance};
use proptest::prelude::*;

const ZONES: [&str; 3] = ["a", "b", "c"];

fn arbitrary_instance(number: usize) -> impl Strategy<Value = InstanceView> {
    (
        (0i64..=8, 0i64..=8),
        prop::option::weighted(0.9, 0usize..3),
        (prop::bool::weighted(0.9), prop::bool::weighted(0.95)),
        (prop::bool::ANY, prop::bool::weighted(0.2), prop::bool::weighted(0.5)),
        (0u32..3, 0u32..2),
    )
        .prop_map(move |((cpu, memory), zone, (active, connected), (port_taken, udp_taken, gold), (web, db))| {
            let mut view = instance(&format!("i{number}"), cpu * 256, memory * 256, "a");
            match zone {
                Some(zone) => {
                    view.attributes.insert("ecs.availability-zone".into(), Some(ZONES[zone].into()));
                }
                None => {
                    view.attributes.remove("ecs.availability-zone");
                }
            }
            if !active {
                view.status = ContainerInstanceStatus::Draining;
            }
            view.agent_connected = connected;
            if port_taken {
                view.remaining.ports_tcp.insert(8080);
            }
            if udp_taken {
                view.remaining.ports_udp.insert(53);
            }
            if gold {
                view.attributes.insert("tier".into(), Some("gold".into()));
            }
            if web > 0 {
                view.task_groups.insert("family:web".into(), web);
            }
            if db > 0 {
                view.task_groups.insert("service:db".into(), db);
            }
            view.running_tasks_count = web + db;
            view
        })
}

fn arbitrary_cluster() -> impl Strategy<Value = Vec<InstanceView>> {
    (0usize..25).prop_flat_map(|size| (0..size).map(arbitrary_instance).collect::<Vec<_>>())
}

fn arbitrary_constraint() -> impl Strategy<Value = PlacementConstraint> {
    prop_oneof![
        Just(None),
        Just(Some("attribute:tier == gold")),
        Just(Some("task:group != service:db")),
        Just(Some("runningTasksCount < 3")),
        Just(Some("attribute:ecs.availability-zone in [a, b] or task:group == family:web")),
    ]
    .prop_map(|text| match text {
        None => PlacementConstraint::DistinctInstance,
        Some(text) => PlacementConstraint::MemberOf(Expression::parse(text).unwrap()),
    })
}

fn arbitrary_strategy() -> impl Strategy<Value = PlacementStrategy> {
    prop_oneof![
        Just(PlacementStrategy::Binpack(BinpackField::Cpu)),
        Just(PlacementStrategy::Binpack(BinpackField::Memory)),
        Just(PlacementStrategy::Spread(SpreadField::InstanceId)),
        Just(PlacementStrategy::Spread(SpreadField::Host)),
        Just(PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".into()))),
        Just(PlacementStrategy::Spread(SpreadField::Attribute("tier".into()))),
        Just(PlacementStrategy::Random),
    ]
}

fn arbitrary_request() -> impl Strategy<Value = PlacementRequest> {
    (
        (0i64..=4, 0i64..=4, prop::bool::weighted(0.3), prop::bool::weighted(0.2)),
        1usize..12,
        prop::collection::vec(arbitrary_constraint(), 0..3),
        prop::collection::vec(arbitrary_strategy(), 0..4),
        prop::bool::weighted(0.2),
    )
        .prop_map(|((cpu, memory, tcp, udp), count, constraints, strategy, needs_gold)| {
            let tcp: &[u16] = if tcp { &[8080] } else { &[] };
            let udp: &[u16] = if udp { &[53] } else { &[] };
            PlacementRequest {
                demand: demand(cpu * 128, memory * 128, tcp, udp),
                count,
                group: "family:web".into(),
                constraints,
                strategy,
                required_attributes: if needs_gold { vec![("tier".into(), Some("gold".into()))] } else { vec![] },
            }
        })
}

/// Why the oracle thinks the copy cannot go on the view, re-derived from first principles.
fn oracle_rejection(view: &InstanceView, request: &PlacementRequest) -> Option<Rejection> {
    if view.status != ContainerInstanceStatus::Active {
        return Some(Rejection::NotActive);
    }
    if !view.agent_connected {
        return Some(Rejection::AgentDisconnected);
    }
    for (name, value) in &request.required_attributes {
        match view.attributes.get(name) {
            Some(found) if value.is_none() || found == value => {}
            _ => return Some(Rejection::MissingAttribute),
        }
    }
    for constraint in &request.constraints {
        if let PlacementConstraint::MemberOf(expression) = constraint {
            if !expression.matches(view) {
                return Some(Rejection::MemberOf);
            }
        }
    }
    let group_here = view.task_groups.get(&request.group).copied().unwrap_or(0);
    if request.constraints.contains(&PlacementConstraint::DistinctInstance) && group_here > 0 {
        return Some(Rejection::DistinctInstance);
    }
    let demand = &request.demand;
    if demand.cpu > view.remaining.cpu {
        return Some(Rejection::Cpu);
    }
    if demand.memory > view.remaining.memory {
        return Some(Rejection::Memory);
    }
    if !demand.ports_tcp.is_disjoint(&view.remaining.ports_tcp) {
        return Some(Rejection::Ports);
    }
    if !demand.ports_udp.is_disjoint(&view.remaining.ports_udp) {
        return Some(Rejection::PortsUdp);
    }
    None
}

fn take(view: &mut InstanceView, request: &PlacementRequest) {
    view.remaining.cpu -= request.demand.cpu;
    view.remaining.memory -= request.demand.memory;
    view.remaining.ports_tcp.extend(request.demand.ports_tcp.iter().copied());
    view.remaining.ports_udp.extend(request.demand.ports_udp.iter().copied());
    view.running_tasks_count += 1;
    *view.task_groups.entry(request.group.clone()).or_insert(0) += 1;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn placements_respect_resources_ports_constraints_and_report_true_reasons(
        instances in arbitrary_cluster(),
        request in arbitrary_request(),
        seed in any::<u64>(),
    ) {
        let placements = place(&instances, &request, seed).unwrap();
        prop_assert_eq!(placements.len(), request.count);
        let mut views = instances.clone();
        for placement in &placements {
            match placement {
                Placement::Placed(index) => {
                    prop_assert_eq!(oracle_rejection(&views[*index], &request), None);
                    // The first strategy's preference holds against every feasible instance.
                    let feasible: Vec<usize> = (0..views.len())
                        .filter(|candidate| oracle_rejection(&views[*candidate], &request).is_none())
                        .collect();
                    match request.strategy.first() {
                        Some(PlacementStrategy::Binpack(BinpackField::Memory)) => {
                            let least = feasible.iter().map(|candidate| views[*candidate].remaining.memory).min();
                            prop_assert_eq!(Some(views[*index].remaining.memory), least);
                        }
                        Some(PlacementStrategy::Spread(SpreadField::InstanceId)) => {
                            let tasks = |candidate: usize| views[candidate].task_groups.get("family:web").copied().unwrap_or(0);
                            let least = feasible.iter().map(|candidate| tasks(*candidate)).min();
                            prop_assert_eq!(Some(tasks(*index)), least);
                        }
                        _ => {}
                    }
                    take(&mut views[*index], &request);
                }
                Placement::Unplaceable(rejections) => {
                    prop_assert_eq!(rejections.len(), views.len());
                    for (index, rejection) in rejections {
                        prop_assert_eq!(oracle_rejection(&views[*index], &request), Some(*rejection));
                    }
                }
            }
        }
        // Instances start with non-negative amounts, so overbooking would show as a negative one.
        for view in &views {
            prop_assert!(view.remaining.cpu >= 0 && view.remaining.memory >= 0);
        }
    }

    #[test]
    fn index_agrees_with_the_reference_scan(
        instances in arbitrary_cluster(),
        request in arbitrary_request(),
        seed in any::<u64>(),
    ) {
        prop_assert_eq!(
            place(&instances, &request, seed).unwrap(),
            place_by_scan(&instances, &request, seed).unwrap()
        );
    }

    #[test]
    fn same_seed_same_placement(
        instances in arbitrary_cluster(),
        request in arbitrary_request(),
        seed in any::<u64>(),
    ) {
        prop_assert_eq!(place(&instances, &request, seed).unwrap(), place(&instances, &request, seed).unwrap());
    }

    #[test]
    fn spread_keeps_zone_counts_within_one_when_capacity_allows(
        zones in prop::collection::vec(0usize..3, 1..15),
        count in 1usize..40,
        then_binpack in prop::bool::ANY,
        seed in any::<u64>(),
    ) {
        let instances: Vec<InstanceView> = zones
            .iter()
            .enumerate()
            .map(|(number, zone)| instance(&format!("i{number}"), 1 << 20, 1 << 20, ZONES[*zone]))
            .collect();
        let mut request = common::request(demand(1, 1, &[], &[]), count);
        request.strategy = vec![PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".into()))];
        if then_binpack {
            request.strategy.push(PlacementStrategy::Binpack(BinpackField::Memory));
        }
        let placements = place(&instances, &request, seed).unwrap();
        let mut per_zone = [0usize; 3];
        for placement in &placements {
            let Placement::Placed(index) = placement else { panic!("capacity was ample") };
            per_zone[zones[*index]] += 1;
        }
        let present: Vec<usize> = (0..3).filter(|zone| zones.contains(zone)).map(|zone| per_zone[zone]).collect();
        let most = present.iter().max().unwrap();
        let least = present.iter().min().unwrap();
        prop_assert!(most - least <= 1, "{:?}", per_zone);
    }
}
