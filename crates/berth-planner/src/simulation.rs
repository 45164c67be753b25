//! A tiny, deterministic world for exercising the planner over many passes: it applies a
//! plan the way the control plane would (placing launches on the least loaded instance,
//! marking stops), then advances time and moves every task one lifecycle step the way an
//! agent would report it, according to a behaviour chosen per task definition revision.
//!
//! Invariant: pure and seeded like the planner; a scenario replays identically.
//! Not here: resources and ports (an instance takes `slots_per_instance` tasks), timing of
//! real agents (one step per `advance`).

use crate::model::{
    InstanceView, PlannerSettings, SchedulingStrategy, ServiceSpec, Snapshot, TaskDefinitionKey, TaskView,
};
use crate::plan::Plan;
use crate::progress::{begin_deployment, DeploymentId, ServiceProgress};
use berth_types::{
    ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, HealthStatus, ServiceName, TaskDefinitionFamily,
    TaskStatus, TaskStopCode, Timestamp,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::time::Duration;

/// How tasks of one task definition revision behave once launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskBehaviour {
    /// Reaches RUNNING, then HEALTHY (or settles, without health checks).
    Healthy,
    /// Goes from PENDING to STOPPED with `TaskFailedToStart`.
    FailsToStart,
    /// Reaches RUNNING, then an essential container exits.
    ExitsAfterRunning,
    /// Reaches RUNNING, then reports UNHEALTHY (needs health checks).
    Unhealthy,
}

pub struct Simulation {
    pub spec: ServiceSpec,
    pub progress: ServiceProgress,
    pub tasks: Vec<TaskView>,
    pub instances: Vec<InstanceView>,
    pub now: Timestamp,
    pub settings: PlannerSettings,
    /// Behaviour per task definition revision; unlisted revisions are healthy.
    pub behaviours: HashMap<u32, TaskBehaviour>,
    /// Whether the task definitions define container health checks.
    pub health_checks: bool,
    /// How many of the service's tasks fit on one instance.
    pub slots_per_instance: u32,
    /// Every event message so far, oldest first.
    pub events: Vec<String>,
    /// Deployment alarms in ALARM, with when each went into it (what CloudWatch would say).
    pub alarms_in_alarm: Vec<(String, Timestamp)>,
    placement_failure: Option<String>,
    task_definitions: HashMap<DeploymentId, TaskDefinitionKey>,
    passes: u64,
    rng: StdRng,
}

pub fn instance_id(number: u32) -> ContainerInstanceId {
    ContainerInstanceId::parse(&format!("{number:032x}")).expect("valid instance ID")
}

pub fn task_definition(revision: u32) -> TaskDefinitionKey {
    TaskDefinitionKey { family: TaskDefinitionFamily::parse("web").expect("valid family"), revision }
}

impl Simulation {
    /// A service `web` with `desired_count` tasks on `instance_count` healthy instances, no
    /// deployment yet (call `deploy`). Time starts at 1,000,000 ms.
    pub fn new(desired_count: u32, strategy: SchedulingStrategy, instance_count: u32) -> Self {
        let settings = PlannerSettings { healthy_after_running: Duration::from_secs(5), ..PlannerSettings::default() };
        Simulation {
            spec: ServiceSpec {
                name: ServiceName::parse("web").expect("valid name"),
                desired_count,
                scheduling_strategy: strategy,
                deployment_configuration: crate::model::DeploymentConfiguration::defaults_for(strategy),
                health_check_grace_period: Duration::ZERO,
                task_sets: None,
                hold_previous: false,
                hold_launches: false,
            },
            progress: ServiceProgress::default(),
            tasks: Vec::new(),
            instances: (1..=instance_count).map(Self::healthy_instance).collect(),
            now: Timestamp(1_000_000),
            settings,
            behaviours: HashMap::new(),
            health_checks: false,
            slots_per_instance: u32::MAX,
            events: Vec::new(),
            alarms_in_alarm: Vec::new(),
            placement_failure: None,
            task_definitions: HashMap::new(),
            passes: 0,
            rng: StdRng::seed_from_u64(42),
        }
    }

    pub fn healthy_instance(number: u32) -> InstanceView {
        InstanceView {
            id: instance_id(number),
            status: ContainerInstanceStatus::Active,
            agent_connected: true,
            lost: false,
            satisfies_constraints: true,
        }
    }

