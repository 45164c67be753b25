//! The control plane: every ECS action as a method on [`ControlPlane`], the channel to agents
//! (desired documents and state reports), and the background reconcilers.
//!
//! How a write works: writers are serialised by one async mutex; a writer reads the in-memory
//! [`state::State`], decides a list of [`state::Change`]s, commits them to the store (durable
//! before anything else happens), then applies them to memory and wakes the agents whose
//! desired document changed. Readers take a read lock and never wait for a disk flush.
//!
//! Invariant: nothing is acknowledged (returned to a caller) before it is durable, and memory
//! never holds a change the store does not.
//!
//! Not here: wire shapes and the AWS error mapping (the edge, `berth-api`), placement logic
//! (`berth-scheduler`), storage engines (`berth-store`).

pub mod account_settings;
pub mod acm;
pub mod agents;
pub mod attributes;
pub mod autoscaling;
mod booked_views;
pub mod capacity_providers;
pub mod cloudwatch;
pub mod clusters;
mod committer;
pub mod container_instances;
pub mod daemons;
pub mod elb;
pub mod error;
pub mod events;
pub mod exec_sessions;
pub mod gateways;
pub mod liveness;
pub mod logs;
pub mod metrics;
mod placement_views;
pub mod retention;
pub mod schedules;
pub mod service_history;
pub mod service_reconciler;
pub mod services;
pub mod state;
pub mod submitted_state_changes;
pub mod tags;
pub mod task_definitions;
pub mod task_protection;
pub mod task_sets;
pub mod tasks;
pub mod usage;

pub use error::{ControlError, ControlResult};

use berth_store::Store;
use berth_types::{ArnContext, ContainerInstanceId};
use parking_lot::{Mutex, RwLock};
use state::{Change, State};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Operator settings of the control plane.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    pub arn_context: ArnContext,
    /// An instance whose agent has not been heard from for this long shows
    /// `agentConnected: false` and takes no new tasks.
    pub agent_timeout: Duration,
    /// Stopped tasks stay describable for this long (ECS: at least an hour).
    pub stopped_task_retention: Duration,
    /// After this long without its agent, an instance counts as lost and its service tasks are
    /// replaced elsewhere.
    pub instance_lost_after: Duration,
    /// The service planner's tunables (settle time without health checks, throttle delays).
    pub planner: berth_planner::PlannerSettings,
    /// The address the load-balancing proxy binds every listener on (the port is the
    /// listener's).
    pub proxy_bind_ip: std::net::IpAddr,
    /// How long a minute of a deployment's bake times lasts (60 s; tests shorten it).
    pub deployment_minute: Duration,
    /// How long a day of log retention lasts (24 h; tests shorten it).
    pub log_day: Duration,
    /// The period of the alarms target tracking policies create (AWS: 60 s; 10, 20 or 30 let
    /// tests see them move within seconds).
    pub autoscaling_alarm_period_seconds: u32,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            arn_context: ArnContext::default(),
            agent_timeout: Duration::from_secs(60),
            stopped_task_retention: Duration::from_secs(3 * 3600),
            instance_lost_after: Duration::from_secs(300),
            planner: berth_planner::PlannerSettings::default(),
            proxy_bind_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            deployment_minute: Duration::from_secs(60),
            log_day: Duration::from_secs(86_400),
            autoscaling_alarm_period_seconds: 60,
        }
    }
}

/// Liveness of one instance's agent: not durable, rebuilt as agents reconnect.
#[derive(Debug, Default)]
struct AgentPresence {
    last_contact: Option<Instant>,
    open_polls: usize,
}

/// The stores beside the control plane's own: data too big for memory, written outside
/// `mutate`.
pub struct DataStores {
    pub log_store: berth_log_store::LogStore,
    pub metric_store: berth_metric_store::MetricStore,
}

