//! The proxy: applies documents (binding and closing listeners, rebuilding routing tables over
//! the live target state, syncing health checks) and hands out health reports. `apply` is the
//! only writer and takes a mutex; requests never do.

use crate::access_log::{elb_name, AccessLogs};
use crate::health::{report_loop, HealthChecker, HealthShared};
use crate::listener::BoundListener;
use crate::routing::{compile_rule, ListenerTable};
use crate::targets::{GroupRuntime, TargetKey, TargetRuntime};
use crate::tls;
use crate::workers::Workers;
use berth_proxy_protocol::{HealthReport, ListenerProtocol, ProxyDocument, TargetState};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Names this proxy in its health reports.
    pub proxy_id: String,
    /// How many reports may wait for the caller before checks stop producing new ones (their
    /// changes then merge until the caller catches up).
    pub health_report_queue: usize,
    /// Threads of the data path (one single-threaded runtime each); the number of cores by
    /// default.
    pub workers: usize,
    /// Where relative paths in the document (access logs) are resolved; the working directory
    /// when `None`.
    pub data_dir: Option<std::path::PathBuf>,
}

impl ProxyOptions {
    pub fn new(proxy_id: impl Into<String>) -> Self {
        let workers = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        Self { proxy_id: proxy_id.into(), health_report_queue: 64, workers, data_dir: None }
    }
}

/// What `apply` did with a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// Its generation is not greater than the one served.
    Ignored {
        serving: u64,
    },
}

/// One listener of the document being served, as bound (or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerStatus {
    pub listener_arn: String,
    /// As the document asked.
    pub bind: SocketAddr,
    /// Where it accepts (differs from `bind` when that asked for port 0).
    pub local_addr: Option<SocketAddr>,
    /// Why it is not serving: the bind failed, or its certificates are unusable.
    pub error: Option<String>,
}

struct State {
    document: Option<Arc<ProxyDocument>>,
    listeners: HashMap<SocketAddr, BoundListener>,
    statuses: Vec<ListenerStatus>,
    targets: HashMap<TargetKey, Arc<TargetRuntime>>,
    health: HealthChecker,
    access_logs: AccessLogs,
}

struct Inner {
    state: Mutex<State>,
    workers: Workers,
    reports: Mutex<Option<mpsc::Receiver<HealthReport>>>,
    report_task: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.report_task.abort();
        let mut state = self.state.lock();
        state.listeners.clear();
        state.health.clear();
    }
}

/// A running proxy; clones share it. Dropping the last clone closes its listeners and stops
/// its health checks.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