    pub fn instance_mut(&mut self, number: u32) -> &mut InstanceView {
        let id = instance_id(number);
        self.instances.iter_mut().find(|instance| instance.id == id).expect("instance exists")
    }

    /// Starts a deployment of `web:revision`, as UpdateService would.
    pub fn deploy(&mut self, revision: u32) -> DeploymentId {
        let id = DeploymentId::generate(&mut self.rng);
        let desired = self.spec.desired_count;
        begin_deployment(&mut self.progress, id.clone(), task_definition(revision), desired, self.now);
        self.task_definitions.insert(id.clone(), task_definition(revision));
        id
    }

    /// Adds an EXTERNAL task set of `web:revision` keeping `desired` tasks, as CreateTaskSet
    /// would (the service becomes EXTERNAL).
    pub fn add_task_set(&mut self, revision: u32, desired: u32) -> DeploymentId {
        let id = DeploymentId::generate(&mut self.rng);
        let target = crate::model::TaskSetTarget {
            id: id.clone(),
            task_definition: task_definition(revision),
            desired_count: desired,
        };
        self.spec.task_sets.get_or_insert_with(Vec::new).push(target);
        self.task_definitions.insert(id.clone(), task_definition(revision));
        id
    }

    /// Sets a task set's count, as UpdateTaskSet would.
    pub fn scale_task_set(&mut self, id: &DeploymentId, desired: u32) {
        let sets = self.spec.task_sets.iter_mut().flatten();
        for target in sets.filter(|target| &target.id == id) {
            target.desired_count = desired;
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            service: self.spec.clone(),
            progress: self.progress.clone(),
            tasks: self.tasks.clone(),
            instances: self.instances.clone(),
            placement_failure: self.placement_failure.clone(),
            alarms_in_alarm: self.alarms_in_alarm.clone(),
            now: self.now,
            seed: self.passes,
            settings: self.settings,
        }
    }

    /// Plans one pass and applies it.
    pub fn step(&mut self) -> Plan {
        let plan = crate::plan(&self.snapshot());
        self.apply(&plan);
        plan
    }

    /// Executes a plan as the control plane would.
    pub fn apply(&mut self, plan: &Plan) {
        self.passes += 1;
        self.progress = plan.progress.clone();
        for deployment in &self.progress.deployments {
            self.task_definitions.entry(deployment.id.clone()).or_insert_with(|| deployment.task_definition.clone());
        }
        for stop in &plan.stops {
            if let Some(task) = self.tasks.iter_mut().find(|task| task.id == stop.task_id) {
                task.desired_status = DesiredStatus::Stopped;
                task.stop_code = Some(stop.reason.code());
                task.stopped_reason = Some(stop.reason.text());
            }
        }
        self.placement_failure = None;
        let mut placed = Vec::new();
        for launch in &plan.launches {
            let instance = match &launch.instance {
                Some(instance) => Some(instance.clone()),
                None => self.least_loaded_instance(),
            };
            let Some(instance) = instance else {
                self.placement_failure = Some("The closest matching container instance has no room left.".to_string());
                continue;
            };
            placed.push(launch.task_id.clone());
            self.tasks.push(TaskView {
                id: launch.task_id.clone(),
                deployment: launch.deployment.clone(),
                instance,
                last_status: TaskStatus::Provisioning,
                desired_status: DesiredStatus::Running,
                started_at: None,
                health: HealthStatus::Unknown,
                has_health_check: self.health_checks,
                stop_code: None,
                stopped_reason: None,
                protected_until: None,
                load_balancer_health: None,
            });
        }
        self.events.extend(plan.event_messages(&self.spec.name, |id| placed.contains(id)));
    }

    fn least_loaded_instance(&self) -> Option<ContainerInstanceId> {
        self.instances
            .iter()
            .filter(|instance| {
                instance.status == ContainerInstanceStatus::Active && instance.agent_connected && !instance.lost
            })
            .map(|instance| (self.load(&instance.id), &instance.id))
            .filter(|(load, _)| *load < self.slots_per_instance)
            .min()
            .map(|(_, id)| id.clone())
    }

