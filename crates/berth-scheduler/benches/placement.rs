//! Placement speed and packing quality; run with `cargo bench -p berth-scheduler`.
//!
//! Prints placements per second for 100,000 copies onto 5,000 instances with binpack(memory)
//! and with spread(attribute:ecs.availability-zone) + binpack(memory), the latency of one
//! RunTask-sized call (what the server pays per request, dominated by per-call setup on large
//! clusters), a random-strategy figure for contrast, and how many instances binpack uses for a
//! seeded mixed workload against the lower bound.
//! Plain `std::time::Instant`: numbers for closing notes, never for timed tests.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use berth_scheduler::{place, BinpackField, InstanceView, Placement, PlacementRequest, PlacementStrategy, SpreadField};
use berth_types::{ContainerInstanceStatus, Resources};

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn cluster(size: usize, cpu: i64, memory: i64) -> Vec<InstanceView> {
    (0..size)
        .map(|number| InstanceView {
            id: format!("ci-{number:05}"),
            status: ContainerInstanceStatus::Active,
            agent_connected: true,
            remaining: Resources {
                cpu,
                memory,
                ports_tcp: [22, 2375, 2376, 51678, 51679].into(),
                ports_udp: Default::default(),
            },
            attributes: BTreeMap::from([
                ("ecs.availability-zone".to_string(), Some(ZONES[number % ZONES.len()].to_string())),
                ("ecs.instance-type".to_string(), Some("m5.2xlarge".to_string())),
                ("ecs.os-type".to_string(), Some("linux".to_string())),
            ]),
            ec2_instance_id: format!("i-{number:017x}"),
            agent_version: Some("1.80.0".to_string()),
            registered_at_epoch_ms: 1_700_000_000_000,
            running_tasks_count: 0,
            task_groups: BTreeMap::new(),
            capacity_provider: None,
        })
        .collect()
}

/// `cluster` with tasks of a few services on every instance, as a busy cluster has: the group
/// counts placement reads are then real map lookups, not lookups in empty maps.
fn busy_cluster(size: usize, cpu: i64, memory: i64) -> Vec<InstanceView> {
    let mut instances = cluster(size, cpu, memory);
    for (number, instance) in instances.iter_mut().enumerate() {
        for service in 0..4 {
            instance.task_groups.insert(format!("service:svc-{:02}", (number + service * 7) % 40), 1);
        }
        if number % 5 == 0 {
            instance.task_groups.insert("service:web".to_string(), 1);
        }
        instance.running_tasks_count = instance.task_groups.values().sum();
    }
    instances
}

fn request(cpu: i64, memory: i64, count: usize, strategy: Vec<PlacementStrategy>) -> PlacementRequest {
    PlacementRequest {
        demand: Resources { cpu, memory, ..Resources::default() },
        count,
        group: "service:web".to_string(),
        constraints: vec![],
        strategy,
        required_attributes: vec![],
    }
}

fn zone_spread() -> PlacementStrategy {
    PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".to_string()))
}

/// Mean latency of one `place` call over `calls` seeds: what one RunTask request pays.
fn per_call(name: &str, instances: &[InstanceView], request: &PlacementRequest, calls: u64) {
    let started = Instant::now();
    for seed in 0..calls {
        black_box(place(black_box(instances), black_box(request), seed).expect("valid request"));
    }
    println!("{name:<56} {:>8.2} µs per call", started.elapsed().as_secs_f64() * 1e6 / calls as f64);
}

fn speed(name: &str, instances: &[InstanceView], request: &PlacementRequest) {
    let started = Instant::now();
    let placements = place(instances, request, 7).expect("valid request");
    let elapsed = started.elapsed();
    let placed = placements.iter().filter(|placement| matches!(placement, Placement::Placed(_))).count();
    println!(
        "{name:<56} {placed:>7} placed in {:>8.1} ms  = {:>10.0} placements/s",
        elapsed.as_secs_f64() * 1e3,
        placed as f64 / elapsed.as_secs_f64()
    );
}

