//! A large document: 1,000 target groups of 10 targets each, all health checked, must fit in
//! 100 MiB of resident memory (the whole test process, proxy and harness together).

mod common;

use berth_proxy_protocol::*;
use common::*;
use std::collections::HashMap;

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_checked_targets_fit_in_100_mib() {
    // Ports where (almost certainly) nothing listens on 127.0.0.1: checks fail fast.
    let groups: Vec<TargetGroup> = (0..1000u32)
        .map(|index| {
            let targets = (0..10u32)
                .map(|slot| {
                    let port = u16::try_from(20_000 + index * 10 + slot).unwrap();
                    target(format!("127.0.0.1:{port}").parse().unwrap())
                })
                .collect();
            let mut group = group(&format!("tg/{index}"), targets, true);
            group.health_check.unhealthy_threshold = 2;
            group
        })
        .collect();
    let rules = (0..1000u32)
        .map(|index| {
            rule(
                Some(index + 1),
                vec![Condition::HostHeader(vec![format!("app{index}.example")])],
                forward(&[(format!("tg/{index}").as_str(), 1)]),
            )
        })
        .chain([rule(None, vec![], forward(&[("tg/0", 1)]))])
        .collect();
    let proxy = start_proxy();
    let mut reports = proxy.health_reports().unwrap();
    let address = serve(&proxy, document(1, vec![listener("listener/a", rules)], groups));
    let mut latest: HashMap<(String, u16), HealthState> = HashMap::new();
    let started = std::time::Instant::now();
    while latest.values().filter(|state| **state == HealthState::Unhealthy).count() < 10_000 {
        assert!(started.elapsed() < DEADLINE * 4, "every target checked, {} so far", latest.len());
        let report = tokio::time::timeout(DEADLINE, reports.recv()).await.unwrap().unwrap();
        for health in report.targets {
            latest.insert((health.target_group_arn, health.port), health.state);
        }
    }
    let answer = get(&http_client(), address, "app999.example", "/").await;
    assert_eq!(answer.status, hyper::StatusCode::BAD_GATEWAY, "fail-open to a closed port");
    let resident = resident_bytes();
    println!("resident memory with 10,000 checked targets: {} MiB", resident / (1024 * 1024));
    assert!(resident <= 100 * 1024 * 1024, "{} MiB resident", resident / (1024 * 1024));
}
