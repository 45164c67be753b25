//! Executes one task's decisions against the container runtime: ask [`decide`] for the next
//! action, carry it out, fold the outcome into the state, publish the state to the reporter
//! when it changed, repeat. Waiting happens only in [`Action::Wait`], on container events, a
//! new desired status or the cleanup deadline, so a launch never sleeps.
//!
//! An `awslogs` container has its log stream opened before it starts (a refused stream fails
//! the start, as Docker's awslogs driver does on ECS) and a shipper from the moment it ran
//! (also when adopted after a restart); cleanup removes it only once its shipper finished.

use crate::backoff::Backoff;
use crate::container_config::{self, Ownership};
use crate::log_shipper::{self, LogShippers, ShipperOutcome, SinkError};
use crate::metadata::{MetadataRegistry, TOKEN_LABEL};
use crate::reporter::Reporter;
use crate::runtime::{ContainerRuntime, RuntimeError};
use crate::task::decide::{decide, Action};
use crate::task::state::{ContainerPhase, TaskState};
use berth_agent_protocol::{labels, TaskReport};
use berth_types::{DesiredStatus, TaskStatus, TaskStopCode, Timestamp};
use futures_util::future::join_all;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What the rest of the agent tells a runner besides its desired status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerSignal {
    /// The runtime reported something about this container: inspect it.
    ContainerEvent(String),
    /// Events may have been missed: inspect every container.
    Resync,
    /// The server does not know this task: stop and remove it, report nothing more.
    Purge,
}

/// What every runner shares.
pub struct RunnerContext {
    pub runtime: Arc<dyn ContainerRuntime>,
    pub reporter: Arc<Reporter>,
    pub owner: Ownership,
    pub cleanup_wait: Duration,
    /// What the task metadata endpoint answers; runners keep it current.
    pub metadata: Arc<MetadataRegistry>,
    /// The `awslogs` shippers, one per container, shared by every runner.
    pub log_shippers: Arc<LogShippers>,
}

pub struct TaskRunner {
    context: Arc<RunnerContext>,
    state: TaskState,
    desired: watch::Receiver<DesiredStatus>,
    signals: mpsc::UnboundedReceiver<RunnerSignal>,
    last_published: Option<TaskReport>,
    stopped_at: Option<Instant>,
    /// Per container: whether its log shipper was asked for (once it ran).
    shipper_requested: Vec<bool>,
    /// Paces opening log streams while the server cannot be reached.
    log_open_backoff: Backoff,
}

impl TaskRunner {
    pub fn new(
        context: Arc<RunnerContext>,
        state: TaskState,
        desired: watch::Receiver<DesiredStatus>,
        signals: mpsc::UnboundedReceiver<RunnerSignal>,
    ) -> Self {
        let stopped_at = (state.status == TaskStatus::Stopped).then(Instant::now);
        let shipper_requested = vec![false; state.containers.len()];
        TaskRunner {
            context,
            state,
            desired,
            signals,
            last_published: None,
            stopped_at,
            shipper_requested,
            log_open_backoff: Backoff::new(),
        }
    }

    /// Runs the task until it is stopped and cleaned up (or the agent drops its channels).
    /// Returns the final state.
    pub async fn run(mut self) -> TaskState {
        loop {
            self.state.desired = *self.desired.borrow_and_update();
            while let Ok(signal) = self.signals.try_recv() {
                self.handle_signal(signal).await;
            }
            self.publish();
            self.request_log_shippers();
            let cleanup_due = self.cleanup_deadline().is_some_and(|deadline| Instant::now() >= deadline);
            let action = decide(&self.state, cleanup_due);
            tracing::debug!(task = %self.state.task_arn, ?action, "task action");
            match action {
                Action::Finished => {
                    self.context.metadata.forget_task(&self.state.task_arn);
                    self.context.reporter.forget_when_acknowledged(&self.state.task_arn);
                    return self.state;
                }
                Action::Wait => {
                    if !self.wait().await {
                        return self.state;
                    }
                }
                action => self.execute(action).await,
            }
        }
    }

