//! The agent's main loop and the tasks that keep it connected: registration, the desired-state
//! long poll, the report sender, the runtime event pump, the usage sampler, and the table of
//! task runners.
//!
//! Invariant: the agent converges to the newest desired document it has seen and never acts
//! on an older one; containers keep running whatever happens to the server or the connection,
//! and a restarted agent adopts its containers instead of creating them again.

use crate::backoff::Backoff;
use crate::client::{self, ClientError, ServerClient};
use crate::config::{AgentConfig, AgentError};
use crate::container_config::Ownership;
use crate::identity::DataDir;
use crate::log_shipper::{LogShippers, ServerLogSink};
use crate::metrics::AgentMetrics;
use crate::registration;
use crate::reporter::Reporter;
use crate::runtime::{ContainerInfo, ContainerRunState, ContainerRuntime};
use crate::task::adopt::initial_state;
use crate::task::runner::{RunnerContext, RunnerSignal, TaskRunner};
use crate::task::state::TaskState;
use crate::usage_sampler::{ServerUsageSink, UsageSampler};
use berth_agent_protocol::{labels, DesiredDocument, StateReport};
use berth_types::{DesiredStatus, TaskStatus};
use futures_util::StreamExt;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{AbortHandle, JoinSet};

/// How long the containers of a task nobody knows any more get to stop.
const ORPHAN_STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs an agent until `shutdown` completes. Containers keep running after it returns.
pub async fn run_agent(
    mut config: AgentConfig,
    runtime: Arc<dyn ContainerRuntime>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), AgentError> {
    if config.cluster.is_empty() {
        return Err(AgentError::InvalidConfig("the cluster name is empty".into()));
    }
    let data = DataDir::open(&config.data_dir)
        .map_err(|source| AgentError::DataDir { path: config.data_dir.clone(), source })?;
    let identity = data
        .load_or_create_identity()
        .map_err(|source| AgentError::DataDir { path: config.data_dir.clone(), source })?;
    let cluster = client::cluster_name(&config.cluster).to_string();
    let client = ServerClient::new(&config.server_url, &cluster).map_err(AgentError::InvalidConfig)?;
    let reporter = Arc::new(Reporter::new());
    let metadata = crate::metadata::listen::start(
        Arc::clone(&runtime),
        client.clone(),
        &data,
        cluster.clone(),
        config.availability_zone.clone(),
    )
    .await;
    let metrics = Arc::new(AgentMetrics::default());
    let metrics_endpoint = match config.metrics_listen {
        Some(listen) => crate::metrics::start(listen, &data, metrics.registry(Arc::clone(&reporter))).await,
        None => None,
    };
    if let Some(endpoint) = &metrics_endpoint {
        // Registered as taken, so that no task's host port mapping collides with it.
        config.extra_reserved_ports.push(endpoint.address.port());
    }
    let (session, _) = watch::channel(None);
    let log_sink = ServerLogSink::new(client.clone(), session.subscribe(), Arc::clone(&metrics));
    let log_shippers = Arc::new(LogShippers::new(Arc::clone(&runtime), Arc::new(log_sink)));
    let runner_context = Arc::new(RunnerContext {
        runtime: Arc::clone(&runtime),
        reporter: Arc::clone(&reporter),
        owner: Ownership { cluster, instance: identity.clone() },
        cleanup_wait: config.task_cleanup_wait,
        metadata: Arc::clone(&metadata.registry),
        log_shippers: Arc::clone(&log_shippers),
    });
    let agent = Arc::new(Agent {
        config,
        identity,
        data,
        client,
        runtime,
        reporter,
        runner_context,
        tasks: Mutex::new(Tasks::default()),
        orphan_removals: Mutex::new(Vec::new()),
        session,
        metrics,
    });
    tracing::info!(identity = %agent.identity, server = %agent.config.server_url, "agent starting");
    let result = tokio::select! {
        result = Arc::clone(&agent).run() => result,
        () = shutdown => Ok(()),
    };
    // Runners hold no containers hostage: aborting them leaves every container as it is.
    let runners: Vec<RunnerHandle> = agent.tasks.lock().runners.drain().map(|(_, handle)| handle).collect();
    for runner in runners {
        runner.abort.abort();
    }
    for removal in agent.orphan_removals.lock().drain(..) {
        removal.abort();
    }
    // Shippers too: the server holds their positions, and a restarted agent resumes there.
    log_shippers.abort_all();
    metadata.stop();
    if let Some(endpoint) = metrics_endpoint {
        endpoint.stop().await;
    }
    tracing::info!("agent stopped");
    result
}