impl Proxy {
    /// Starts a proxy serving nothing yet. Must be called inside a Tokio runtime (health checks
    /// run on it); the data path runs on threads of its own.
    ///
    /// # Panics
    /// When the worker threads cannot be started (out of threads or memory).
    pub fn start(options: ProxyOptions) -> Self {
        let workers = Workers::start(options.workers).expect("the proxy's worker threads start");
        let shared = HealthShared::new(options.proxy_id);
        let (sender, receiver) = mpsc::channel(options.health_report_queue.max(1));
        let report_task = tokio::spawn(report_loop(Arc::clone(&shared), sender));
        let state = State {
            document: None,
            listeners: HashMap::new(),
            statuses: Vec::new(),
            targets: HashMap::new(),
            health: HealthChecker::new(shared),
            access_logs: AccessLogs::new(options.data_dir),
        };
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                workers,
                reports: Mutex::new(Some(receiver)),
                report_task,
            }),
        }
    }

    /// The health reports, to post to the control plane. There is one receiver: the first call
    /// gets it, later calls `None`.
    pub fn health_reports(&self) -> Option<mpsc::Receiver<HealthReport>> {
        self.inner.reports.lock().take()
    }

    /// The generation being served, if any document was applied.
    pub fn generation(&self) -> Option<u64> {
        self.inner.state.lock().document.as_ref().map(|document| document.generation)
    }

    /// The document being served.
    pub fn document(&self) -> Option<Arc<ProxyDocument>> {
        self.inner.state.lock().document.clone()
    }

    /// Every listener of the document served, with where it accepts or why it does not.
    pub fn listeners(&self) -> Vec<ListenerStatus> {
        self.inner.state.lock().statuses.clone()
    }

    /// The listeners that are not serving, with why.
    pub fn listener_errors(&self) -> Vec<ListenerStatus> {
        self.listeners().into_iter().filter(|status| status.error.is_some()).collect()
    }

    /// Where the listener with this ARN accepts.
    pub fn local_addr(&self, listener_arn: &str) -> Option<SocketAddr> {
        self.inner
            .state
            .lock()
            .statuses
            .iter()
            .find(|status| status.listener_arn == listener_arn)
            .and_then(|status| status.local_addr)
    }

    /// Serves `document` from now on, unless its generation is not greater than the one
    /// served. Must be called inside a Tokio runtime.
    pub fn apply(&self, document: ProxyDocument) -> ApplyOutcome {
        let mut guard = self.inner.state.lock();
        let state = &mut *guard;
        if let Some(serving) = state.document.as_ref().map(|document| document.generation) {
            if document.generation <= serving {
                return ApplyOutcome::Ignored { serving };
            }
        }
        // Targets: keep the live state of every (group, target) that stays at the same address.
        let mut targets: HashMap<TargetKey, Arc<TargetRuntime>> = HashMap::new();
        let mut groups: HashMap<String, Arc<GroupRuntime>> = HashMap::new();
        let mut checked: Vec<(&berth_proxy_protocol::HealthCheck, Arc<TargetRuntime>)> = Vec::new();
        for group in &document.target_groups {
            let mut runtimes = Vec::with_capacity(group.targets.len());
            for target in &group.targets {
                let key = TargetKey {
                    target_group_arn: group.target_group_arn.clone(),
                    target_id: target.id.clone(),
                    port: target.port,
                };
                let runtime = match state.targets.get(&key) {
                    Some(existing) if existing.address == target.address && existing.scheme == scheme(group) => {
                        Arc::clone(existing)
                    }
                    _ => Arc::new(TargetRuntime::new(key.clone(), target.address, group.protocol)),
                };
                runtime.set_active(target.state == TargetState::Active);
                checked.push((&group.health_check, Arc::clone(&runtime)));
                targets.insert(key, Arc::clone(&runtime));
                runtimes.push(runtime);
            }
            groups.insert(
                group.target_group_arn.clone(),
                Arc::new(GroupRuntime::new(
                    group.target_group_arn.clone(),
                    group.algorithm,
                    group.slow_start_seconds,
                    group.stickiness_seconds.filter(|seconds| *seconds > 0),
                    runtimes,
                )),
            );
        }
        state.health.sync(document.generation, checked.iter().map(|(check, target)| (*check, target)));
        state.targets = targets;

        let certificates: HashMap<&str, &berth_proxy_protocol::Certificate> = document
            .certificates
            .iter()
            .map(|certificate| (certificate.certificate_arn.as_str(), certificate))
            .collect();
        let mut statuses = Vec::with_capacity(document.listeners.len());
        let mut kept: HashMap<SocketAddr, BoundListener> = HashMap::new();
        let mut logs_in_use: HashSet<&str> = HashSet::new();
        for listener in &document.listeners {
            let mut status = ListenerStatus {
                listener_arn: listener.listener_arn.clone(),
                bind: listener.bind,
                local_addr: None,
                error: None,
            };
            if kept.contains_key(&listener.bind) {
                status.error = Some(format!("another listener of the document already binds {}", listener.bind));
                statuses.push(status);
                continue;
            }
            let tls = match listener.protocol {
                ListenerProtocol::Http => None,
                ListenerProtocol::Https => match listener_tls(listener, &certificates) {
                    Ok(config) => Some(config),
                    Err(error) => {
                        tracing::warn!(listener = %listener.listener_arn, %error, "listener not served");
                        status.error = Some(error);
                        statuses.push(status);
                        continue;
                    }
                },
            };
            if let Some(path) = &listener.access_log {
                logs_in_use.insert(path.as_str());
            }
            let table = Arc::new(ListenerTable {
                elb_name: elb_name(&listener.load_balancer_arn),
                protocol: listener.protocol,
                idle_timeout: Duration::from_secs(u64::from(listener.idle_timeout_seconds.max(1))),
                rules: listener.rules.iter().map(|rule| compile_rule(rule, &groups)).collect(),
                tls,
                access_log: listener.access_log.as_deref().and_then(|path| state.access_logs.get_or_open(path)),
            });
            if let Some(bound) = state.listeners.remove(&listener.bind) {
                bound.table.store(table);
                status.local_addr = Some(bound.local_addr);
                kept.insert(listener.bind, bound);
            } else {
                match BoundListener::bind(listener.bind, table, &self.inner.workers) {
                    Ok(bound) => {
                        status.local_addr = Some(bound.local_addr);
                        kept.insert(listener.bind, bound);
                    }
                    Err(error) => {
                        tracing::warn!(listener = %listener.listener_arn, bind = %listener.bind, %error, "cannot bind listener");
                        status.error = Some(format!("cannot bind {}: {error}", listener.bind));
                    }
                }
            }
            statuses.push(status);
        }
        // What is left was removed from the document: dropping it closes the socket.
        state.listeners = kept;
        state.statuses = statuses;
        state.access_logs.retain(&logs_in_use);
        state.document = Some(Arc::new(document));
        ApplyOutcome::Applied
    }
}

fn scheme(group: &berth_proxy_protocol::TargetGroup) -> hyper::http::uri::Scheme {
    match group.protocol {
        berth_proxy_protocol::TargetProtocol::Http => hyper::http::uri::Scheme::HTTP,
        berth_proxy_protocol::TargetProtocol::Https => hyper::http::uri::Scheme::HTTPS,
    }
}

fn listener_tls(
    listener: &berth_proxy_protocol::Listener,
    certificates: &HashMap<&str, &berth_proxy_protocol::Certificate>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let keys = listener
        .certificate_arns
        .iter()
        .map(|arn| {
            let certificate =
                certificates.get(arn.as_str()).ok_or_else(|| tls::CertificateError::Missing { arn: arn.clone() })?;
            tls::certified_key(certificate)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    if keys.is_empty() {
        return Err("an HTTPS listener without certificates".to_owned());
    }
    tls::server_config(keys, listener.http2)
}
