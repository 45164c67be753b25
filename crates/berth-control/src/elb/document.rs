//! The proxy document: every listener, the rules in evaluation order, the target groups that
//! receive traffic and their targets, as `berth_proxy_protocol` defines them. Built from the
//! state on request; its generation moves on with every durable ELB change (see
//! `ControlPlane::mutate_with`), so a proxy long-polling with the generation it holds is
//! answered as soon as something changed.

use super::health::HealthBook;
use super::records::{ListenerRecord, TargetGroupRecord};
use super::{arns, ElbState};
use crate::state::State;
use crate::ControlPlane;
use berth_proxy_protocol as proxy;
use parking_lot::Mutex;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// The ELB side's runtime state: the document generation and the health proxies report.
#[derive(Debug)]
pub struct ElbRuntime {
    generation: watch::Sender<u64>,
    health: Mutex<HealthBook>,
}

impl Default for ElbRuntime {
    fn default() -> Self {
        // The first generation of a run is above every generation of an earlier run (the clock
        // in microseconds), so a proxy that outlived a server restart takes the new document.
        let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_micros() as u64;
        ElbRuntime { generation: watch::Sender::new(start), health: Mutex::new(HealthBook::default()) }
    }
}

impl ElbRuntime {
    /// Called once an ELB change is durable.
    pub(crate) fn advance(&self) {
        self.generation.send_modify(|generation| *generation += 1);
    }
}

