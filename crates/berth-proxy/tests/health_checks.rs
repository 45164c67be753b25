//! Active health checks against real upstream servers: failing targets leave the rotation,
//! recovering ones come back, nobody healthy fails open, state survives documents, and reports
//! are complete first, then changes.

mod common;

use berth_proxy::ApplyOutcome;
use berth_proxy_protocol::*;
use common::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use tokio::sync::mpsc::Receiver;

fn health_document(generation: u64, targets: Vec<Target>) -> ProxyDocument {
    document(
        generation,
        vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))])],
        vec![group("tg/app", targets, true)],
    )
}

/// The latest health of each target port as the reports told it.
struct Reports {
    receiver: Receiver<HealthReport>,
    latest: HashMap<u16, TargetHealth>,
}

impl Reports {
    fn new(receiver: Receiver<HealthReport>) -> Self {
        Self { receiver, latest: HashMap::new() }
    }

    async fn next(&mut self) -> HealthReport {
        let report = tokio::time::timeout(DEADLINE, self.receiver.recv()).await.expect("a report").expect("open");
        for health in &report.targets {
            self.latest.insert(health.port, health.clone());
        }
        report
    }

    /// Waits until the reports say `port` is in `state`, and answers its health.
    async fn until(&mut self, port: u16, state: HealthState) -> TargetHealth {
        let started = std::time::Instant::now();
        while started.elapsed() < DEADLINE {
            if let Some(health) = self.latest.get(&port).filter(|health| health.state == state) {
                return health.clone();
            }
            self.next().await;
        }
        panic!("no report of port {port} as {state:?}");
    }
}

async fn upstreams_answering(address: std::net::SocketAddr, requests: usize) -> HashSet<String> {
    let client = http_client();
    let mut seen = HashSet::new();
    for _ in 0..requests {
        seen.insert(get(&client, address, "a", "/").await.upstream().to_owned());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_targets_leave_and_recovering_ones_return() {
    let (good, bad) = (Upstream::start("good").await, Upstream::start("bad").await);
    bad.health_status.store(500, Ordering::Relaxed);
    let proxy = start_proxy();
    let mut reports = Reports::new(proxy.health_reports().expect("the first call gets the receiver"));
    assert!(proxy.health_reports().is_none());
    let address = serve(&proxy, health_document(1, vec![target(good.address), target(bad.address)]));

    let first = reports.next().await;
    assert!(first.complete, "the first report after a document is complete");
    assert_eq!((first.proxy_id.as_str(), first.generation), ("test-proxy", 1));

    let unhealthy = reports.until(bad.address.port(), HealthState::Unhealthy).await;
    assert_eq!(unhealthy.reason.as_deref(), Some("Target.ResponseCodeMismatch"));
    assert_eq!(unhealthy.description.as_deref(), Some("Health checks failed with these codes: [500]"));
    assert_eq!(unhealthy.target_group_arn, "tg/app");
    reports.until(good.address.port(), HealthState::Healthy).await;
    eventually("only the good target answers", || async {
        (upstreams_answering(address, 10).await == HashSet::from(["good".to_owned()])).then_some(())
    })
    .await;

    bad.health_status.store(200, Ordering::Relaxed);
    reports.until(bad.address.port(), HealthState::Healthy).await;
    eventually("the recovered target answers again", || async {
        upstreams_answering(address, 10).await.contains("bad").then_some(())
    })
    .await;

    // Health survives a new document for targets that stay: no trip back through Initial.
    assert_eq!(proxy.apply(health_document(2, vec![target(good.address), target(bad.address)])), ApplyOutcome::Applied);
    let complete = loop {
        let report = reports.next().await;
        if report.complete && report.generation == 2 {
            break report;
        }
    };
    assert_eq!(complete.targets.len(), 2);
    assert!(complete.targets.iter().all(|health| health.state == HealthState::Healthy), "{complete:?}");
    assert_eq!(upstreams_answering(address, 10).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_are_reported_and_nobody_healthy_fails_open() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    one.health_status.store(503, Ordering::Relaxed);
    two.health_status.store(404, Ordering::Relaxed);
    let refused = closed_port_address();
    let proxy = start_proxy();
    let mut reports = Reports::new(proxy.health_reports().unwrap());
    let address = serve(&proxy, health_document(1, vec![target(one.address), target(two.address), target(refused)]));
    let failed = reports.until(refused.port(), HealthState::Unhealthy).await;
    assert_eq!(failed.reason.as_deref(), Some("Target.FailedHealthChecks"));
    reports.until(one.address.port(), HealthState::Unhealthy).await;
    reports.until(two.address.port(), HealthState::Unhealthy).await;
    // Every Active target gets requests (the refused one answers 502).
    let client = http_client();
    let mut statuses = HashSet::new();
    let mut names = HashSet::new();
    for _ in 0..30 {
        let answer = get(&client, address, "a", "/").await;
        statuses.insert(answer.status.as_u16());
        names.insert(answer.upstream().to_owned());
    }
    assert!(names.contains("one") && names.contains("two"), "{names:?}");
    assert!(statuses.contains(&502), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_reported_as_such() {
    let silent = silent_server().await;
    let proxy = start_proxy();
    let mut reports = Reports::new(proxy.health_reports().unwrap());
    serve(&proxy, health_document(1, vec![target(silent)]));
    let timed_out = reports.until(silent.port(), HealthState::Unhealthy).await;
    assert_eq!(timed_out.reason.as_deref(), Some("Target.Timeout"));
    assert_eq!(timed_out.description.as_deref(), Some("Request timed out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_health_checks_route_at_once_and_report_nothing() {
    let upstream = Upstream::start("one").await;
    let proxy = start_proxy();
    let mut reports = Reports::new(proxy.health_reports().unwrap());
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))])],
            vec![group("tg/app", vec![target(upstream.address)], false)],
        ),
    );
    assert_eq!(upstreams_answering(address, 3).await, HashSet::from(["one".to_owned()]));
    let report = reports.next().await;
    assert!(report.complete && report.targets.is_empty(), "{report:?}");
    assert_eq!(upstream.health_hits.load(Ordering::Relaxed), 0);
}