struct Agent {
    config: AgentConfig,
    identity: String,
    data: DataDir,
    client: ServerClient,
    runtime: Arc<dyn ContainerRuntime>,
    reporter: Arc<Reporter>,
    runner_context: Arc<RunnerContext>,
    tasks: Mutex<Tasks>,
    orphan_removals: Mutex<Vec<AbortHandle>>,
    /// The container instance ID while registered.
    session: watch::Sender<Option<String>>,
    metrics: Arc<AgentMetrics>,
}

#[derive(Default)]
struct Tasks {
    runners: HashMap<String, RunnerHandle>,
    /// Containers found at startup, by task ARN, until the first desired document says
    /// what they belong to.
    adoptable: Option<HashMap<String, Vec<ContainerInfo>>>,
    next_serial: u64,
}

struct RunnerHandle {
    serial: u64,
    desired: watch::Sender<DesiredStatus>,
    signals: mpsc::UnboundedSender<RunnerSignal>,
    abort: AbortHandle,
}

impl Agent {
    async fn run(self: Arc<Self>) -> Result<(), AgentError> {
        let mut background = JoinSet::new();
        let (subscribed, events_ready) = oneshot::channel();
        background.spawn(Arc::clone(&self).pump_events(subscribed));
        // Subscribe before looking around, so that nothing that happens after the look is missed.
        let _ = events_ready.await;
        let found = self.find_own_containers().await;
        self.tasks.lock().adoptable = Some(found);
        background.spawn(Arc::clone(&self).send_reports());
        if let Some(interval) = self.config.usage_sample_interval.filter(|interval| !interval.is_zero()) {
            let sink = ServerUsageSink::new(self.client.clone(), self.session.subscribe());
            let sampler = UsageSampler::new(
                Arc::clone(&self.runtime),
                Arc::clone(&self.runner_context.metadata),
                Arc::new(sink),
                interval,
            );
            background.spawn(sampler.run());
        }
        background.spawn(crate::exec_sessions::serve(
            self.client.clone(),
            self.session.subscribe(),
            Arc::clone(&self.runtime),
            self.identity.clone(),
        ));
        self.poll_desired().await;
        Ok(())
    }