pub struct ControlPlane {
    config: ControlConfig,
    state: RwLock<State>,
    writer: Mutex<()>,
    committer: committer::Committer,
    presence: Mutex<HashMap<ContainerInstanceId, AgentPresence>>,
    generations: Mutex<HashMap<ContainerInstanceId, watch::Sender<u64>>>,
    /// The proxy document's generation and the target health proxies report.
    elb_runtime: elb::document::ElbRuntime,
    /// Woken by every change a service reconciler pass should look at.
    service_wake: tokio::sync::Notify,
    /// Woken by every change to schedules, so the firing loop re-reads its due index.
    schedule_wake: tokio::sync::Notify,
    /// When this control plane started; an agent never heard from is absent since then.
    started: Instant,
    /// Why the last pass could not place a service's launches, by service key (not durable:
    /// the next pass finds out again).
    placement_failures: Mutex<HashMap<String, String>>,
    /// Log events (`logs`): their own store, since they are far more than memory holds.
    log_store: Arc<berth_log_store::LogStore>,
    /// Stored events offered to Live Tail sessions (`logs::live_tail`).
    live_tail: logs::live_tail::LiveTailHub,
    /// CloudWatch metric datapoints (`cloudwatch`): their own store, like log events.
    metric_store: Arc<berth_metric_store::MetricStore>,
    /// This control plane's own metrics (`metrics`), rendered by the edge's `/metrics`.
    metrics: Arc<metrics::ControlMetrics>,
    /// Where the usage agents report becomes datapoints (`usage`); discarded until set.
    usage_sink: RwLock<Arc<dyn usage::UsageSink>>,
    /// Serialises Application Auto Scaling's decisions (`autoscaling::engine`).
    autoscaling: autoscaling::AutoScalingRuntime,
}

impl ControlPlane {
    /// Loads the state from `store`, with log events and metric datapoints kept in memory
    /// (tests).
    pub fn open(config: ControlConfig, store: Arc<dyn Store>) -> ControlResult<Arc<ControlPlane>> {
        let stores = DataStores {
            log_store: berth_log_store::LogStore::in_memory(),
            metric_store: berth_metric_store::MetricStore::in_memory(),
        };
        Self::open_with_stores(config, store, stores)
    }

    /// Loads the state from `store`; log events and metric datapoints live in `stores`. Events
    /// of streams the state no longer has (deleted just before a crash) are swept first.
    pub fn open_with_stores(
        config: ControlConfig,
        store: Arc<dyn Store>,
        stores: DataStores,
    ) -> ControlResult<Arc<ControlPlane>> {
        let DataStores { log_store, metric_store } = stores;
        let metric_store = Arc::new(metric_store);
        let state = State::load(store.as_ref())?;
        let live: std::collections::HashSet<u64> = state.logs.streams.values().map(|stream| stream.id).collect();
        log_store.retain_streams(&live).map_err(logs::LogsError::from)?;
        let metrics = Arc::new(metrics::ControlMetrics::default());
        Ok(Arc::new(ControlPlane {
            log_store: Arc::new(log_store),
            live_tail: logs::live_tail::LiveTailHub::default(),
            metric_store: Arc::clone(&metric_store),
            config,
            state: RwLock::new(state),
            writer: Mutex::new(()),
            committer: committer::Committer::start(Arc::clone(&store), metrics.commit.clone()),
            presence: Mutex::new(HashMap::new()),
            generations: Mutex::new(HashMap::new()),
            elb_runtime: elb::document::ElbRuntime::default(),
            service_wake: tokio::sync::Notify::new(),
            schedule_wake: tokio::sync::Notify::new(),
            started: Instant::now(),
            placement_failures: Mutex::new(HashMap::new()),
            metrics,
            usage_sink: RwLock::new(Arc::new(cloudwatch::usage_sink::MetricStoreSink::new(Arc::clone(&metric_store)))),
            autoscaling: autoscaling::AutoScalingRuntime::default(),
        }))
    }

    pub(crate) fn log_store(&self) -> Arc<berth_log_store::LogStore> {
        Arc::clone(&self.log_store)
    }

    pub(crate) fn metric_store(&self) -> Arc<berth_metric_store::MetricStore> {
        Arc::clone(&self.metric_store)
    }

