//! Active health checks: one small task per distinct (target group, target) sends an HTTP(S)
//! GET every interval and feeds the outcome to the target's `HealthMachine`. The task flips the
//! target's routable flag itself, so a target that turns healthy gets requests from the very
//! next one. Changes are gathered into `HealthReport`s: a complete one after every applied
//! document, then only what changed. State survives documents for targets that stay.

use crate::forward::{target_connector, TargetConnector};
use crate::health_state::{CheckOutcome, HealthMachine, Matcher};
use crate::targets::{TargetKey, TargetRuntime};
use berth_proxy_protocol::{HealthCheck, HealthReport, TargetHealth, TargetProtocol};
use bytes::Bytes;
use http_body_util::Empty;
use hyper::http::uri::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

/// What reports are made of, shared by the check tasks and the report loop.
pub struct HealthShared {
    proxy_id: String,
    generation: AtomicU64,
    pending: Mutex<HashMap<TargetKey, TargetHealth>>,
    complete_wanted: AtomicBool,
    records: Mutex<Vec<Arc<CheckRecord>>>,
    notify: Notify,
}

impl HealthShared {
    pub fn new(proxy_id: String) -> Arc<Self> {
        Arc::new(Self {
            proxy_id,
            generation: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
            complete_wanted: AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            notify: Notify::new(),
        })
    }

    fn take_report(&self) -> Option<HealthReport> {
        let generation = self.generation.load(Ordering::Relaxed);
        if self.complete_wanted.swap(false, Ordering::AcqRel) {
            self.pending.lock().clear();
            let records = self.records.lock().clone();
            let targets = records
                .iter()
                .filter_map(|record| {
                    let machine = record.machine.lock();
                    machine.has_result.then(|| target_health(&record.target.key, &machine))
                })
                .collect();
            return Some(HealthReport { proxy_id: self.proxy_id.clone(), generation, complete: true, targets });
        }
        let changes: Vec<TargetHealth> = self.pending.lock().drain().map(|(_, health)| health).collect();
        (!changes.is_empty()).then(|| HealthReport {
            proxy_id: self.proxy_id.clone(),
            generation,
            complete: false,
            targets: changes,
        })
    }
}

/// Sends reports as checks produce them; ends when the receiver is gone.
pub async fn report_loop(shared: Arc<HealthShared>, sender: mpsc::Sender<HealthReport>) {
    loop {
        shared.notify.notified().await;
        // Let a burst of results (many targets checked at once) become one report.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(report) = shared.take_report() {
            if sender.send(report).await.is_err() {
                return;
            }
        }
    }
}

fn target_health(key: &TargetKey, machine: &HealthMachine) -> TargetHealth {
    TargetHealth {
        target_group_arn: key.target_group_arn.clone(),
        target_id: key.target_id.clone(),
        port: key.port,
        state: machine.state,
        reason: machine.reason_code().map(str::to_owned),
        description: machine.description(),
    }
}

/// One target's check results.
pub struct CheckRecord {
    target: Arc<TargetRuntime>,
    machine: Mutex<HealthMachine>,
}

#[derive(Clone, PartialEq)]
struct CheckSettings {
    url: Uri,
    interval: Duration,
    timeout: Duration,
    healthy_threshold: u32,
    unhealthy_threshold: u32,
    matcher: Matcher,
}

impl CheckSettings {
    fn new(check: &HealthCheck, address: SocketAddr) -> Option<Self> {
        let scheme = match check.protocol {
            TargetProtocol::Http => "http",
            TargetProtocol::Https => "https",
        };
        let address = SocketAddr::new(address.ip(), check.port.unwrap_or(address.port()));
        let path = if check.path.starts_with('/') { check.path.clone() } else { format!("/{}", check.path) };
        Some(Self {
            url: Uri::try_from(format!("{scheme}://{address}{path}")).ok()?,
            interval: Duration::from_secs(u64::from(check.interval_seconds.max(1))),
            timeout: Duration::from_secs(u64::from(check.timeout_seconds.max(1))),
            healthy_threshold: check.healthy_threshold,
            unhealthy_threshold: check.unhealthy_threshold,
            matcher: Matcher::parse(&check.matcher).unwrap_or_default(),
        })
    }
}

struct Check {
    settings: CheckSettings,
    record: Arc<CheckRecord>,
    task: JoinHandle<()>,
}

