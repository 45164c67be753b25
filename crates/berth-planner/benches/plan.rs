//! One full planning pass over 500 services holding 5,000 tasks in total (10 each, on 50
//! instances): half steady, a quarter in the first pass of a rolling update, a quarter midway
//! through one. Prints the time of a pass (best and median of 30). Target: under 50 ms.
//!
//! Run: `cargo bench -p berth-planner --bench plan`

use berth_planner::simulation::Simulation;
use berth_planner::{plan, SchedulingStrategy, Snapshot};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SERVICES: usize = 500;
const TASKS_PER_SERVICE: u32 = 10;
const INSTANCES: u32 = 50;

fn service_snapshot(index: usize) -> Snapshot {
    let mut sim = Simulation::new(TASKS_PER_SERVICE, SchedulingStrategy::Replica, INSTANCES);
    sim.deploy(1);
    sim.run_until_steady(20, Duration::from_secs(5)).expect("a healthy service becomes steady");
    match index % 4 {
        0 | 1 => {}
        2 => {
            sim.deploy(2);
        }
        _ => {
            sim.deploy(2);
            for _ in 0..3 {
                sim.step();
                sim.advance(Duration::from_secs(5));
            }
        }
    }
    sim.snapshot()
}

fn main() {
    let snapshots: Vec<Snapshot> = (0..SERVICES).map(service_snapshot).collect();
    let tasks: usize = snapshots.iter().map(|snapshot| snapshot.tasks.len()).sum();
    let mut timings = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        for snapshot in &snapshots {
            black_box(plan(black_box(snapshot)));
        }
        timings.push(started.elapsed());
    }
    timings.sort();
    println!(
        "planned {SERVICES} services ({tasks} tasks, incl. stopped) in one pass: best {:.2} ms, median {:.2} ms (target < 50 ms)",
        timings[0].as_secs_f64() * 1e3,
        timings[timings.len() / 2].as_secs_f64() * 1e3,
    );
}