    pub(crate) fn live_tail(&self) -> &logs::live_tail::LiveTailHub {
        &self.live_tail
    }

    /// The control plane's metrics, to register with the registry `/metrics` renders.
    pub fn metrics(&self) -> &Arc<metrics::ControlMetrics> {
        &self.metrics
    }

    pub fn config(&self) -> &ControlConfig {
        &self.config
    }

    pub fn arn_context(&self) -> &ArnContext {
        &self.config.arn_context
    }

    /// Runs `decide` against the current state with other writers excluded, applies the changes
    /// it returns, and hands back its result only once they are durable.
    ///
    /// Deciding and applying take microseconds under a plain mutex; the flush happens after the
    /// mutex is released, in the committer's next group, so concurrent writers share fsyncs.
    /// Readers may see a change while its flush is under way (as ECS's eventually consistent
    /// API allows), but nobody is told it happened and no agent is woken for it before it is
    /// durable. A flush that fails leaves memory ahead of the store, so the process stops
    /// rather than serve state it could lose; a restart reloads what is durable.
    pub(crate) async fn mutate<T>(
        &self,
        decide: impl FnOnce(&State) -> ControlResult<(Vec<Change>, T)>,
    ) -> ControlResult<T> {
        self.mutate_with(true, decide).await
    }

    /// [`ControlPlane::mutate`], choosing whether the change wakes the service reconciler (its
    /// own passes do not, or it would wake itself forever).
    pub(crate) async fn mutate_with<T>(
        &self,
        wake_services: bool,
        decide: impl FnOnce(&State) -> ControlResult<(Vec<Change>, T)>,
    ) -> ControlResult<T> {
        let (durable, woken, proxies_affected, schedules_affected, result) = {
            let _writer = self.writer.lock();
            let state = self.state.read();
            let (mut changes, result) = decide(&state)?;
            if changes.is_empty() {
                return Ok(result);
            }
            elb::service_targets::drain_stopping_tasks(&state, &mut changes);
            agents::stamp_desired_generations(&state, &mut changes);
            let ecs_events = events::ecs_events::outbox_changes(&state, &changes);
            changes.extend(ecs_events);
            drop(state);
            let woken: Vec<(ContainerInstanceId, u64)> = changes
                .iter()
                .filter_map(|change| match change {
                    Change::PutContainerInstance(record) => Some((record.id.clone(), record.desired_generation)),
                    Change::AdvanceDesiredGeneration(row) => Some((row.instance.clone(), row.generation)),
                    _ => None,
                })
                .collect();
            // A re-imported certificate changes what the listeners using it serve.
            let proxies_affected = changes.iter().any(|change| matches!(change, Change::Elb(_) | Change::Acm(_)));
            let schedules_affected = changes.iter().any(|change| matches!(change, Change::Schedule(_)));
            let durable = self.committer.submit(State::batch_for(&changes));
            self.state.write().apply(changes);
            (durable, woken, proxies_affected, schedules_affected, result)
        };
        let outcome = durable.await.unwrap_or_else(|_| Err("the committer has stopped".to_string()));
        if let Err(message) = outcome {
            tracing::error!(reason = %message, "a store flush failed; stopping so that no state the store lacks is served");
            std::process::abort();
        }
        self.wake_agents(woken);
        if proxies_affected {
            self.elb_runtime.advance();
        }
        if wake_services {
            self.wake_service_reconciler();
        }
        if schedules_affected {
            self.wake_schedule_firing();
        }
        Ok(result)
    }

    /// Asks the schedule firing loop to look at its due index again.
    pub(crate) fn wake_schedule_firing(&self) {
        self.schedule_wake.notify_one();
    }

    pub(crate) fn schedule_wake(&self) -> &tokio::sync::Notify {
        &self.schedule_wake
    }

    /// Asks the service reconciler for a pass soon (it coalesces wake-ups).
    pub(crate) fn wake_service_reconciler(&self) {
        self.service_wake.notify_one();
    }

