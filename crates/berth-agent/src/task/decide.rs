//! The pure heart of a task's life: given what the agent knows about a task, the one next
//! thing to do. The runner executes the action, folds the outcome into the state and asks
//! again, so every rule of the lifecycle is here and testable without a runtime.
//!
//! Order of concerns: a task that must stop (desired STOPPED, a failure, an essential exit, a
//! dependency that can never be met) stops, dependents first; otherwise images, volumes and
//! containers are prepared, containers start as their `dependsOn` conditions allow, and the
//! task is RUNNING once every container has started.

use crate::task::state::{ContainerPhase, TaskState, ESSENTIAL_EXITED_REASON};
use berth_types::spec::DependencyCondition;
use berth_types::{DesiredStatus, HealthStatus, TaskStatus, TaskStopCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make sure the images of the containers still to be created are present, pulling those
    /// that are not.
    PrepareImages,
    /// Create the task's Docker volumes that need creating.
    PrepareVolumes,
    Create(usize),
    Start(usize),
    MarkRunning,
    /// Report STOPPING before stopping containers.
    BeginStopping {
        stop_code: Option<TaskStopCode>,
        reason: Option<String>,
    },
    /// Stop these running containers (one wave: none of them is a dependency of another
    /// running container).
    Stop(Vec<usize>),
    /// No container runs any more: the task is STOPPED.
    MarkStopped {
        stop_code: Option<TaskStopCode>,
        reason: Option<String>,
    },
    /// Remove the stopped task's containers and task-scoped volumes.
    Cleanup,
    /// Nothing to do until a container event, a new desired status or the cleanup deadline.
    Wait,
    /// The task is stopped and cleaned up; the agent may forget it.
    Finished,
}

/// The next action for `task`. `cleanup_due` says whether the cleanup wait after STOPPED has
/// passed (the runner owns the clock).
pub fn decide(task: &TaskState, cleanup_due: bool) -> Action {
    if task.status == TaskStatus::Stopped {
        return if task.cleaned_up {
            Action::Finished
        } else if cleanup_due || task.purge {
            Action::Cleanup
        } else {
            Action::Wait
        };
    }
    if let Some((stop_code, reason)) = stop_cause(task) {
        let running = running_containers(task);
        if running.is_empty() {
            return Action::MarkStopped { stop_code, reason };
        }
        if task.status < TaskStatus::Stopping {
            return Action::BeginStopping { stop_code, reason };
        }
        return Action::Stop(stop_wave(task, &running));
    }
    let needs_creation = task.containers.iter().any(|track| track.phase == ContainerPhase::NotCreated);
    if needs_creation && !task.images_ready {
        return Action::PrepareImages;
    }
    if needs_creation && !task.volumes_ready {
        return Action::PrepareVolumes;
    }
    if let Some(index) = task.containers.iter().position(|track| track.phase == ContainerPhase::NotCreated) {
        return Action::Create(index);
    }
    for (index, track) in task.containers.iter().enumerate() {
        if track.phase == ContainerPhase::Created && dependencies_met(task, index) {
            return Action::Start(index);
        }
    }
    let all_started = task.containers.iter().all(|track| track.phase >= ContainerPhase::Running);
    if task.status < TaskStatus::Running && all_started {
        return Action::MarkRunning;
    }
    Action::Wait
}

/// Why the task must stop, if it must: `(stop code, reason)` to report, `None`s when the
/// server already holds them (a user or scheduler stop).
fn stop_cause(task: &TaskState) -> Option<(Option<TaskStopCode>, Option<String>)> {
    if task.desired == DesiredStatus::Stopped || task.purge {
        return Some((task.stop_code, task.stopped_reason.clone()));
    }
    if task.stop_code.is_some() {
        return Some((task.stop_code, task.stopped_reason.clone()));
    }
    let essential_exited = task
        .spec
        .containers
        .iter()
        .zip(&task.containers)
        .any(|(spec, track)| spec.essential && track.phase == ContainerPhase::Stopped);
    if essential_exited {
        return Some((Some(TaskStopCode::EssentialContainerExited), Some(ESSENTIAL_EXITED_REASON.to_string())));
    }
    for (index, track) in task.containers.iter().enumerate() {
        if track.phase > ContainerPhase::Created {
            continue;
        }
        if let Some(reason) = unmeetable_dependency(task, index) {
            return Some((Some(TaskStopCode::TaskFailedToStart), Some(reason)));
        }
    }
    None
}

fn running_containers(task: &TaskState) -> Vec<usize> {
    (0..task.containers.len()).filter(|index| task.containers[*index].phase == ContainerPhase::Running).collect()
}

/// The running containers that no other running container depends on: stopping them first
/// keeps a dependency (a proxy, a database) up until its dependents are gone.
fn stop_wave(task: &TaskState, running: &[usize]) -> Vec<usize> {
    let depended_on = |index: usize| {
        let name = &task.spec.containers[index].name;
        running.iter().any(|other| {
            *other != index
                && task.spec.containers[*other].depends_on.iter().any(|dependency| &dependency.container_name == name)
        })
    };
    let wave: Vec<usize> = running.iter().copied().filter(|index| !depended_on(*index)).collect();
    // A dependency cycle would leave no wave at all; stop everything together then.
    if wave.is_empty() {
        running.to_vec()
    } else {
        wave
    }
}

fn dependency_index(task: &TaskState, name: &str) -> Option<usize> {
    task.spec.containers.iter().position(|container| container.name == name)
}

fn dependencies_met(task: &TaskState, index: usize) -> bool {
    task.spec.containers[index].depends_on.iter().all(|dependency| {
        let Some(target) = dependency_index(task, &dependency.container_name) else {
            return false;
        };
        let track = &task.containers[target];
        match dependency.condition {
            DependencyCondition::Start => track.started,
            DependencyCondition::Complete => track.phase == ContainerPhase::Stopped && track.started,
            DependencyCondition::Success => track.phase == ContainerPhase::Stopped && track.exit_code == Some(0),
            DependencyCondition::Healthy => {
                track.phase == ContainerPhase::Running && track.health == HealthStatus::Healthy
            }
        }
    })
}

/// A dependency of container `index` that can never be met, as a reason to report.
fn unmeetable_dependency(task: &TaskState, index: usize) -> Option<String> {
    let container = &task.spec.containers[index].name;
    for dependency in &task.spec.containers[index].depends_on {
        let Some(target) = dependency_index(task, &dependency.container_name) else {
            return Some(format!(
                "DependencyError: container {container} depends on unknown container {}",
                dependency.container_name
            ));
        };
        let track = &task.containers[target];
        let stopped = track.phase == ContainerPhase::Stopped;
        let unmeetable = match dependency.condition {
            DependencyCondition::Start | DependencyCondition::Complete => stopped && !track.started,
            DependencyCondition::Success => stopped && track.exit_code != Some(0),
            DependencyCondition::Healthy => stopped,
        };
        if unmeetable {
            return Some(format!(
                "DependencyError: container {container} cannot start: dependency {} did not meet condition {}",
                dependency.container_name,
                condition_name(dependency.condition)
            ));
        }
    }
    None
}

fn condition_name(condition: DependencyCondition) -> &'static str {
    match condition {
        DependencyCondition::Start => "START",
        DependencyCondition::Complete => "COMPLETE",
        DependencyCondition::Success => "SUCCESS",
        DependencyCondition::Healthy => "HEALTHY",
    }
}
