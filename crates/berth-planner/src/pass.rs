//! One planning pass, start to finish: classify the tasks, account for what happened since
//! the last pass, let the circuit breaker act, decide starts and stops (per scheduling
//! strategy), then settle deployments, steady state and events into a [`Plan`].
//!
//! Invariant: the pass reads only the snapshot and writes only its own copy of the progress;
//! the same snapshot always yields the same plan.

use crate::bounds::Bounds;
use crate::classify::{classify, instance_index, TaskState};
use crate::events::ServiceEvent;
use crate::model::TaskDefinitionKey;
use crate::model::{SchedulingStrategy, Snapshot};
use crate::plan::{Launch, Plan, Stop, StopReason};
use crate::progress::DeploymentId;
use crate::progress::{Deployment, DeploymentStatus, RolloutState, ServiceProgress};
use crate::{breaker, daemon, external, lost, observe, replica, settle};
use berth_types::{ContainerInstanceId, ContainerInstanceStatus, TaskId, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

pub(crate) struct Pass<'a> {
    pub snapshot: &'a Snapshot,
    pub tasks: Vec<TaskState<'a>>,
    pub progress: ServiceProgress,
    /// `desiredCount` for REPLICA; the eligible instances for DAEMON.
    pub desired_count: u32,
    pub bounds: Bounds,
    /// DAEMON only: the instances that should each run one task, in ID order.
    pub eligible_instances: Vec<ContainerInstanceId>,
    eligible_lookup: HashSet<ContainerInstanceId>,
    pub rng: StdRng,
    pub launches: Vec<Launch>,
    pub stops: Vec<Stop>,
    pub events: Vec<ServiceEvent>,
    pub wake_at: Option<Timestamp>,
    pub launches_throttled_until: Option<Timestamp>,
    /// Stops this pass wanted but left to protected tasks (`protection`).
    pub protected_held_back: u32,
    /// EXTERNAL only: every task set holds its count, stably (`external`).
    pub external_settled: Option<bool>,
}

pub(crate) fn run(snapshot: &Snapshot) -> Plan {
    let instances = instance_index(&snapshot.instances);
    let classification = classify(snapshot, &instances);
    let eligible_instances = match snapshot.service.scheduling_strategy {
        SchedulingStrategy::Replica => Vec::new(),
        SchedulingStrategy::Daemon => {
            let mut eligible: Vec<ContainerInstanceId> = snapshot
                .instances
                .iter()
                .filter(|instance| {
                    instance.status == ContainerInstanceStatus::Active
                        && instance.agent_connected
                        && !instance.lost
                        && instance.satisfies_constraints
                })
                .map(|instance| instance.id.clone())
                .collect();
            eligible.sort();
            eligible
        }
    };
    let desired_count = match snapshot.service.scheduling_strategy {
        SchedulingStrategy::Replica => snapshot.service.desired_count,
        SchedulingStrategy::Daemon => u32::try_from(eligible_instances.len()).unwrap_or(u32::MAX),
    };
    let mut pass = Pass {
        snapshot,
        tasks: classification.tasks,
        progress: snapshot.progress.clone(),
        desired_count,
        bounds: Bounds::new(desired_count, &snapshot.service.deployment_configuration),
        eligible_lookup: eligible_instances.iter().cloned().collect(),
        eligible_instances,
        rng: StdRng::seed_from_u64(snapshot.seed),
        launches: Vec::new(),
        stops: Vec::new(),
        events: Vec::new(),
        wake_at: None,
        launches_throttled_until: None,
        protected_held_back: 0,
        external_settled: None,
    };
    if let Some(at) = classification.next_change_at {
        pass.wake(at);
    }
    observe::account_for_changes(&mut pass);
    lost::stop_tasks_on_lost_instances(&mut pass);
    if let Some(task_sets) = &snapshot.service.task_sets {
        external::decide(&mut pass, task_sets);
    } else if pass.primary().is_some() {
        breaker::trip_if_over_threshold(&mut pass);
        breaker::trip_on_alarm(&mut pass);
        match snapshot.service.scheduling_strategy {
            SchedulingStrategy::Replica => replica::decide(&mut pass),
            SchedulingStrategy::Daemon => daemon::decide(&mut pass),
        }
    }
    settle::finish(pass)
}