    fn wake_agents(&self, woken: Vec<(ContainerInstanceId, u64)>) {
        let generations = self.generations.lock();
        for (instance, generation) in woken {
            if let Some(sender) = generations.get(&instance) {
                sender.send_if_modified(|current| {
                    let newer = generation > *current;
                    if newer {
                        *current = generation;
                    }
                    newer
                });
            }
        }
    }

    /// Read access for queries.
    pub(crate) fn read(&self) -> parking_lot::RwLockReadGuard<'_, State> {
        self.state.read()
    }

    /// How long the instance's agent has been silent, `None` while it is connected or polling.
    pub(crate) fn agent_absent_for(&self, instance: &ContainerInstanceId) -> Option<Duration> {
        let presence = self.presence.lock();
        match presence.get(instance) {
            Some(presence) if presence.open_polls > 0 => None,
            Some(AgentPresence { last_contact: Some(at), .. }) => Some(at.elapsed()),
            // Never heard from since this server started: count from the start.
            _ => Some(self.started.elapsed()),
        }
    }

    /// Whether the instance's agent counts as connected now.
    pub fn agent_connected(&self, instance: &ContainerInstanceId) -> bool {
        Self::connected_in(&self.presence.lock(), instance, self.config.agent_timeout, Instant::now())
    }

    /// The connectivity rule, over a presence table the caller already holds (one lock for a
    /// whole cluster's worth of checks).
    fn connected_in(
        presence: &HashMap<ContainerInstanceId, AgentPresence>,
        instance: &ContainerInstanceId,
        timeout: Duration,
        now: Instant,
    ) -> bool {
        match presence.get(instance) {
            Some(presence) if presence.open_polls > 0 => true,
            Some(AgentPresence { last_contact: Some(at), .. }) => now.duration_since(*at) < timeout,
            _ => false,
        }
    }

    /// [`ControlPlane::agent_connected`] for many instances under one lock.
    pub(crate) fn agents_connected<'a>(&self, instances: impl Iterator<Item = &'a ContainerInstanceId>) -> Vec<bool> {
        let presence = self.presence.lock();
        let now = Instant::now();
        instances.map(|instance| Self::connected_in(&presence, instance, self.config.agent_timeout, now)).collect()
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod durability_tests {
    use super::*;
    use crate::testing::{cluster_with_instance, name, run_web};
    use berth_store::EmbeddedStore;

    #[tokio::test]
    async fn acknowledged_writes_survive_a_reopen() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("berth.redb");
        let (task_id, instance_id, generation) = {
            let control =
                ControlPlane::open(ControlConfig::default(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
            let instance = cluster_with_instance(&control, "prod", 1024, 1024).await;
            let task = control.launch_tasks(run_web("prod", 1, Some(("t", "f")))).await.unwrap().tasks.remove(0);
            control.launch_tasks(run_web("prod", 1, None)).await.unwrap();
            let generation = control.desired_document(&instance.record.id, None).generation;
            (task.id, instance.record.id, generation)
        };
        let reopened =
            ControlPlane::open(ControlConfig::default(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
        assert_eq!(reopened.list_clusters(), vec![name("prod")]);
        assert_eq!(reopened.describe_task_definition("web", None).unwrap().revision, 1);
        let (instances, _) =
            reopened.describe_container_instances(&name("prod"), std::slice::from_ref(&instance_id)).unwrap();
        assert_eq!(instances[0].remaining.memory, 1024 - 2 * 64, "the tasks still hold their memory after a restart");
        let found = reopened
            .with_described_tasks(&name("prod"), std::slice::from_ref(&task_id), |found, _| found.len())
            .unwrap();
        assert_eq!(found, 1);
        // The client token survived too: a retry creates nothing new.
        let replay = reopened.launch_tasks(run_web("prod", 1, Some(("t", "f")))).await.unwrap();
        assert_eq!(replay.tasks[0].id, task_id);
        assert!(generation >= 3, "registration, then two launches: {generation}");
        assert_eq!(
            reopened.desired_document(&instance_id, None).generation,
            generation,
            "the generation rows written by launches are read back, so generations keep growing across restarts"
        );
    }
}
