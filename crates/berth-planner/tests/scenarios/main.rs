//! Multi-pass scenarios over the planner, driven by the in-crate simulation. Every step that
//! goes through `checked_step` asserts the deployment bounds.

mod arithmetic;
mod breaker;
mod daemon;
mod draining;
mod external;
mod floor_properties;
mod health;
mod load_balancer;
mod protection;
mod rolling;
mod scaling;
mod throttle;

use berth_planner::simulation::Simulation;
use berth_planner::{Bounds, Plan, SchedulingStrategy};
use std::time::Duration;

pub const TICK: Duration = Duration::from_secs(5);

pub fn replica(desired: u32, instances: u32) -> Simulation {
    Simulation::new(desired, SchedulingStrategy::Replica, instances)
}

/// One pass, asserting that the planner's own actions respect the bounds: RUNNING tasks
/// (settling or healthy) stay at or above the floor (or where they were, if already below),
/// healthy ones likewise, and occupying tasks at or below the ceiling (or where they were, if
/// already above). Only stops of unhealthy tasks may go below the floor.
pub fn checked_step(sim: &mut Simulation) -> Plan {
    let running_before = sim.running();
    let healthy_before = sim.healthy();
    let occupying_before = sim.occupying();
    let plan = sim.step();
    let bounds = Bounds::new(plan.desired_count, &sim.spec.deployment_configuration);
    let unhealthy_stops = plan.stops.iter().filter(|stop| stop.reason.is_failed_health_checks()).count();
    let floor = (bounds.minimum_running as usize).min(running_before);
    assert!(
        sim.running() + unhealthy_stops >= floor,
        "RUNNING {} fell below floor {floor}\n{}",
        sim.running(),
        plan.render(&sim.spec.name)
    );
    let healthy_floor = (bounds.minimum_running as usize).min(healthy_before);
    assert!(
        sim.healthy() + unhealthy_stops >= healthy_floor,
        "healthy {} fell below {healthy_floor}\n{}",
        sim.healthy(),
        plan.render(&sim.spec.name)
    );
    let ceiling = (bounds.maximum_occupying as usize).max(occupying_before);
    assert!(
        sim.occupying() <= ceiling,
        "occupying {} above ceiling {ceiling}\n{}",
        sim.occupying(),
        plan.render(&sim.spec.name)
    );
    plan
}

/// Checked passes with a tick between them until the plan reports steady.
pub fn run_checked_until_steady(sim: &mut Simulation, max_passes: usize) -> usize {
    for pass in 1..=max_passes {
        if checked_step(sim).steady {
            return pass;
        }
        sim.advance(TICK);
    }
    panic!("not steady after {max_passes} passes; events: {:#?}", sim.events);
}

pub fn count_events(sim: &Simulation, needle: &str) -> usize {
    sim.events.iter().filter(|event| event.contains(needle)).count()
}
