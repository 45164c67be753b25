//! The control plane's side of the agent protocol (`berth-agent-protocol`): the whole desired
//! document for an instance, the long poll that waits for a newer one, and merging state
//! reports into task records.
//!
//! Invariant: a report never moves a task's `lastStatus` backwards and never changes a record
//! when it says nothing new, so agents may resend reports freely.

use crate::error::ControlResult;
use crate::state::{Change, InstanceGeneration, State};
use crate::ControlPlane;
use berth_agent_protocol::{DesiredDocument, DesiredTask, ReportResponse, StateReport, TaskReport};
use berth_types::records::TaskRecord;
use berth_types::{
    Arn, ClusterName, ContainerInstanceId, ContainerInstanceStatus, DesiredStatus, HealthStatus, TaskStatus, Timestamp,
};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::watch;

/// Why an agent endpoint refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRefusal {
    /// No such cluster or instance: the agent should register.
    Unknown,
    /// The instance was deregistered: the agent should register afresh.
    Deregistered,
}

impl ControlPlane {
    pub(crate) fn instance_for_agent(
        &self,
        cluster: &ClusterName,
        id: &ContainerInstanceId,
    ) -> Result<u64, AgentRefusal> {
        let state = self.read();
        let instance =
            state.instances.get(id).filter(|instance| &instance.cluster == cluster).ok_or(AgentRefusal::Unknown)?;
        if instance.status == ContainerInstanceStatus::Inactive {
            return Err(AgentRefusal::Deregistered);
        }
        Ok(instance.desired_generation)
    }

    /// The desired document for the instance, once its generation is newer than `after` or
    /// `wait` has passed: whole, or with `changes_only` just the tasks that changed since
    /// `after` (see [`ControlPlane::desired_document`]). The poll counts as a heartbeat for as
    /// long as it is open.
    pub async fn poll_desired(
        &self,
        cluster: &ClusterName,
        id: &ContainerInstanceId,
        after: u64,
        changes_only: bool,
        wait: Duration,
    ) -> Result<DesiredDocument, AgentRefusal> {
        let generation = self.instance_for_agent(cluster, id)?;
        self.record_agent_contact(id);
        if generation <= after {
            let mut receiver = self.generation_receiver(id, generation);
            let _open = OpenPoll::new(self, id);
            let _ = tokio::time::timeout(wait, receiver.wait_for(|current| *current > after)).await;
            self.record_agent_contact(id);
        }
        self.instance_for_agent(cluster, id)?;
        Ok(self.desired_document(id, changes_only.then_some(after)))
    }

    fn generation_receiver(&self, id: &ContainerInstanceId, generation: u64) -> watch::Receiver<u64> {
        let mut generations = self.generations.lock();
        let sender = generations.entry(id.clone()).or_insert_with(|| watch::channel(generation).0);
        sender.send_if_modified(|current| {
            let newer = generation > *current;
            if newer {
                *current = generation;
            }
            newer
        });
        sender.subscribe()
    }

    /// Every task assigned to the instance that the server still remembers, stopped ones
    /// included, so an agent can tell a stop it missed from a task it never heard of.
    ///
    /// With `changes_since: Some(after)` from an agent that holds generation `after`, only the
    /// tasks stamped later than `after` are listed and the document says it is not complete:
    /// at thousands of tasks per instance, resending every task on each change dominated the
    /// channel. A generation the server cannot answer from (0, or one from the future) gets
    /// the whole document.
    pub fn desired_document(&self, id: &ContainerInstanceId, changes_since: Option<u64>) -> DesiredDocument {
        let state = self.read();
        let context = self.arn_context();
        let generation = state.instances.get(id).map(|instance| instance.desired_generation).unwrap_or(0);
        let since = changes_since.filter(|after| *after > 0 && *after <= generation);
        let listed: Box<dyn Iterator<Item = &TaskRecord>> = match since {
            Some(after) => Box::new(state.tasks_stamped_after(id, after)),
            None => Box::new(state.tasks_on_instance(id)),
        };
        let tasks = listed
            .map(|task| {
                DesiredTask::from_record(Arn::Task(task.cluster.clone(), task.id.clone()).render(context), task)
            })
            .collect();
        DesiredDocument { generation, tasks, complete: since.is_none() }
    }

