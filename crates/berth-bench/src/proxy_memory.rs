//! The proxy's resident memory with a large document: 1,000 target groups of 10 targets, all
//! health checked, one listener with a host-header rule per group. Run as its own process
//! (`berth bench proxy-memory`, started by `berth bench proxy`) so that the figure is a whole
//! `berth` process serving that document — what `berth proxy` would hold — and nothing else.

use berth_proxy::{Proxy, ProxyOptions};
use berth_proxy_protocol::{
    Action, Algorithm, Condition, HealthCheck, HealthState, Listener, ListenerProtocol, ProxyDocument, Rule, Target,
    TargetGroup, TargetProtocol, TargetState, WeightedTargetGroup,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const GROUPS: u32 = 1000;
const TARGETS_PER_GROUP: u32 = 10;
const DEADLINE: Duration = Duration::from_secs(120);

pub async fn run() -> anyhow::Result<()> {
    let pid = std::process::id();
    let baseline = crate::process::memory(pid).map_or(0, |memory| memory.resident_bytes);
    let proxy = Proxy::start(ProxyOptions::new("bench-proxy-memory"));
    let mut reports = proxy.health_reports().expect("the first call gets the receiver");
    proxy.apply(document());
    if let Some(error) = proxy.listener_errors().first() {
        anyhow::bail!("the listener did not bind: {error:?}");
    }
    // Until every target has been checked and reported (the checks fail fast: nothing listens).
    let total = (GROUPS * TARGETS_PER_GROUP) as usize;
    let started = Instant::now();
    let mut latest: HashMap<(String, u16), HealthState> = HashMap::new();
    while latest.values().filter(|state| **state == HealthState::Unhealthy).count() < total {
        let Some(left) = DEADLINE.checked_sub(started.elapsed()) else { break };
        match tokio::time::timeout(left, reports.recv()).await {
            Ok(Some(report)) => {
                for health in report.targets {
                    latest.insert((health.target_group_arn, health.port), health.state);
                }
            }
            _ => break,
        }
    }
    let checked = latest.values().filter(|state| **state == HealthState::Unhealthy).count();
    let memory =
        crate::process::memory(pid).unwrap_or(crate::process::Memory { resident_bytes: 0, peak_resident_bytes: 0 });
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "proxy memory: {GROUPS} target groups x {TARGETS_PER_GROUP} targets ({checked} of {total} health checked \
         and reported in {:.1} s), {GROUPS} rules",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  resident (VmRSS) {:.1} MiB, peak (VmHWM) {:.1} MiB; the same process before the proxy started: {:.1} MiB",
        mib(memory.resident_bytes),
        mib(memory.peak_resident_bytes),
        mib(baseline)
    );
    drop(proxy);
    Ok(())
}

fn document() -> ProxyDocument {
    let health_check = HealthCheck {
        enabled: true,
        protocol: TargetProtocol::Http,
        port: None,
        path: "/".to_owned(),
        interval_seconds: 5,
        timeout_seconds: 2,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
        matcher: "200".to_owned(),
    };
    let arn = |index: u32| {
        format!("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/bench-{index}/{index:016x}")
    };
    let target_groups = (0..GROUPS)
        .map(|index| TargetGroup {
            target_group_arn: arn(index),
            name: format!("bench-{index}"),
            protocol: TargetProtocol::Http,
            health_check: health_check.clone(),
            algorithm: Algorithm::RoundRobin,
            slow_start_seconds: 0,
            stickiness_seconds: None,
            targets: (0..TARGETS_PER_GROUP)
                .map(|slot| {
                    // Loopback ports where (almost certainly) nothing listens: checks fail fast.
                    let port = u16::try_from(20_000 + index * TARGETS_PER_GROUP + slot).expect("below 65536");
                    Target {
                        id: "127.0.0.1".to_owned(),
                        port,
                        address: ([127, 0, 0, 1], port).into(),
                        state: TargetState::Active,
                    }
                })
                .collect(),
        })
        .collect();
    let forward = |index: u32| Action::Forward {
        target_groups: vec![WeightedTargetGroup { target_group_arn: arn(index), weight: 1 }],
        stickiness_seconds: None,
    };
    let rules = (0..GROUPS)
        .map(|index| Rule {
            rule_arn: format!("rule/{index}"),
            priority: Some(index + 1),
            conditions: vec![Condition::HostHeader(vec![format!("app{index}.example")])],
            action: forward(index),
        })
        .chain([Rule {
            rule_arn: "rule/default".to_owned(),
            priority: None,
            conditions: Vec::new(),
            action: forward(0),
        }])
        .collect();
    ProxyDocument {
        generation: 1,
        listeners: vec![Listener {
            listener_arn: "listener/bench".to_owned(),
            load_balancer_arn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/bench/0"
                .to_owned(),
            bind: ([127, 0, 0, 1], 0).into(),
            protocol: ListenerProtocol::Http,
            certificate_arns: Vec::new(),
            idle_timeout_seconds: 60,
            http2: true,
            rules,
            access_log: None,
        }],
        target_groups,
        certificates: Vec::new(),
    }
}
