use super::*;
use berth_agent_protocol::logs::LogLine;
use berth_types::TaskStatus;

/// The server's strict text-format reader, shared rather than copied.
#[path = "../../../berth-api/src/metrics/text_format.rs"]
mod text_format;

use crate::test_support::report;

#[test]
fn the_agent_registry_renders_as_prometheus_text() {
    let metrics = AgentMetrics::default();
    let reporter = Arc::new(Reporter::new());
    reporter.submit(report("arn:a", TaskStatus::Running));
    reporter.submit(report("arn:b", TaskStatus::Running));
    reporter.submit(report("arn:c", TaskStatus::Stopped));
    metrics.report_sent(true);
    metrics.report_sent(false);
    metrics.desired_polled(true);
    let newest_ns = (berth_types::Timestamp::now().0 - 2_000) * 1_000_000;
    metrics.logs_shipped(&LogBatch {
        log_group: "g".into(),
        log_stream: "s".into(),
        lines: vec![
            LogLine { source_ns: newest_ns - 5, message: "hello".into() },
            LogLine { source_ns: newest_ns, message: "world!".into() },
        ],
        gap_before: None,
    });

    let text = render(&metrics.registry(reporter));
    let exposition = text_format::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    assert_eq!(exposition.value("berth_agent_tasks", &[("status", "RUNNING")]), Some(2.0));
    assert_eq!(exposition.value("berth_agent_tasks", &[("status", "STOPPED")]), Some(1.0));
    assert_eq!(exposition.value("berth_agent_reports_total", &[("outcome", "ok")]), Some(1.0));
    assert_eq!(exposition.value("berth_agent_reports_total", &[("outcome", "error")]), Some(1.0));
    assert_eq!(exposition.value("berth_agent_desired_polls_total", &[("outcome", "ok")]), Some(1.0));
    assert_eq!(exposition.value("berth_agent_log_lines_shipped_total", &[]), Some(2.0));
    assert_eq!(exposition.value("berth_agent_log_bytes_shipped_total", &[]), Some(11.0));
    let lag = exposition.value("berth_agent_log_shipping_lag_seconds", &[]).unwrap();
    assert!((2.0..60.0).contains(&lag), "the newest line was 2 s old, the lag says {lag}");
    let shipped = exposition.value("berth_agent_log_last_shipped_timestamp_seconds", &[]).unwrap();
    assert!((shipped - newest_ns as f64 / 1e9).abs() < 1e-3);
}

#[tokio::test]
async fn the_endpoint_serves_text_and_keeps_its_port() {
    let directory = tempfile::tempdir().unwrap();
    let data = DataDir::open(directory.path()).unwrap();
    let registry = || AgentMetrics::default().registry(Arc::new(Reporter::new()));
    let listen = crate::config::AgentConfig::DEFAULT_METRICS_LISTEN;
    let first = start(listen, &data, registry()).await.unwrap();
    assert_eq!(data.load_metrics_port().unwrap(), Some(first.address.port()));
    let response = reqwest::get(format!("http://{}/metrics", first.address)).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    text_format::parse(&response.text().await.unwrap()).unwrap();
    let port = first.address.port();
    first.stop().await;
    // A restarted agent comes back on the same port.
    let second = start(listen, &data, registry()).await.unwrap();
    assert_eq!(second.address.port(), port);
    second.stop().await;
}