impl<'a> Pass<'a> {
    pub fn now(&self) -> Timestamp {
        self.snapshot.now
    }

    pub fn primary(&self) -> Option<&Deployment> {
        self.progress.primary()
    }

    pub fn primary_mut(&mut self) -> Option<&mut Deployment> {
        self.progress.deployments.iter_mut().find(|deployment| deployment.status == DeploymentStatus::Primary)
    }

    pub fn primary_failed(&self) -> bool {
        self.primary().is_some_and(|primary| primary.rollout_state == RolloutState::Failed)
    }

    pub fn is_primary_task(&self, task: &TaskState) -> bool {
        self.primary().is_some_and(|primary| primary.id == task.task.deployment)
    }

    /// Whether the task counts toward the desired count where it runs: not on a draining
    /// instance (REPLICA), on an eligible instance (DAEMON).
    pub fn serves(&self, task: &TaskState) -> bool {
        match self.snapshot.service.scheduling_strategy {
            SchedulingStrategy::Replica => !task.on_draining_instance,
            SchedulingStrategy::Daemon => self.eligible_lookup.contains(&task.task.instance),
        }
    }

    pub fn wake(&mut self, at: Timestamp) {
        if at > self.now() {
            self.wake_at = Some(self.wake_at.map_or(at, |earliest| earliest.min(at)));
        }
    }

    pub fn stop(&mut self, index: usize, reason: StopReason) {
        let task = &mut self.tasks[index];
        if task.stop_requested {
            return;
        }
        task.stop_requested = true;
        self.stops.push(Stop { task_id: task.task.id.clone(), reason });
    }

    /// Whether launches may happen now: the PRIMARY has not failed and the throttle allows.
    /// Records the throttle's hold so the plan can say until when.
    pub fn may_launch(&mut self) -> bool {
        if self.primary_failed() || self.snapshot.service.hold_launches {
            return false;
        }
        match self.progress.throttle.next_launch_at {
            Some(at) if at > self.now() => {
                self.launches_throttled_until = Some(at);
                self.wake(at);
                false
            }
            _ => true,
        }
    }

    /// Launches a task of the PRIMARY deployment.
    pub fn launch(&mut self, instance: Option<ContainerInstanceId>) {
        let Some(primary) = self.primary() else { return };
        let (deployment, task_definition) = (primary.id.clone(), primary.task_definition.clone());
        self.launch_for(deployment, task_definition, instance);
    }

    /// Launches a task that carries `deployment` (a deployment or an EXTERNAL task set).
    pub fn launch_for(
        &mut self,
        deployment: DeploymentId,
        task_definition: TaskDefinitionKey,
        instance: Option<ContainerInstanceId>,
    ) {
        let task_id = self.new_task_id();
        self.launches.push(Launch { task_id, deployment, task_definition, instance });
    }

    fn new_task_id(&mut self) -> TaskId {
        let high: u64 = self.rng.random();
        let low: u64 = self.rng.random();
        TaskId::parse(&format!("{high:016x}{low:016x}")).expect("32 lowercase hexadecimal digits are a valid task ID")
    }

    /// Indexes of tasks matching `filter`, in snapshot order.
    pub fn task_indexes(&self, filter: impl Fn(&TaskState) -> bool) -> Vec<usize> {
        (0..self.tasks.len()).filter(|&index| filter(&self.tasks[index])).collect()
    }

    pub fn note_of(&self, task: &TaskState) -> crate::progress::TaskNote {
        self.progress.task_notes.get(&task.task.id).copied().unwrap_or_default()
    }

    /// The deployment's creation time; unknown (pruned) deployments count as oldest.
    pub fn deployment_age_key(&self, task: &TaskState) -> Timestamp {
        self.progress.deployment(&task.task.deployment).map_or(Timestamp(i64::MIN), |deployment| deployment.created_at)
    }
}