fn number(attributes: &std::collections::BTreeMap<String, String>, key: &str, default: u32) -> u32 {
    attributes.get(key).and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn protocol_of(name: &str) -> proxy::TargetProtocol {
    if name == "HTTPS" {
        proxy::TargetProtocol::Https
    } else {
        proxy::TargetProtocol::Http
    }
}

/// Where the proxy connects for a target: an `ip` target's own address; an `instance` target
/// is a Berth agent's host, which the proxy reaches on loopback (one-host installations; the
/// agents' addresses arrive with the ECS integration).
fn target_address(group: &TargetGroupRecord, id: &str, port: u16) -> SocketAddr {
    let ip = match group.target_type.as_str() {
        "ip" => id.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    SocketAddr::new(ip, port)
}

fn target_group(group: &TargetGroupRecord) -> proxy::TargetGroup {
    let health = &group.health_check;
    let attributes = &group.attributes;
    let stickiness = attributes.get("stickiness.enabled").map(String::as_str) == Some("true");
    proxy::TargetGroup {
        target_group_arn: group.arn.clone(),
        name: group.name.clone(),
        protocol: protocol_of(&group.protocol),
        health_check: proxy::HealthCheck {
            enabled: health.enabled,
            protocol: protocol_of(&health.protocol),
            port: health.port.parse().ok(),
            path: health.path.clone(),
            interval_seconds: health.interval_seconds,
            timeout_seconds: health.timeout_seconds,
            healthy_threshold: health.healthy_threshold,
            unhealthy_threshold: health.unhealthy_threshold,
            matcher: health.matcher.clone(),
        },
        algorithm: if attributes.get("load_balancing.algorithm.type").map(String::as_str)
            == Some("least_outstanding_requests")
        {
            proxy::Algorithm::LeastOutstandingRequests
        } else {
            proxy::Algorithm::RoundRobin
        },
        slow_start_seconds: number(attributes, "slow_start.duration_seconds", 0),
        stickiness_seconds: stickiness.then(|| number(attributes, "stickiness.lb_cookie.duration_seconds", 86_400)),
        targets: group
            .targets
            .iter()
            .map(|target| proxy::Target {
                id: target.id.clone(),
                port: target.port,
                address: target_address(group, &target.id, target.port),
                state: if target.draining_since.is_some() {
                    proxy::TargetState::Draining
                } else {
                    proxy::TargetState::Active
                },
            })
            .collect(),
    }
}

fn listener(elb: &ElbState, record: &ListenerRecord, bind_ip: IpAddr) -> proxy::Listener {
    let load_balancer = elb.load_balancers.get(&record.load_balancer_arn);
    let attributes = load_balancer.map(|lb| lb.attributes.clone()).unwrap_or_default();
    let mut rules: Vec<proxy::Rule> = elb
        .rules_of(&record.arn)
        .into_iter()
        .filter_map(|rule| {
            Some(proxy::Rule {
                rule_arn: rule.arn.clone(),
                priority: Some(rule.priority),
                conditions: rule.conditions.clone(),
                action: rule.actions.last()?.action.clone(),
            })
        })
        .collect();
    if let Some(action) = record.default_actions.last() {
        rules.push(proxy::Rule {
            rule_arn: arns::default_rule(&record.arn),
            priority: None,
            conditions: vec![],
            action: action.action.clone(),
        });
    }
    let access_logs = attributes.get("access_logs.s3.enabled").map(String::as_str) == Some("true");
    proxy::Listener {
        listener_arn: record.arn.clone(),
        load_balancer_arn: record.load_balancer_arn.clone(),
        bind: SocketAddr::new(bind_ip, record.port),
        protocol: if record.protocol == "HTTPS" {
            proxy::ListenerProtocol::Https
        } else {
            proxy::ListenerProtocol::Http
        },
        certificate_arns: record.default_certificate.iter().chain(&record.extra_certificates).cloned().collect(),
        idle_timeout_seconds: number(&attributes, "idle_timeout.timeout_seconds", 60),
        http2: attributes.get("routing.http2.enabled").map(String::as_str) != Some("false"),
        rules,
        // Relative: the proxy keeps access logs under its own data directory.
        access_log: access_logs
            .then(|| format!("access-logs/{}.log", load_balancer.map(|lb| lb.name.as_str()).unwrap_or("unknown"))),
    }
}

/// The whole document at `generation`.
pub fn build(state: &State, generation: u64, bind_ip: IpAddr) -> proxy::ProxyDocument {
    let elb = &state.elb;
    let listeners = elb.listeners.values().map(|record| listener(elb, record, bind_ip)).collect();
    let target_groups = elb
        .target_groups
        .values()
        .filter(|group| !elb.load_balancers_using(&group.arn).is_empty())
        .map(target_group)
        .collect();
    proxy::ProxyDocument { generation, listeners, target_groups, certificates: certificates(state) }
}

/// The certificates (chain and private key) of every HTTPS listener, once each. This is the
/// only place a private key leaves the control plane: the document is the proxy's own channel.
fn certificates(state: &State) -> Vec<proxy::Certificate> {
    let used: std::collections::BTreeSet<&String> = state
        .elb
        .listeners
        .values()
        .filter(|listener| listener.protocol == "HTTPS")
        .flat_map(|listener| listener.default_certificate.iter().chain(&listener.extra_certificates))
        .collect();
    used.into_iter()
        .filter_map(|arn| state.acm.certificates.get(arn))
        .map(|record| proxy::Certificate {
            certificate_arn: record.arn.clone(),
            certificate_chain_pem: record.full_chain_pem(),
            private_key_pem: record.private_key.expose().to_string(),
        })
        .collect()
}

impl ControlPlane {
    pub(crate) fn elb_health(&self) -> &Mutex<HealthBook> {
        &self.elb_runtime.health
    }

    /// The current proxy document.
    pub fn proxy_document(&self) -> proxy::ProxyDocument {
        let generation = *self.elb_runtime.generation.borrow();
        build(&self.read(), generation, self.config().proxy_bind_ip)
    }

    /// The document once its generation is greater than `after`, waiting up to `wait`; `None`
    /// when nothing changed meanwhile.
    pub async fn proxy_document_after(&self, after: u64, wait: Duration) -> Option<proxy::ProxyDocument> {
        let mut receiver = self.elb_runtime.generation.subscribe();
        let newer = tokio::time::timeout(wait, receiver.wait_for(|generation| *generation > after)).await;
        match newer {
            Ok(Ok(_)) => Some(self.proxy_document()),
            _ => None,
        }
    }

    /// Takes in what a proxy reports of its targets' health.
    /// Services behind the reported targets are replanned soon: their deployments wait on it.
    pub fn record_target_health(&self, report: proxy::HealthReport) {
        self.elb_runtime.health.lock().record(report);
        self.wake_service_reconciler();
    }
}
