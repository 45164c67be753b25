use crate::{checked_step, replica, run_checked_until_steady, TICK};
use berth_planner::simulation::{instance_id, Simulation};
use berth_planner::StopReason;
use berth_types::{ContainerInstanceStatus, DesiredStatus, TaskStatus};

fn live_on(sim: &Simulation, instance: u32) -> usize {
    let id = instance_id(instance);
    sim.tasks.iter().filter(|task| task.instance == id && task.last_status != TaskStatus::Stopped).count()
}

#[test]
fn draining_starts_replacements_first_and_stops_once_they_run() {
    let mut sim = replica(3, 3);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    assert_eq!(live_on(&sim, 1), 1);
    sim.instance_mut(1).status = ContainerInstanceStatus::Draining;

    let first = checked_step(&mut sim);
    assert_eq!(first.launches.len(), 1, "max 200% leaves room for the replacement");
    assert!(first.stops.is_empty(), "min 100%: nothing stops before the replacement is RUNNING");
    let mut stopped_drained = false;
    for _ in 0..10 {
        sim.advance(TICK);
        let plan = checked_step(&mut sim);
        if let Some(stop) = plan.stops.first() {
            assert_eq!(stop.reason, StopReason::InstanceDraining);
            assert_eq!(sim.running(), 3, "the replacement runs (settling counts) before the drained task goes");
            stopped_drained = true;
        }
        if plan.steady {
            break;
        }
    }
    assert!(stopped_drained);
    assert_eq!(live_on(&sim, 1), 0);
}

#[test]
fn draining_with_min_50_stops_before_replacing() {
    let mut sim = replica(4, 2);
    sim.spec.deployment_configuration.minimum_healthy_percent = 50;
    sim.spec.deployment_configuration.maximum_percent = 100;
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.instance_mut(1).status = ContainerInstanceStatus::Draining;
    let first = checked_step(&mut sim);
    assert_eq!(first.stops.len(), 2);
    assert!(first.launches.is_empty());
    run_checked_until_steady(&mut sim, 20);
    assert_eq!(live_on(&sim, 1), 0);
    assert_eq!(live_on(&sim, 2), 4);
}

#[test]
fn pending_tasks_on_a_draining_instance_stop_at_once() {
    let mut sim = replica(2, 2);
    sim.deploy(1);
    checked_step(&mut sim); // two PROVISIONING tasks, one per instance
    sim.instance_mut(2).status = ContainerInstanceStatus::Draining;
    let plan = checked_step(&mut sim);
    assert_eq!(plan.stops.len(), 1);
    assert_eq!(plan.stops[0].reason, StopReason::InstanceDraining);
    assert_eq!(plan.launches.len(), 1);
    assert!(plan.events.iter().any(|event| event.message(&sim.spec.name).contains("has stopped 1 pending tasks")));
}

#[test]
fn disconnected_but_not_lost_instances_are_left_alone() {
    let mut sim = replica(2, 2);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.instance_mut(1).agent_connected = false;
    sim.advance(TICK);
    let plan = checked_step(&mut sim);
    assert!(plan.launches.is_empty() && plan.stops.is_empty());
    assert!(sim.tasks.iter().all(|task| task.desired_status == DesiredStatus::Running));
}
