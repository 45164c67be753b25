use crate::{checked_step, run_checked_until_steady, TICK};
use berth_planner::simulation::{instance_id, Simulation};
use berth_planner::{RolloutState, SchedulingStrategy, StopReason};
use berth_types::{ContainerInstanceStatus, TaskStatus};

fn daemon(instances: u32) -> Simulation {
    let mut sim = Simulation::new(0, SchedulingStrategy::Daemon, instances);
    sim.deploy(1);
    sim
}

fn live(sim: &Simulation) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = sim
        .tasks
        .iter()
        .filter(|task| task.last_status != TaskStatus::Stopped)
        .map(|task| {
            let instance = (1..=10).find(|n| instance_id(*n) == task.instance).unwrap();
            let revision = sim.progress.deployment(&task.deployment).map_or(0, |d| d.task_definition.revision);
            (instance, revision)
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn one_task_per_eligible_instance_including_new_ones() {
    let mut sim = daemon(3);
    sim.instance_mut(3).satisfies_constraints = false;
    let first = checked_step(&mut sim);
    assert_eq!(first.desired_count, 2);
    let named: Vec<_> = first.launches.iter().map(|launch| launch.instance.clone().unwrap()).collect();
    assert_eq!(named, vec![instance_id(1), instance_id(2)]);
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(sim.progress.primary().unwrap().rollout_state, RolloutState::Completed);

    sim.instances.push(Simulation::healthy_instance(4));
    let joined = checked_step(&mut sim);
    assert_eq!(joined.desired_count, 3);
    assert_eq!(joined.launches.len(), 1);
    assert_eq!(joined.launches[0].instance, Some(instance_id(4)));
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(live(&sim), vec![(1, 1), (2, 1), (4, 1)]);
}

#[test]
fn draining_and_ineligible_instances_lose_their_task() {
    let mut sim = daemon(3);
    run_checked_until_steady(&mut sim, 10);
    sim.instance_mut(2).status = ContainerInstanceStatus::Draining;
    sim.instance_mut(3).satisfies_constraints = false;
    let plan = checked_step(&mut sim);
    assert_eq!(plan.desired_count, 1);
    let reasons: Vec<_> = plan.stops.iter().map(|stop| stop.reason.clone()).collect();
    assert_eq!(reasons, vec![StopReason::InstanceDraining, StopReason::InstanceIneligible]);
    assert!(plan.launches.is_empty());
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(live(&sim), vec![(1, 1)]);
}

#[test]
fn deployment_replaces_per_instance_within_the_floor() {
    let mut sim = daemon(4);
    sim.spec.deployment_configuration.minimum_healthy_percent = 50;
    run_checked_until_steady(&mut sim, 10);
    sim.deploy(2);
    let first = checked_step(&mut sim);
    assert_eq!(first.stops.len(), 2, "floor ceil(50% of 4) = 2");
    assert!(first.launches.is_empty(), "an instance gets its new task once the old one is gone");
    sim.advance(TICK);
    let second = checked_step(&mut sim);
    assert_eq!(second.launches.len(), 2);
    assert!(second.launches.iter().all(|launch| launch.instance.is_some()));
    run_checked_until_steady(&mut sim, 20);
    assert_eq!(live(&sim), vec![(1, 2), (2, 2), (3, 2), (4, 2)]);
}

#[test]
fn default_daemon_bounds_replace_everything_at_once() {
    let mut sim = daemon(3);
    run_checked_until_steady(&mut sim, 10);
    sim.deploy(2);
    assert_eq!(checked_step(&mut sim).stops.len(), 3);
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(live(&sim), vec![(1, 2), (2, 2), (3, 2)]);
}