    /// Merges an agent's report. Tasks the server does not know on this instance are listed in
    /// the response so the agent removes their containers.
    pub async fn apply_report(
        &self,
        cluster: &ClusterName,
        id: &ContainerInstanceId,
        report: StateReport,
    ) -> ControlResult<Result<ReportResponse, AgentRefusal>> {
        if let Err(refusal) = self.instance_for_agent(cluster, id) {
            return Ok(Err(refusal));
        }
        self.record_agent_contact(id);
        let context = self.arn_context().clone();
        self.mutate(|state| {
            let mut changes = Vec::new();
            let mut response = ReportResponse::default();
            for task_report in report.tasks {
                let known = match Arn::parse(&task_report.task_arn, &context) {
                    Ok(Arn::Task(task_cluster, task_id)) if &task_cluster == cluster => {
                        state.tasks.get(&task_id).filter(|task| &task.container_instance == id)
                    }
                    _ => None,
                };
                match known {
                    None => response.unknown_tasks.push(task_report.task_arn),
                    Some(task) => {
                        if let Some(merged) = merge_report(task, task_report) {
                            changes.push(Change::PutTask(merged));
                        }
                    }
                }
            }
            Ok((changes, response))
        })
        .await
        .map(Ok)
    }
}

/// Whether the agent must hear of the change from `previous` to `next`: a new task, or a new
/// desired status as the agent sees it (a deactivating task still runs). Reports (observed
/// state) never need to be sent back.
fn agent_acts_on(previous: Option<&TaskRecord>, next: &TaskRecord) -> bool {
    previous.is_none_or(|previous| previous.agent_desired_status() != next.agent_desired_status())
}

/// Gives every instance whose agent must act on `changes` its next desired generation in the
/// same batch, and stamps the changed tasks with it. Writers only say what changes; none can
/// forget to wake an agent, and the stamps are what changes-only documents are cut by.
pub(crate) fn stamp_desired_generations(state: &State, changes: &mut Vec<Change>) {
    let mut target: HashMap<ContainerInstanceId, u64> = HashMap::new();
    // Generations the batch itself moves an instance to (a deregistration, say).
    for change in changes.iter() {
        if let Change::PutContainerInstance(record) = change {
            let current = state.instances.get(&record.id).map_or(0, |instance| instance.desired_generation);
            if record.desired_generation > current {
                let generation = target.entry(record.id.clone()).or_default();
                *generation = (*generation).max(record.desired_generation);
            }
        }
    }
    for change in changes.iter() {
        if let Change::PutTask(task) = change {
            if agent_acts_on(state.tasks.get(&task.id), task) {
                if let Some(instance) = state.instances.get(&task.container_instance) {
                    target.entry(instance.id.clone()).or_insert(instance.desired_generation + 1);
                }
            }
        }
    }
    if target.is_empty() {
        return;
    }
    let mut carried = HashSet::new();
    for change in changes.iter_mut() {
        match change {
            Change::PutContainerInstance(record) => {
                if let Some(generation) = target.get(&record.id) {
                    record.desired_generation = *generation;
                    carried.insert(record.id.clone());
                }
            }
            Change::PutTask(task) if agent_acts_on(state.tasks.get(&task.id), task) => {
                if let Some(generation) = target.get(&task.container_instance) {
                    task.desired_generation = *generation;
                }
            }
            _ => {}
        }
    }
    let mut missing: Vec<(ContainerInstanceId, u64)> =
        target.into_iter().filter(|(id, _)| !carried.contains(id)).collect();
    missing.sort();
    for (instance, generation) in missing {
        if state.instances.contains_key(&instance) {
            changes.push(Change::AdvanceDesiredGeneration(InstanceGeneration { instance, generation }));
        }
    }
}

/// Keeps the instance's agent counted as connected while a long poll is open.
struct OpenPoll<'a> {
    control: &'a ControlPlane,
    id: ContainerInstanceId,
}

impl<'a> OpenPoll<'a> {
    fn new(control: &'a ControlPlane, id: &ContainerInstanceId) -> Self {
        control.presence.lock().entry(id.clone()).or_default().open_polls += 1;
        OpenPoll { control, id: id.clone() }
    }
}

impl Drop for OpenPoll<'_> {
    fn drop(&mut self) {
        if let Some(presence) = self.control.presence.lock().get_mut(&self.id) {
            presence.open_polls = presence.open_polls.saturating_sub(1);
        }
    }
}

