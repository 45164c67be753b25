//! Matching speed; run with `cargo bench -p berth-event-pattern`.
//!
//! 1,000 rules of the kinds people write (source and detail-type literals, with numeric,
//! prefix, anything-but, exists and `$or` conditions on the detail) against 10,000 ECS task
//! state change events: events per second matched against every rule. Plain
//! `std::time::Instant`: numbers for closing notes, never for timed tests.

use berth_event_pattern::Pattern;
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;

fn rule(number: usize) -> Pattern {
    let family = format!("family:app-{}", number % 50);
    let text = match number % 5 {
        0 => json!({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                    "detail": {"lastStatus": ["STOPPED"], "group": [family],
                               "containers": {"exitCode": [{"anything-but": 0}]}}}),
        1 => json!({"source": ["aws.ecs"], "detail": {"group": [{"prefix": format!("family:app-{}", number % 7)}],
                    "cpu": [{"exists": true}]}}),
        2 => json!({"source": ["my.shop"], "detail": {"total": [{"numeric": [">", number as f64, "<=", 1000]}]}}),
        3 => json!({"detail-type": ["ECS Task State Change"],
                    "$or": [{"detail": {"desiredStatus": ["STOPPED"]}}, {"detail": {"stopCode": [{"wildcard": "*Exited"}]}}]}),
        _ => json!({"source": ["aws.ecs"], "detail": {"clusterArn": [{"suffix": format!("cluster/c{}", number % 10)}],
                    "lastStatus": [{"anything-but": ["PENDING", "PROVISIONING"]}]}}),
    };
    Pattern::parse(&text.to_string()).expect("the benchmark's patterns parse")
}

fn event(number: usize) -> Value {
    let last_status = ["RUNNING", "STOPPED", "PENDING"][number % 3];
    let desired_status = if number % 3 == 1 { "STOPPED" } else { "RUNNING" };
    json!({
        "version": "0", "id": format!("e-{number}"), "detail-type": "ECS Task State Change", "source": "aws.ecs",
        "account": "000000000000", "region": "us-east-1", "time": "2026-12-04T10:00:00Z",
        "resources": [format!("arn:aws:ecs:us-east-1:000000000000:task/c{}/{number:032x}", number % 10)],
        "detail": {
            "clusterArn": format!("arn:aws:ecs:us-east-1:000000000000:cluster/c{}", number % 10),
            "group": format!("family:app-{}", number % 60), "cpu": "256", "memory": "512",
            "lastStatus": last_status,
            "desiredStatus": desired_status,
            "stopCode": "EssentialContainerExited",
            "containers": [{"name": "app", "exitCode": number % 4, "lastStatus": "STOPPED"},
                           {"name": "sidecar", "exitCode": 0}],
        }
    })
}

fn main() {
    let rules: Vec<Pattern> = (0..1_000).map(rule).collect();
    let events: Vec<Value> = (0..10_000).map(event).collect();
    let started = Instant::now();
    let mut matched = 0usize;
    for event in &events {
        matched += rules.iter().filter(|rule| rule.matches(black_box(event))).count();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "event patterns: {} events × {} rules in {:.3} s: {:.0} events/s against every rule ({} matches)",
        events.len(),
        rules.len(),
        seconds,
        events.len() as f64 / seconds,
        matched
    );
}
