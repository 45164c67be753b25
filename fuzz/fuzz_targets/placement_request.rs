//! Fuzzes placement rules as they arrive on the wire: RunTask's and CreateService's
//! `placementStrategy` (`{type, field}`) and `placementConstraints` (`{type, expression}`)
//! go through `from_wire`, and whatever is accepted is placed on a small cluster the input
//! also describes. Reading the rules must never panic, and neither may placing.
//!
//! What is placed is checked against the engine's promises:
//! - the indexed chooser and the reference scan (`place_by_scan`) give the same placements,
//!   as the property tests check for generated requests; here the rules come from raw text;
//! - a placed copy lands on an instance that satisfies every `memberOf` expression that does
//!   not depend on placed tasks (those are judged before any copy is placed);
//! - with `distinctInstance`, no instance takes two copies or already runs the group.
//!
//! Types and fields are mostly drawn from the values ECS documents so the fuzzer spends its
//! time past validation; a free-text draw keeps the error paths covered too.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use berth_scheduler::{
    place, place_by_scan, InstanceView, Placement, PlacementConstraint, PlacementRequest, PlacementStrategy,
};
use berth_types::{ContainerInstanceStatus, Resources};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const STRATEGY_TYPES: [&str; 3] = ["random", "spread", "binpack"];
const STRATEGY_FIELDS: [&str; 7] =
    ["cpu", "memory", "instanceId", "host", "attribute:ecs.availability-zone", "attribute:stack", "MEMORY"];
const CONSTRAINT_TYPES: [&str; 2] = ["distinctInstance", "memberOf"];
const EXPRESSIONS: [&str; 6] = [
    "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
    "attribute:stack == prod",
    "not(task:group == service:web)",
    "runningTasksCount < 2",
    "agentVersion >= 1.50.0 and attribute:stack exists",
    "ec2InstanceId =~ 'i-[0-2]'",
];
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
const GROUPS: [&str; 2] = ["service:web", "family:batch"];

/// One of `known`, or (about one time in eight) free text from the input.
fn word<'a>(input: &mut Unstructured<'a>, known: &[&'static str]) -> Result<&'a str> {
    if input.ratio(1, 8)? {
        input.arbitrary()
    } else {
        Ok(input.choose(known)?)
    }
}

fn optional_word<'a>(input: &mut Unstructured<'a>, known: &[&'static str]) -> Result<Option<&'a str>> {
    if input.arbitrary()? {
        Ok(Some(word(input, known)?))
    } else {
        Ok(None)
    }
}

fn instance(input: &mut Unstructured<'_>, number: usize) -> Result<InstanceView> {
    let mut attributes = BTreeMap::new();
    if input.arbitrary()? {
        attributes.insert("ecs.availability-zone".to_string(), Some(input.choose(&ZONES)?.to_string()));
    }
    if input.arbitrary()? {
        attributes.insert("stack".to_string(), Some(input.choose(&["prod", "dev"])?.to_string()));
    }
    let mut task_groups = BTreeMap::new();
    for group in GROUPS {
        let count = input.int_in_range(0..=2)?;
        if count > 0 {
            task_groups.insert(group.to_string(), count);
        }
    }
    let mut ports_tcp = BTreeSet::new();
    if input.arbitrary()? {
        ports_tcp.insert(8080);
    }
    Ok(InstanceView {
        id: format!("instance-{number}"),
        status: *input.choose(&[
            ContainerInstanceStatus::Active,
            ContainerInstanceStatus::Active,
            ContainerInstanceStatus::Draining,
        ])?,
        agent_connected: input.ratio(7, 8)?,
        remaining: Resources {
            cpu: input.int_in_range(0..=4096)?,
            memory: input.int_in_range(0..=8192)?,
            ports_tcp,
            ports_udp: BTreeSet::new(),
        },
        attributes,
        ec2_instance_id: format!("i-{number}"),
        agent_version: Some(input.choose(&["1.80.0", "1.9.2"])?.to_string()),
        registered_at_epoch_ms: input.int_in_range(0..=2_000_000_000_000)?,
        running_tasks_count: task_groups.values().sum(),
        task_groups,
        capacity_provider: None,
    })
}

/// Reads the input into a cluster, a request (or `None` when the wire rules are refused) and
/// a seed.
fn scenario(data: &[u8]) -> Result<Option<(Vec<InstanceView>, PlacementRequest, u64)>> {
    let mut input = Unstructured::new(data);
    let seed = input.arbitrary()?;
    let mut strategy = Vec::new();
    for _ in 0..input.int_in_range(0..=6)? {
        let kind = word(&mut input, &STRATEGY_TYPES)?;
        let field = optional_word(&mut input, &STRATEGY_FIELDS)?;
        match PlacementStrategy::from_wire(kind, field) {
            Ok(parsed) => strategy.push(parsed),
            Err(_) => return Ok(None),
        }
    }
    let mut constraints = Vec::new();
    for _ in 0..input.int_in_range(0..=11)? {
        let kind = word(&mut input, &CONSTRAINT_TYPES)?;
        let expression = optional_word(&mut input, &EXPRESSIONS)?;
        match PlacementConstraint::from_wire(kind, expression) {
            Ok(parsed) => constraints.push(parsed),
            Err(_) => return Ok(None),
        }
    }
    let mut demand =
        Resources { cpu: input.int_in_range(0..=2048)?, memory: input.int_in_range(0..=4096)?, ..Default::default() };
    if input.arbitrary()? {
        demand.ports_tcp.insert(8080);
    }
    let request = PlacementRequest {
        demand,
        count: input.int_in_range(1..=6)?,
        group: input.choose(&GROUPS)?.to_string(),
        constraints,
        strategy,
        required_attributes: if input.arbitrary()? { vec![("stack".to_string(), None)] } else { vec![] },
    };
    let instances =
        (0..input.int_in_range(1..=8)?).map(|number| instance(&mut input, number)).collect::<Result<_>>()?;
    Ok(Some((instances, request, seed)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(Some((instances, request, seed))) = scenario(data) else {
        return;
    };
    let indexed = place(&instances, &request, seed);
    let scanned = place_by_scan(&instances, &request, seed);
    assert_eq!(indexed, scanned, "the index and the reference scan disagree");
    let Ok(placements) = indexed else {
        return;
    };
    let placed: Vec<usize> = placements
        .iter()
        .filter_map(|placement| match placement {
            Placement::Placed(index) => Some(*index),
            Placement::Unplaceable(_) => None,
        })
        .collect();
    for constraint in &request.constraints {
        match constraint {
            PlacementConstraint::MemberOf(expression) if !expression.depends_on_placed_tasks() => {
                for index in &placed {
                    assert!(expression.matches(&instances[*index]), "{expression} placed on {}", instances[*index].id);
                }
            }
            PlacementConstraint::MemberOf(_) => {}
            PlacementConstraint::DistinctInstance => {
                let distinct: BTreeSet<usize> = placed.iter().copied().collect();
                assert_eq!(distinct.len(), placed.len(), "distinctInstance placed two copies on one instance");
                for index in &placed {
                    let existing = instances[*index].task_groups.get(&request.group).copied().unwrap_or(0);
                    assert_eq!(
                        existing, 0,
                        "distinctInstance placed on {}, which runs the group",
                        instances[*index].id
                    );
                }
            }
        }
    }
});