/// The task after `report`, or `None` when the report tells nothing new.
pub(crate) fn merge_report(task: &TaskRecord, report: TaskReport) -> Option<TaskRecord> {
    if report.last_status < task.last_status {
        return None;
    }
    let mut merged = task.clone();
    merged.last_status = report.last_status;
    for reported in report.containers {
        match merged.containers.iter_mut().find(|container| container.name == reported.name) {
            Some(container) => {
                if reported.last_status >= container.last_status {
                    *container = reported;
                }
            }
            None => merged.containers.push(reported),
        }
    }
    fill(&mut merged.pull_started_at, report.pull_started_at);
    fill(&mut merged.pull_stopped_at, report.pull_stopped_at);
    fill(&mut merged.started_at, report.started_at);
    fill(&mut merged.execution_stopped_at, report.execution_stopped_at);
    if merged.stop_code.is_none() {
        merged.stop_code = report.stop_code;
    }
    if merged.stopped_reason.is_none() {
        merged.stopped_reason = report.stopped_reason;
    }
    if merged.last_status >= TaskStatus::Stopping {
        merged.desired_status = DesiredStatus::Stopped;
        merged.stopping_at.get_or_insert_with(Timestamp::now);
        // It went down by itself: there is nothing left to hold up for draining.
        merged.deactivating_until = None;
    }
    if merged.last_status == TaskStatus::Stopped {
        merged.stopped_at.get_or_insert_with(Timestamp::now);
        merged.execution_stopped_at.get_or_insert_with(Timestamp::now);
    }
    merged.health_status = task_health(&merged);
    merged.version = task.version;
    if merged == *task {
        return None;
    }
    merged.version = task.version + 1;
    Some(merged)
}