impl Drop for Check {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every check the proxy runs, by target.
pub struct HealthChecker {
    shared: Arc<HealthShared>,
    client: Client<TargetConnector, Empty<Bytes>>,
    checks: HashMap<TargetKey, Check>,
}

impl HealthChecker {
    pub fn new(shared: Arc<HealthShared>) -> Self {
        // A fresh connection per check, as a health checker should see what a new client sees.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .build(target_connector());
        Self { shared, client, checks: HashMap::new() }
    }

    /// Brings the checks in line with a document: starts new ones, restarts changed ones with
    /// their state, stops removed ones, and asks for a complete report.
    pub fn sync<'a>(
        &mut self,
        generation: u64,
        targets: impl Iterator<Item = (&'a HealthCheck, &'a Arc<TargetRuntime>)>,
    ) {
        let mut wanted: HashSet<TargetKey> = HashSet::new();
        for (check, target) in targets {
            if !check.enabled {
                // Health checks off: the target counts as healthy and is not reported.
                target.set_routable(true);
                continue;
            }
            let Some(settings) = CheckSettings::new(check, target.address) else {
                tracing::warn!(target = %target.address, path = %check.path, "unusable health check path");
                target.set_routable(true);
                continue;
            };
            wanted.insert(target.key.clone());
            let record = match self.checks.get(&target.key) {
                Some(existing) if Arc::ptr_eq(&existing.record.target, target) => {
                    if existing.settings == settings {
                        continue;
                    }
                    Arc::clone(&existing.record)
                }
                _ => {
                    let record = Arc::new(CheckRecord {
                        target: Arc::clone(target),
                        machine: Mutex::new(HealthMachine::default()),
                    });
                    target.set_routable(false);
                    record
                }
            };
            let task = tokio::spawn(run_checks(
                Arc::clone(&record),
                settings.clone(),
                self.client.clone(),
                Arc::clone(&self.shared),
            ));
            self.checks.insert(target.key.clone(), Check { settings, record, task });
        }
        self.checks.retain(|key, _| wanted.contains(key));
        {
            let mut pending = self.shared.pending.lock();
            pending.retain(|key, _| wanted.contains(key));
        }
        *self.shared.records.lock() = self.checks.values().map(|check| Arc::clone(&check.record)).collect();
        self.shared.generation.store(generation, Ordering::Relaxed);
        self.shared.complete_wanted.store(true, Ordering::Release);
        self.shared.notify.notify_one();
    }

    pub fn clear(&mut self) {
        self.checks.clear();
    }
}

async fn run_checks(
    record: Arc<CheckRecord>,
    settings: CheckSettings,
    client: Client<TargetConnector, Empty<Bytes>>,
    shared: Arc<HealthShared>,
) {
    // Spread the first checks so that a large document does not check everything at once.
    let spread_millis = u64::try_from(settings.interval.as_millis()).unwrap_or(1000).min(1000);
    tokio::time::sleep(Duration::from_millis(rand::random_range(0..=spread_millis))).await;
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let outcome = check_once(&client, &settings).await;
        let (changed, healthy) = {
            let mut machine = record.machine.lock();
            let changed = machine.record(outcome, settings.healthy_threshold, settings.unhealthy_threshold);
            (changed.then(|| target_health(&record.target.key, &machine)), machine.is_healthy())
        };
        // Routing sees the new state with the next request.
        record.target.set_routable(healthy);
        if let Some(change) = changed {
            shared.pending.lock().insert(record.target.key.clone(), change);
            shared.notify.notify_one();
        }
    }
}

async fn check_once(client: &Client<TargetConnector, Empty<Bytes>>, settings: &CheckSettings) -> CheckOutcome {
    let request = hyper::Request::get(settings.url.clone())
        .header(hyper::header::USER_AGENT, "ELB-HealthChecker/2.0")
        .body(Empty::new())
        .expect("a GET with a valid URI is a valid request");
    match tokio::time::timeout(settings.timeout, client.request(request)).await {
        Err(_elapsed) => CheckOutcome::Timeout,
        Ok(Err(_error)) => CheckOutcome::ConnectionFailed,
        Ok(Ok(response)) => {
            let status = response.status().as_u16();
            if settings.matcher.matches(status) {
                CheckOutcome::Success
            } else {
                CheckOutcome::CodeMismatch(status)
            }
        }
    }
}