/// A seeded mix of 128/256/512/1024 MiB and CPU units, placed one RunTask-sized call at a time
/// with binpack(memory) onto identical instances, each call seeing what earlier calls took.
fn packing_quality(strategy: Vec<PlacementStrategy>, label: &str) {
    const INSTANCE_CPU: i64 = 4096;
    const INSTANCE_MEMORY: i64 = 8192;
    const TASKS: usize = 4000;
    const SIZES: [i64; 4] = [128, 256, 512, 1024];
    let mut state: u64 = 0x5EED;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let tasks: Vec<(i64, i64)> =
        (0..TASKS).map(|_| (SIZES[(next() % 4) as usize], SIZES[(next() % 4) as usize])).collect();
    let total_cpu: i64 = tasks.iter().map(|(cpu, _)| cpu).sum();
    let total_memory: i64 = tasks.iter().map(|(_, memory)| memory).sum();
    let lower_bound =
        ((total_cpu + INSTANCE_CPU - 1) / INSTANCE_CPU).max((total_memory + INSTANCE_MEMORY - 1) / INSTANCE_MEMORY);
    let mut instances = cluster(lower_bound as usize * 2, INSTANCE_CPU, INSTANCE_MEMORY);
    let mut used = vec![false; instances.len()];
    for (call, &(cpu, memory)) in tasks.iter().enumerate() {
        let placements =
            place(&instances, &request(cpu, memory, 1, strategy.clone()), call as u64).expect("valid request");
        let Placement::Placed(index) = placements[0] else { panic!("ran out of instances") };
        instances[index].remaining.cpu -= cpu;
        instances[index].remaining.memory -= memory;
        instances[index].running_tasks_count += 1;
        used[index] = true;
    }
    let used = used.iter().filter(|used| **used).count();
    println!(
        "packing {TASKS} mixed tasks with {label:<28} {used} instances, lower bound {lower_bound}, ratio {:.3}",
        used as f64 / lower_bound as f64
    );
}

fn main() {
    let instances = cluster(5000, 8192, 16384);
    let busy = busy_cluster(5000, 8192, 16384);
    let many = 100_000;
    per_call(
        "random chain, 5,000 instances, count 10, per call",
        &busy,
        &request(256, 512, 10, PlacementStrategy::run_task_default()),
        2000,
    );
    per_call(
        "random chain, 5,000 instances, count 10, no groups",
        &instances,
        &request(256, 512, 10, PlacementStrategy::run_task_default()),
        2000,
    );
    per_call(
        "random chain, 5,000 instances, count 1, per call",
        &busy,
        &request(256, 512, 1, PlacementStrategy::run_task_default()),
        2000,
    );
    per_call(
        "binpack(memory), 5,000 instances, count 1, per call",
        &busy,
        &request(256, 512, 1, vec![PlacementStrategy::Binpack(BinpackField::Memory)]),
        200,
    );
    per_call(
        "spread(zone)+binpack(memory), 5,000, count 10, per call",
        &busy,
        &request(256, 512, 10, vec![zone_spread(), PlacementStrategy::Binpack(BinpackField::Memory)]),
        200,
    );
    per_call(
        "service default, 5,000 instances, count 10, per call",
        &busy,
        &request(256, 512, 10, PlacementStrategy::service_default()),
        200,
    );
    speed(
        "100k copies onto 5k instances, binpack(memory)",
        &instances,
        &request(256, 512, many, vec![PlacementStrategy::Binpack(BinpackField::Memory)]),
    );
    speed(
        "100k copies, spread(zone) + binpack(memory)",
        &instances,
        &request(256, 512, many, vec![zone_spread(), PlacementStrategy::Binpack(BinpackField::Memory)]),
    );
    speed(
        "100k copies, spread(zone) + spread(instanceId)",
        &instances,
        &request(256, 512, many, PlacementStrategy::service_default()),
    );
    speed("10k copies, random", &instances, &request(256, 512, 10_000, vec![PlacementStrategy::Random]));
    packing_quality(vec![PlacementStrategy::Binpack(BinpackField::Memory)], "binpack(memory):");
    packing_quality(
        vec![PlacementStrategy::Binpack(BinpackField::Memory), PlacementStrategy::Binpack(BinpackField::Cpu)],
        "binpack(memory), binpack(cpu):",
    );
    packing_quality(vec![PlacementStrategy::Random], "random (for contrast):");
}