    /// Asks for the shipper of every `awslogs` container that ran and is not removed yet: the
    /// ones this runner started and the ones it adopted. The registry keeps it to one each.
    fn request_log_shippers(&mut self) {
        if self.state.cleaned_up {
            return;
        }
        for (index, track) in self.state.containers.iter().enumerate() {
            let Some(id) = track.runtime_id.as_deref().filter(|_| track.started && !self.shipper_requested[index])
            else {
                continue;
            };
            self.shipper_requested[index] = true;
            match log_shipper::job_for(&self.state.task_arn, &self.state.spec.containers[index], id) {
                Some(Ok(job)) => {
                    self.context.log_shippers.ensure(job);
                }
                Some(Err(error)) => {
                    tracing::warn!(task = %self.state.task_arn, container = %id, %error, "cannot ship this container's logs")
                }
                None => {}
            }
        }
    }

    /// Sleeps for `delay`, or less if the desired status changes meanwhile.
    async fn pause(&mut self, delay: Duration) {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            Ok(()) = self.desired.changed() => {}
        }
    }

    fn cleanup_deadline(&self) -> Option<Instant> {
        self.stopped_at.map(|stopped_at| stopped_at + self.context.cleanup_wait)
    }

    /// Waits for something that may change the decision. False when the agent is going away.
    async fn wait(&mut self) -> bool {
        let deadline = self.cleanup_deadline();
        let cleanup = async move {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = self.signals.recv() => match signal {
                Some(signal) => { self.handle_signal(signal).await; true }
                None => false,
            },
            changed = self.desired.changed() => changed.is_ok(),
            () = cleanup => true,
        }
    }

    async fn handle_signal(&mut self, signal: RunnerSignal) {
        match signal {
            RunnerSignal::ContainerEvent(id) => {
                if let Some(index) = self.state.index_of_runtime_id(&id) {
                    self.inspect(index).await;
                }
            }
            RunnerSignal::Resync => {
                for index in 0..self.state.containers.len() {
                    if self.state.containers[index].phase != ContainerPhase::Stopped {
                        self.inspect(index).await;
                    }
                }
            }
            RunnerSignal::Purge => {
                self.state.purge = true;
                self.context.reporter.drop_task(&self.state.task_arn);
            }
        }
    }

    /// Re-reads one container from the runtime.
    async fn inspect(&mut self, index: usize) {
        let Some(id) = self.state.containers[index].runtime_id.clone() else {
            return;
        };
        match self.context.runtime.inspect_container(&id).await {
            Ok(info) => {
                self.context.metadata.adopt(&info.labels);
                self.state.observe(index, &info)
            }
            Err(RuntimeError::NotFound { .. }) => self.state.observe_missing(index),
            Err(error) => {
                tracing::warn!(task = %self.state.task_arn, container = %id, %error, "cannot inspect container")
            }
        }
    }

    fn publish(&mut self) {
        if self.state.purge {
            return;
        }
        let report = self.state.report();
        if self.last_published.as_ref() != Some(&report) {
            self.context.metadata.update_task(&self.state);
            self.context.reporter.submit(report.clone());
            self.last_published = Some(report);
        }
    }

    async fn execute(&mut self, action: Action) {
        match action {
            Action::PrepareImages => self.prepare_images().await,
            Action::PrepareVolumes => self.prepare_volumes().await,
            Action::Create(index) => self.create(index).await,
            Action::Start(index) => self.start(index).await,
            Action::MarkRunning => {
                self.state.status = TaskStatus::Running;
                self.state.started_at = Some(Timestamp::now());
            }
            Action::BeginStopping { stop_code, reason } => {
                if let Some(stop_code) = stop_code {
                    self.state.fail(stop_code, reason.unwrap_or_default());
                }
                self.state.status = TaskStatus::Stopping;
            }
            Action::Stop(wave) => self.stop(wave).await,
            Action::MarkStopped { stop_code, reason } => {
                if let Some(stop_code) = stop_code {
                    self.state.fail(stop_code, reason.unwrap_or_default());
                }
                for track in &mut self.state.containers {
                    track.phase = ContainerPhase::Stopped;
                }
                self.state.status = TaskStatus::Stopped;
                self.state.execution_stopped_at = Some(Timestamp::now());
                self.stopped_at = Some(Instant::now());
            }
            Action::Cleanup => self.cleanup().await,
            Action::Wait | Action::Finished => {}
        }
    }

    /// Fails the task before it ran, giving `reason` to the task and to `containers`.
    fn fail_to_start(&mut self, containers: &[usize], reason: String) {
        tracing::warn!(task = %self.state.task_arn, %reason, "task failed to start");
        for index in containers {
            self.state.containers[*index].reason.get_or_insert_with(|| reason.clone());
        }
        self.state.fail(TaskStopCode::TaskFailedToStart, reason);
    }

    async fn prepare_images(&mut self) {
        let mut images: Vec<String> = Vec::new();
        for (container, track) in self.state.spec.containers.iter().zip(&self.state.containers) {
            if track.phase == ContainerPhase::NotCreated && !images.contains(&container.image) {
                images.push(container.image.clone());
            }
        }
        for image in images {
            let users: Vec<usize> = (0..self.state.containers.len())
                .filter(|index| self.state.spec.containers[*index].image == image)
                .collect();
            let pulled = match self.context.runtime.image_present(&image).await {
                Ok(true) => Ok(()),
                Ok(false) => {
                    self.state.pull_started_at.get_or_insert_with(Timestamp::now);
                    self.publish();
                    let result = self.context.runtime.pull_image(&image).await;
                    self.state.pull_stopped_at = Some(Timestamp::now());
                    result
                }
                Err(error) => Err(error),
            };
            if let Err(error) = pulled {
                self.fail_to_start(&users, format!("CannotPullContainerError: {}", error.message()));
                break;
            }
        }
        self.state.images_ready = true;
    }

    async fn prepare_volumes(&mut self) {
        for volume in container_config::task_volumes(&self.state.task_arn, &self.state.spec) {
            let Some(request) = volume.create else {
                continue;
            };
            if let Err(error) = self.context.runtime.create_volume(&request).await {
                let all: Vec<usize> = (0..self.state.containers.len()).collect();
                self.fail_to_start(&all, format!("CannotCreateContainerError: {}", error.message()));
                break;
            }
        }
        self.state.volumes_ready = true;
    }

    async fn create(&mut self, index: usize) {
        let spec = &self.state.spec;
        // Docker's awslogs driver refuses invalid options at create; so does Berth's.
        if let Some(Err(error)) = log_shipper::job_for(&self.state.task_arn, &spec.containers[index], "") {
            return self.fail_to_start(&[index], format!("CannotCreateContainerError: {error}"));
        }
        let mut request = match container_config::create_request(
            &self.context.owner,
            &self.state.task_arn,
            spec,
            &spec.containers[index],
        ) {
            Ok(request) => request,
            Err(message) => return self.fail_to_start(&[index], format!("CannotCreateContainerError: {message}")),
        };
        // The endpoint's variables go last, so a definition cannot point them elsewhere.
        if let Some((token, environment)) =
            self.context.metadata.issue(&self.state.task_arn, &spec.containers[index].name)
        {
            request.environment.retain(|(name, _)| environment.iter().all(|(reserved, _)| reserved != name));
            request.environment.extend(environment);
            request.labels.insert(TOKEN_LABEL.to_string(), token);
        }
        match self.context.runtime.create_container(&request).await {
            Ok(id) => {
                let track = &mut self.state.containers[index];
                track.runtime_id = Some(id);
                track.phase = ContainerPhase::Created;
            }
            // A previous agent created it and died before it could remember: adopt it.
            Err(RuntimeError::NameConflict { .. }) => match self.context.runtime.inspect_container(&request.name).await
            {
                Ok(info) if info.labels.get(labels::CONTAINER_INSTANCE) == Some(&self.context.owner.instance) => {
                    self.context.metadata.adopt(&info.labels);
                    self.state.observe(index, &info)
                }
                Ok(_) => self.fail_to_start(
                    &[index],
                    format!(
                        "CannotCreateContainerError: the name {} is used by another instance's container",
                        request.name
                    ),
                ),
                Err(error) => self.fail_to_start(&[index], format!("CannotCreateContainerError: {}", error.message())),
            },
            Err(error) => self.fail_to_start(&[index], format!("CannotCreateContainerError: {}", error.message())),
        }
    }

    async fn start(&mut self, index: usize) {
        let Some(id) = self.state.containers[index].runtime_id.clone() else {
            return;
        };
        if let Some(Ok(job)) = log_shipper::job_for(&self.state.task_arn, &self.state.spec.containers[index], &id) {
            match self.context.log_shippers.sink().open(&job.stream).await {
                Ok(_) => self.log_open_backoff.reset(),
                Err(SinkError::Refused { message }) => {
                    return self.fail_to_start(&[index], format!("CannotStartContainerError: {message}"));
                }
                Err(SinkError::Transient { message }) => {
                    tracing::warn!(task = %self.state.task_arn, reason = %message, "cannot open the log stream; retrying");
                    let delay = self.log_open_backoff.next_delay().max(Duration::from_millis(100));
                    return self.pause(delay).await;
                }
            }
        }
        match self.context.runtime.start_container(&id).await {
            Ok(()) => self.inspect(index).await,
            Err(error) => self.fail_to_start(&[index], format!("CannotStartContainerError: {}", error.message())),
        }
    }

    async fn stop(&mut self, wave: Vec<usize>) {
        let runtime = &self.context.runtime;
        let stops = wave.iter().filter_map(|index| {
            let id = self.state.containers[*index].runtime_id.clone()?;
            let timeout = container_config::stop_timeout(&self.state.spec.containers[*index]);
            Some(async move { (*index, runtime.stop_container(&id, timeout).await) })
        });
        let mut failed = false;
        for (index, result) in join_all(stops).await {
            match result {
                Ok(()) => self.inspect(index).await,
                Err(RuntimeError::NotFound { .. }) => self.state.observe_missing(index),
                Err(error) => {
                    failed = true;
                    tracing::warn!(task = %self.state.task_arn, %error, "cannot stop container; retrying");
                    self.inspect(index).await;
                }
            }
        }
        if failed {
            // The runtime is in trouble; do not spin on it.
            tokio::time::sleep(Backoff::new().next_delay().max(Duration::from_millis(500))).await;
        }
    }

    /// Removes the task's containers, each once its log shipper finished (Docker's json-file
    /// goes with the container, and with it every line not yet shipped), and its volumes.
    /// Only this runner waits: every task has its own.
    async fn cleanup(&mut self) {
        let runtime = &self.context.runtime;
        for track in &self.state.containers {
            let Some(id) = &track.runtime_id else {
                continue;
            };
            if let Some(ShipperOutcome::Refused(message)) = self.context.log_shippers.finished(id).await {
                tracing::warn!(task = %self.state.task_arn, container = %id, reason = %message, "logs not shipped: the stream was refused");
            }
            if let Err(error) = runtime.remove_container(id).await {
                tracing::warn!(task = %self.state.task_arn, container = %id, %error, "cannot remove container");
            }
            self.context.log_shippers.forget(id);
        }
        for volume in container_config::task_volumes(&self.state.task_arn, &self.state.spec) {
            if volume.task_scoped {
                if let Err(error) = runtime.remove_volume(&volume.docker_name).await {
                    tracing::warn!(task = %self.state.task_arn, volume = %volume.docker_name, %error, "cannot remove volume");
                }
            }
        }
        self.state.cleaned_up = true;
    }
}
