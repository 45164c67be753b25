//! The deployment floor under random interleavings: whatever happens between passes —
//! deployments started inside the settle window, scale changes, containers exiting, instances
//! draining, lost and returning — no pass of the planner stops a RUNNING task (settling or
//! healthy) when that takes the service below `ceil(minimumHealthyPercent × desired)` RUNNING
//! tasks, and none launches above `floor(maximumPercent × desired)`. `checked_step` asserts
//! both after every pass.

use crate::{checked_step, replica, run_checked_until_steady};
use berth_planner::simulation::{Simulation, TaskBehaviour};
use berth_planner::StopReason;
use berth_types::{ContainerInstanceStatus, DesiredStatus, TaskStatus};
use proptest::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Event {
    /// Time passes and agents move every task one step.
    Advance(u64),
    /// UpdateService with a new revision behaving so.
    Deploy(TaskBehaviour),
    Scale(u32),
    /// An essential container of the n-th task (modulo the task count) exits.
    Exit(usize),
    Drain(u32),
    Activate(u32),
    Lose(u32),
    Return(u32),
}

const INSTANCES: u32 = 3;

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (1u64..7).prop_map(Event::Advance),
        2 => prop_oneof![
            4 => Just(TaskBehaviour::Healthy),
            1 => Just(TaskBehaviour::FailsToStart),
            1 => Just(TaskBehaviour::ExitsAfterRunning),
        ]
        .prop_map(Event::Deploy),
        1 => (0u32..7).prop_map(Event::Scale),
        1 => (0usize..64).prop_map(Event::Exit),
        1 => (1..=INSTANCES).prop_map(Event::Drain),
        1 => (1..=INSTANCES).prop_map(Event::Activate),
        1 => (1..=INSTANCES).prop_map(Event::Lose),
        1 => (1..=INSTANCES).prop_map(Event::Return),
    ]
}