    fn load(&self, instance: &ContainerInstanceId) -> u32 {
        let count = self
            .tasks
            .iter()
            .filter(|task| &task.instance == instance && task.last_status != TaskStatus::Stopped)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Time passes and every task whose agent is reachable moves one step.
    pub fn advance(&mut self, by: Duration) {
        self.now = self.now.plus(by);
        let reachable: Vec<ContainerInstanceId> = self
            .instances
            .iter()
            .filter(|instance| instance.agent_connected && !instance.lost)
            .map(|instance| instance.id.clone())
            .collect();
        for task in &mut self.tasks {
            if task.last_status == TaskStatus::Stopped || !reachable.contains(&task.instance) {
                continue;
            }
            let behaviour = self
                .task_definitions
                .get(&task.deployment)
                .and_then(|definition| self.behaviours.get(&definition.revision))
                .copied()
                .unwrap_or(TaskBehaviour::Healthy);
            if task.desired_status == DesiredStatus::Stopped {
                task.last_status = TaskStatus::Stopped;
                continue;
            }
            if task.last_status < TaskStatus::Running {
                if behaviour == TaskBehaviour::FailsToStart {
                    stop(task, TaskStopCode::TaskFailedToStart, "Task failed to start");
                } else {
                    task.last_status = TaskStatus::Running;
                    task.started_at = Some(self.now);
                }
                continue;
            }
            match behaviour {
                TaskBehaviour::ExitsAfterRunning => {
                    stop(task, TaskStopCode::EssentialContainerExited, "Essential container in task exited")
                }
                TaskBehaviour::Unhealthy if task.has_health_check => task.health = HealthStatus::Unhealthy,
                _ if task.has_health_check => task.health = HealthStatus::Healthy,
                _ => {}
            }
        }
    }

    /// Steps and advances until the plan reports a steady service; the number of passes.
    pub fn run_until_steady(&mut self, max_passes: usize, tick: Duration) -> Option<usize> {
        for pass in 1..=max_passes {
            if self.step().steady {
                return Some(pass);
            }
            self.advance(tick);
        }
        None
    }

    pub fn tasks_of<'s>(&'s self, deployment: &'s DeploymentId) -> impl Iterator<Item = &'s TaskView> + 's {
        self.tasks.iter().filter(move |task| &task.deployment == deployment)
    }

    /// Tasks not yet STOPPED whose instance is not lost.
    pub fn occupying(&self) -> usize {
        self.tasks
            .iter()
            .filter(|task| task.last_status != TaskStatus::Stopped && !self.is_lost(&task.instance))
            .count()
    }

    /// Tasks that are healthy in the planner's sense: desired and last RUNNING, on a reachable
    /// instance, HEALTHY (with checks) or settled (without).
    pub fn healthy(&self) -> usize {
        self.count_running_where(|task| {
            if task.has_health_check {
                task.health == HealthStatus::Healthy
            } else {
                task.started_at.is_some_and(|at| self.now >= at.plus(self.settings.healthy_after_running))
            }
        })
    }

    /// Tasks the deployment floor counts: desired and last RUNNING on an instance that is not
    /// lost, settling or healthy (not reported UNHEALTHY).
    pub fn running(&self) -> usize {
        self.count_running_where(|task| !(task.has_health_check && task.health == HealthStatus::Unhealthy))
    }

    /// Desired and last RUNNING tasks on reachable instances that also pass `filter`.
    fn count_running_where(&self, filter: impl Fn(&TaskView) -> bool) -> usize {
        self.tasks
            .iter()
            .filter(|task| {
                task.desired_status == DesiredStatus::Running
                    && task.last_status == TaskStatus::Running
                    && !self.is_lost(&task.instance)
                    && filter(task)
            })
            .count()
    }

    /// An essential container of a running task exits, as an agent would report it.
    pub fn exit_task(&mut self, index: usize) {
        if let Some(task) = self.tasks.get_mut(index) {
            if task.last_status != TaskStatus::Stopped {
                stop(task, TaskStopCode::EssentialContainerExited, "Essential container in task exited");
            }
        }
    }

    fn is_lost(&self, instance: &ContainerInstanceId) -> bool {
        self.instances.iter().any(|known| &known.id == instance && known.lost)
    }
}

fn stop(task: &mut TaskView, code: TaskStopCode, reason: &str) {
    task.last_status = TaskStatus::Stopped;
    task.stop_code = Some(code);
    task.stopped_reason = Some(reason.to_string());
}