fn fill(slot: &mut Option<Timestamp>, value: Option<Timestamp>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// ECS's task health: UNHEALTHY if any essential container is, HEALTHY if every essential
/// container with a health check is, UNKNOWN otherwise (including when none has a check).
fn task_health(task: &TaskRecord) -> HealthStatus {
    let checked: Vec<HealthStatus> = task
        .spec
        .containers
        .iter()
        .filter(|spec| spec.essential && spec.health_check.is_some())
        .map(|spec| {
            task.containers
                .iter()
                .find(|container| container.name == spec.name)
                .map(|container| container.health_status)
                .unwrap_or(HealthStatus::Unknown)
        })
        .collect();
    if checked.contains(&HealthStatus::Unhealthy) {
        HealthStatus::Unhealthy
    } else if !checked.is_empty() && checked.iter().all(|status| *status == HealthStatus::Healthy) {
        HealthStatus::Healthy
    } else {
        HealthStatus::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster_with_instance, control_plane, name, run_web};
    use berth_agent_protocol::StateReport;
    use berth_types::records::ContainerState;
    use berth_types::TaskStopCode;

    fn report(task_arn: &str, status: TaskStatus, exit_code: Option<i32>) -> TaskReport {
        TaskReport {
            task_arn: task_arn.to_string(),
            last_status: status,
            containers: vec![ContainerState {
                runtime_id: Some("abc".into()),
                exit_code,
                ..ContainerState::new("web", status)
            }],
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: (status >= TaskStatus::Running).then(Timestamp::now),
            execution_stopped_at: None,
            stop_code: (status == TaskStatus::Stopped).then_some(TaskStopCode::EssentialContainerExited),
            stopped_reason: (status == TaskStatus::Stopped).then(|| "Essential container in task exited".to_string()),
        }
    }

    #[tokio::test]
    async fn reports_move_forward_only_and_free_resources_on_stop() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 1024, 1024).await;
        let id = instance.record.id.clone();
        let task = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks.remove(0);
        let arn = Arn::Task(name("prod"), task.id.clone()).render(control.arn_context());
        let send = |status, exit_code| StateReport { tasks: vec![report(&arn, status, exit_code)] };

        control.apply_report(&name("prod"), &id, send(TaskStatus::Running, None)).await.unwrap().unwrap();
        let running = control.desired_document(&id, None).tasks[0].clone();
        assert_eq!(running.last_status, TaskStatus::Running);
        let version_running = control
            .with_described_tasks(&name("prod"), std::slice::from_ref(&task.id), |found, _| found[0].version)
            .unwrap();

        // The same report again, and an older one, change nothing.
        control.apply_report(&name("prod"), &id, send(TaskStatus::Running, None)).await.unwrap().unwrap();
        control.apply_report(&name("prod"), &id, send(TaskStatus::Pending, None)).await.unwrap().unwrap();
        let version_after = control
            .with_described_tasks(&name("prod"), std::slice::from_ref(&task.id), |found, _| found[0].version)
            .unwrap();
        assert_eq!(version_running, version_after);

        control.apply_report(&name("prod"), &id, send(TaskStatus::Stopped, Some(3))).await.unwrap().unwrap();
        let stopped = control
            .with_described_tasks(&name("prod"), std::slice::from_ref(&task.id), |found, _| found[0].clone())
            .unwrap();
        assert_eq!(stopped.last_status, TaskStatus::Stopped);
        assert_eq!(stopped.desired_status, DesiredStatus::Stopped);
        assert_eq!(stopped.stop_code, Some(TaskStopCode::EssentialContainerExited));
        assert_eq!(stopped.containers[0].exit_code, Some(3));
        assert!(stopped.stopped_at.is_some() && stopped.version > version_after);
        let (described, _) = control.describe_container_instances(&name("prod"), std::slice::from_ref(&id)).unwrap();
        assert_eq!(
            (described[0].remaining.cpu, described[0].remaining.memory),
            (1024, 1024),
            "a stopped task frees its share"
        );
    }

    #[tokio::test]
    async fn unknown_tasks_are_named_back_to_the_agent() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 1024, 1024).await;
        let stranger = Arn::Task(name("prod"), berth_types::TaskId::generate()).render(control.arn_context());
        let response = control
            .apply_report(
                &name("prod"),
                &instance.record.id,
                StateReport { tasks: vec![report(&stranger, TaskStatus::Running, None)] },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(response.unknown_tasks, vec![stranger]);
    }

    #[tokio::test]
    async fn changes_only_documents_list_what_changed_since_the_agents_generation() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 4096, 4096).await;
        let id = instance.record.id.clone();
        let first = control.launch_tasks(run_web("prod", 2, None)).await.unwrap().tasks;
        let after_launch = control.desired_document(&id, None);
        assert_eq!((after_launch.tasks.len(), after_launch.complete), (2, true));

        let second = control.launch_tasks(run_web("prod", 1, None)).await.unwrap().tasks;
        let arn = |task: &TaskRecord| Arn::Task(name("prod"), task.id.clone()).render(control.arn_context());
        let changes = control.desired_document(&id, Some(after_launch.generation));
        assert!(!changes.complete);
        assert!(changes.generation > after_launch.generation);
        assert_eq!(changes.tasks.iter().map(|task| task.task_arn.clone()).collect::<Vec<_>>(), vec![arn(&second[0])]);

        // A report moves no generation and lists nothing new; a stop does.
        let running = StateReport { tasks: vec![report(&arn(&first[0]), TaskStatus::Running, None)] };
        control.apply_report(&name("prod"), &id, running).await.unwrap().unwrap();
        let quiet = control.desired_document(&id, Some(changes.generation));
        assert_eq!((quiet.generation, quiet.tasks.len()), (changes.generation, 0));
        control.stop_task(&name("prod"), &first[1].id, None).await.unwrap();
        let stop = control.desired_document(&id, Some(changes.generation));
        assert_eq!(stop.tasks.len(), 1);
        assert_eq!(
            (stop.tasks[0].task_arn.clone(), stop.tasks[0].desired_status),
            (arn(&first[1]), DesiredStatus::Stopped)
        );

        // A generation the server never handed out, or none, gets the whole document.
        for unanswerable in [0, stop.generation + 1] {
            let whole = control.desired_document(&id, Some(unanswerable));
            assert_eq!((whole.tasks.len(), whole.complete), (3, true));
        }
    }

    #[tokio::test]
    async fn long_poll_wakes_on_a_new_task() {
        let control = control_plane();
        let instance = cluster_with_instance(&control, "prod", 1024, 1024).await;
        let id = instance.record.id.clone();
        let current = control.desired_document(&id, None).generation;
        let poller = {
            let control = std::sync::Arc::clone(&control);
            let id = id.clone();
            tokio::spawn(async move {
                control.poll_desired(&name("prod"), &id, current, false, std::time::Duration::from_secs(600)).await
            })
        };
        control.launch_tasks(run_web("prod", 1, None)).await.unwrap();
        let document = poller.await.unwrap().unwrap();
        assert!(document.generation > current);
        assert_eq!(document.tasks.len(), 1);
    }
}