    /// Lists and inspects this instance's containers, grouped by task ARN; retries until the
    /// runtime answers.
    async fn find_own_containers(&self) -> HashMap<String, Vec<ContainerInfo>> {
        let mut backoff = Backoff::new();
        let ids = loop {
            match self.runtime.list_containers(labels::CONTAINER_INSTANCE, &self.identity).await {
                Ok(ids) => break ids,
                Err(error) => {
                    tracing::warn!(%error, "cannot list this instance's containers; retrying");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        };
        let mut found: HashMap<String, Vec<ContainerInfo>> = HashMap::new();
        for id in ids {
            match self.runtime.inspect_container(&id).await {
                Ok(info) => {
                    self.runner_context.metadata.adopt(&info.labels);
                    if let Some(arn) = info.labels.get(labels::TASK_ARN) {
                        found.entry(arn.clone()).or_default().push(info);
                    }
                }
                Err(error) => {
                    tracing::warn!(container = %id, %error, "cannot inspect a container to adopt")
                }
            }
        }
        tracing::info!(tasks = found.len(), "found this instance's containers");
        found
    }

    async fn register(&self, backoff: &mut Backoff) {
        loop {
            match self.try_register().await {
                Ok(instance_arn) => {
                    tracing::info!(%instance_arn, "registered");
                    if let Err(error) = self.data.save_instance_arn(&instance_arn) {
                        tracing::warn!(%error, "cannot save the container instance ARN");
                    }
                    let instance_id = client::instance_id_from_arn(&instance_arn).to_string();
                    self.session.send_replace(Some(instance_id));
                    self.reporter.unacknowledge_all();
                    backoff.reset();
                    return;
                }
                Err(RegisterFailure::RejectedWithSavedArn(message)) => {
                    tracing::warn!(reason = %message, "registration with the saved ARN was rejected; registering afresh");
                    if let Err(error) = self.data.forget_instance_arn() {
                        tracing::warn!(%error, "cannot forget the container instance ARN");
                    }
                }
                Err(RegisterFailure::Other(message)) => {
                    tracing::warn!(reason = %message, "cannot register; retrying");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        }
    }

    async fn try_register(&self) -> Result<String, RegisterFailure> {
        let host = self.runtime.host_info().await.map_err(|error| RegisterFailure::Other(error.to_string()))?;
        let saved = self.data.load_instance_arn().map_err(|error| RegisterFailure::Other(error.to_string()))?;
        let request = registration::build_request(&self.config, &self.identity, &host, saved.as_deref());
        match self.client.register(&request).await {
            Ok(arn) => Ok(arn),
            Err(ClientError::Rejected { message, .. } | ClientError::NotFound(message)) if saved.is_some() => {
                Err(RegisterFailure::RejectedWithSavedArn(message))
            }
            Err(error) => Err(RegisterFailure::Other(error.to_string())),
        }
    }

    /// The long-poll loop: (re)registers when needed and applies every newer document.
    async fn poll_desired(self: &Arc<Self>) {
        let mut backoff = Backoff::new();
        let mut generation = 0;
        let mut applied_once = false;
        loop {
            let Some(instance_id) = self.session.borrow().clone() else {
                self.register(&mut backoff).await;
                // A fresh registration may come with a fresh generation count.
                generation = 0;
                applied_once = false;
                continue;
            };
            // Once a whole document has been applied, changes since then are enough.
            let polled = self.client.poll_desired(&instance_id, generation, applied_once).await;
            self.metrics.desired_polled(polled.is_ok());
            match polled {
                Ok(document) => {
                    backoff.reset();
                    if should_apply(applied_once, generation, document.generation) {
                        generation = document.generation;
                        applied_once = true;
                        self.apply(document);
                    }
                    self.signal_all(RunnerSignal::Resync);
                }
                Err(ClientError::Gone) => {
                    tracing::warn!("this container instance was deregistered; registering afresh");
                    if let Err(error) = self.data.forget_instance_arn() {
                        tracing::warn!(%error, "cannot forget the container instance ARN");
                    }
                    self.session.send_replace(None);
                }
                Err(ClientError::NotFound(message)) => {
                    tracing::warn!(reason = %message, "the server does not know this instance; registering again");
                    self.session.send_replace(None);
                }
                Err(error) => {
                    tracing::warn!(%error, "desired-state poll failed; retrying");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        }
    }

    /// Converges the runner table to a desired document. Only a complete document stops the
    /// tasks it leaves out and settles which adopted containers are orphans.
    fn apply(self: &Arc<Self>, document: DesiredDocument) {
        let mut tasks = self.tasks.lock();
        let mut adoptable = if document.complete { tasks.adoptable.take().unwrap_or_default() } else { HashMap::new() };
        let mut listed = HashSet::new();
        for desired in &document.tasks {
            listed.insert(desired.task_arn.clone());
            if let Some(runner) = tasks.runners.get(&desired.task_arn) {
                runner.desired.send_if_modified(|status| {
                    std::mem::replace(status, desired.desired_status) != desired.desired_status
                });
                continue;
            }
            let found = adoptable.remove(&desired.task_arn).unwrap_or_default();
            // A task the server has as STOPPED needs a runner only to clean up what is left.
            if desired.last_status == TaskStatus::Stopped && found.is_empty() {
                continue;
            }
            self.spawn_runner(&mut tasks, initial_state(desired, &found));
        }
        for (arn, runner) in tasks.runners.iter().filter(|_| document.complete) {
            if !listed.contains(arn) {
                // The document is whole: a task it does not list is not wanted here.
                runner.desired.send_if_modified(|status| {
                    std::mem::replace(status, DesiredStatus::Stopped) != DesiredStatus::Stopped
                });
            }
        }
        drop(tasks);
        for (task_arn, containers) in adoptable {
            tracing::warn!(%task_arn, "removing the containers of a task the server does not list");
            let removal =
                tokio::spawn(remove_orphans(Arc::clone(&self.runtime), containers, self.config.task_cleanup_wait));
            self.orphan_removals.lock().push(removal.abort_handle());
        }
    }

    fn spawn_runner(self: &Arc<Self>, tasks: &mut Tasks, state: TaskState) {
        let task_arn = state.task_arn.clone();
        let (desired, desired_receiver) = watch::channel(state.desired);
        let (signals, signal_receiver) = mpsc::unbounded_channel();
        let runner = TaskRunner::new(Arc::clone(&self.runner_context), state, desired_receiver, signal_receiver);
        tasks.next_serial += 1;
        let serial = tasks.next_serial;
        let agent: Weak<Agent> = Arc::downgrade(self);
        let arn = task_arn.clone();
        let join = tokio::spawn(async move {
            runner.run().await;
            if let Some(agent) = agent.upgrade() {
                let mut tasks = agent.tasks.lock();
                if tasks.runners.get(&arn).is_some_and(|runner| runner.serial == serial) {
                    tasks.runners.remove(&arn);
                }
            }
        });
        tasks.runners.insert(task_arn, RunnerHandle { serial, desired, signals, abort: join.abort_handle() });
    }

    fn signal_all(&self, signal: RunnerSignal) {
        for runner in self.tasks.lock().runners.values() {
            let _ = runner.signals.send(signal.clone());
        }
    }

    fn signal(&self, task_arn: &str, signal: RunnerSignal) -> bool {
        match self.tasks.lock().runners.get(task_arn) {
            Some(runner) => runner.signals.send(signal).is_ok(),
            None => false,
        }
    }

    /// Sends reports until each is accepted; never drops one the server has not acknowledged.
    async fn send_reports(self: Arc<Self>) {
        let mut session = self.session.subscribe();
        let mut backoff = Backoff::new();
        loop {
            let Some(instance_id) = session.borrow_and_update().clone() else {
                let _ = session.changed().await;
                continue;
            };
            let Some(batch) = self.reporter.take_unacknowledged() else {
                tokio::select! {
                    () = self.reporter.changed() => {}
                    _ = session.changed() => {}
                }
                continue;
            };
            let sent = self.client.report(&instance_id, &StateReport { tasks: batch.reports.clone() }).await;
            self.metrics.report_sent(sent.is_ok());
            match sent {
                Ok(response) => {
                    backoff.reset();
                    self.reporter.acknowledge(&batch);
                    for task_arn in response.unknown_tasks {
                        tracing::warn!(%task_arn, "the server does not know this task; stopping and removing it");
                        self.reporter.drop_task(&task_arn);
                        self.signal(&task_arn, RunnerSignal::Purge);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot report task state; retrying");
                    let delay = backoff.next_delay();
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = session.changed() => {}
                    }
                }
            }
        }
    }

    /// Forwards runtime events to the runners of their tasks, resubscribing when the stream
    /// breaks (and asking every runner to re-inspect, since events may have been missed).
    async fn pump_events(self: Arc<Self>, subscribed: oneshot::Sender<()>) {
        let mut subscribed = Some(subscribed);
        let mut backoff = Backoff::new();
        loop {
            match self.runtime.events(labels::CONTAINER_INSTANCE, &self.identity).await {
                Ok(mut stream) => {
                    backoff.reset();
                    match subscribed.take() {
                        Some(subscribed) => {
                            let _ = subscribed.send(());
                        }
                        None => self.signal_all(RunnerSignal::Resync),
                    }
                    while let Some(event) = stream.next().await {
                        match event {
                            Ok(event) => {
                                if let Some(task_arn) = event.labels.get(labels::TASK_ARN) {
                                    self.signal(task_arn, RunnerSignal::ContainerEvent(event.container_id));
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "container event stream failed");
                                break;
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot subscribe to container events; retrying")
                }
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }
}

/// Whether a desired document with generation `incoming` is applied: the first one after a
/// (re)registration always is (it says which adopted tasks are still wanted); later only a
/// newer one. An equal generation is a no-op and an older one a stale answer.
fn should_apply(applied_once: bool, current: u64, incoming: u64) -> bool {
    !applied_once || incoming > current
}

enum RegisterFailure {
    RejectedWithSavedArn(String),
    Other(String),
}

/// Stops and removes the containers of a task the server no longer lists. Running ones stop
/// now; stopped ones are kept for the cleanup wait so that their logs stay readable.
async fn remove_orphans(runtime: Arc<dyn ContainerRuntime>, containers: Vec<ContainerInfo>, cleanup_wait: Duration) {
    let any_running = containers.iter().any(|info| info.state == ContainerRunState::Running);
    if !any_running {
        tokio::time::sleep(cleanup_wait).await;
    }
    for info in containers {
        if info.state == ContainerRunState::Running {
            if let Err(error) = runtime.stop_container(&info.id, ORPHAN_STOP_TIMEOUT).await {
                tracing::warn!(container = %info.id, %error, "cannot stop an orphaned container");
            }
        }
        if let Err(error) = runtime.remove_container(&info.id).await {
            tracing::warn!(container = %info.id, %error, "cannot remove an orphaned container");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::should_apply;

    #[test]
    fn only_newer_generations_apply_after_the_first() {
        assert!(should_apply(false, 0, 0));
        assert!(should_apply(false, 0, 7));
        assert!(should_apply(true, 7, 8));
        assert!(!should_apply(true, 7, 7));
        assert!(!should_apply(true, 7, 3));
    }
}