fn apply(sim: &mut Simulation, event: &Event, next_revision: &mut u32) {
    match event {
        Event::Advance(seconds) => sim.advance(Duration::from_secs(*seconds)),
        Event::Deploy(behaviour) => {
            *next_revision += 1;
            sim.behaviours.insert(*next_revision, *behaviour);
            sim.deploy(*next_revision);
        }
        Event::Scale(desired) => sim.spec.desired_count = *desired,
        Event::Exit(index) => {
            if !sim.tasks.is_empty() {
                let index = index % sim.tasks.len();
                sim.exit_task(index);
            }
        }
        Event::Drain(number) => sim.instance_mut(*number).status = ContainerInstanceStatus::Draining,
        Event::Activate(number) => sim.instance_mut(*number).status = ContainerInstanceStatus::Active,
        Event::Lose(number) => {
            let instance = sim.instance_mut(*number);
            instance.agent_connected = false;
            instance.lost = true;
        }
        Event::Return(number) => {
            let instance = sim.instance_mut(*number);
            instance.agent_connected = true;
            instance.lost = false;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_pass_stops_running_tasks_below_the_floor(
        desired in 1u32..6,
        (minimum, maximum) in prop_oneof![Just((100u32, 200u32)), Just((50, 150)), Just((100, 150)), Just((50, 100)), Just((0, 100))],
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let mut sim = replica(desired, INSTANCES);
        sim.spec.deployment_configuration.minimum_healthy_percent = minimum;
        sim.spec.deployment_configuration.maximum_percent = maximum;
        sim.deploy(1);
        let mut next_revision = 1;
        checked_step(&mut sim);
        for event in &events {
            apply(&mut sim, event, &mut next_revision);
            checked_step(&mut sim);
        }
    }
}

/// The first defect of the issue, as a user met it: a rolling update started while the
/// three tasks are still settling used to stop all three at once.
#[test]
fn an_update_inside_the_settle_window_keeps_every_running_task_until_replacements_run() {
    let mut sim = replica(3, 3);
    sim.deploy(1);
    checked_step(&mut sim);
    sim.advance(Duration::from_secs(1));
    checked_step(&mut sim);
    assert_eq!(sim.running(), 3, "all three RUNNING, none settled yet");
    sim.deploy(2);
    let plan = checked_step(&mut sim);
    assert_eq!(plan.launches.len(), 3, "maximumPercent 200 allows three new tasks at once");
    assert!(plan.stops.is_empty(), "no RUNNING task stops before a replacement runs: {}", plan.render(&sim.spec.name));
    for _ in 0..40 {
        sim.advance(Duration::from_secs(1));
        if checked_step(&mut sim).steady {
            break;
        }
    }
    assert!(sim.progress.primary().is_some_and(|primary| primary.task_definition.revision == 2));
}

/// The second: a replacement still settling was stopped by the update, leaving two.
#[test]
fn a_settling_replacement_counts_toward_the_floor() {
    let mut sim = replica(3, 3);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.exit_task(0);
    checked_step(&mut sim);
    sim.advance(Duration::from_secs(1));
    checked_step(&mut sim);
    assert_eq!(sim.running(), 3);
    sim.deploy(2);
    let plan = checked_step(&mut sim);
    assert!(
        plan.stops.iter().all(|stop| {
            let task = sim.tasks.iter().find(|task| task.id == stop.task_id).unwrap();
            task.last_status != TaskStatus::Running
        }),
        "{}",
        plan.render(&sim.spec.name)
    );
    assert_eq!(sim.running(), 3);
}

#[test]
fn a_lost_instances_tasks_are_stopped_once_and_no_longer_count() {
    let mut sim = replica(4, 2);
    sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    let lost_instance = sim.tasks[0].instance.clone();
    let number = (1..=2).find(|n| berth_planner::simulation::instance_id(*n) == lost_instance).unwrap();
    let on_lost = sim.tasks.iter().filter(|task| task.instance == lost_instance).count();
    {
        let instance = sim.instance_mut(number);
        instance.agent_connected = false;
        instance.lost = true;
    }
    let plan = checked_step(&mut sim);
    let lost_stops: Vec<_> = plan.stops.iter().filter(|stop| stop.reason == StopReason::InstanceLost).collect();
    assert_eq!(lost_stops.len(), on_lost);
    assert_eq!(plan.launches.len(), on_lost, "each lost task is replaced");
    let messages: Vec<String> = plan.events.iter().map(|event| event.message(&sim.spec.name)).collect();
    assert!(
        messages.iter().any(|message| message.contains("was lost") && message.contains(&lost_instance.to_string())),
        "{messages:?}"
    );
    assert!(sim
        .tasks
        .iter()
        .filter(|task| task.instance == lost_instance)
        .all(|task| task.desired_status == DesiredStatus::Stopped
            && task.stopped_reason.as_deref() == Some(StopReason::INSTANCE_LOST)));
    // Asked once: the next pass leaves them alone.
    sim.advance(Duration::from_secs(1));
    let again = checked_step(&mut sim);
    assert!(again.stops.iter().all(|stop| stop.reason != StopReason::InstanceLost));
    run_checked_until_steady(&mut sim, 20);
    // The agent comes back: its tasks are already desired STOPPED, so it stops them and the
    // service keeps exactly four.
    {
        let instance = sim.instance_mut(number);
        instance.agent_connected = true;
        instance.lost = false;
    }
    sim.advance(Duration::from_secs(1));
    run_checked_until_steady(&mut sim, 20);
    assert_eq!(sim.occupying(), 4);
}

/// A new revision whose tasks reach RUNNING and then exit: each one RUNNING for a moment
/// counts toward the RUNNING floor, but stopping a healthy old task for it would leave fewer
/// healthy tasks than the floor, so the old tasks all keep running until the breaker acts.
#[test]
fn tasks_that_crash_after_running_never_erode_the_healthy_ones() {
    let mut sim = replica(3, 3);
    sim.spec.deployment_configuration.circuit_breaker.enable = true;
    sim.spec.deployment_configuration.circuit_breaker.rollback = true;
    let good = sim.deploy(1);
    run_checked_until_steady(&mut sim, 10);
    sim.behaviours.insert(2, TaskBehaviour::ExitsAfterRunning);
    sim.deploy(2);
    for _ in 0..30 {
        let plan = checked_step(&mut sim);
        let stopped_good = plan
            .stops
            .iter()
            .any(|stop| sim.tasks.iter().any(|task| task.id == stop.task_id && task.deployment == good));
        assert!(!stopped_good, "a healthy task of the good revision was stopped: {}", plan.render(&sim.spec.name));
        if sim.progress.primary().is_some_and(|primary| primary.rollback_of.is_some()) {
            break;
        }
        sim.advance(Duration::from_secs(1));
    }
    assert!(sim.progress.primary().is_some_and(|primary| primary.rollback_of.is_some()), "the breaker rolled back");
}
