//! The shipper over the fake runtime and the in-memory sink: what reaches the sink, in which
//! order and how often, across failures, broken streams and restarts.

use crate::container_config::{container_name, create_request, Ownership};
use crate::fake::{Call, FakeRuntime};
use crate::log_shipper::memory_sink::GROUP_MISSING;
use crate::log_shipper::{job_for, LogShippers, MemoryLogSink, ShipperJob, ShipperOutcome};
use crate::runtime::{ContainerRuntime, OutputStream};
use crate::test_support::{container, task_spec};
use berth_types::spec::LogConfigurationSpec;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
const GROUP: &str = "/ecs/web";
const STREAM: &str = "web/app/0123456789abcdef0123456789abcdef";

fn awslogs(pairs: &[(&str, &str)]) -> LogConfigurationSpec {
    let mut options: BTreeMap<String, String> =
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    options.entry("awslogs-group".into()).or_insert_with(|| GROUP.into());
    LogConfigurationSpec { driver: "awslogs".into(), options }
}

/// A running fake container `app` logging with `options`; its Docker ID and shipper job.
async fn running_app(runtime: &FakeRuntime, options: &[(&str, &str)]) -> (String, ShipperJob) {
    runtime.add_image("berth-test/busybox:latest");
    let mut app = container("app");
    app.log_configuration = Some(awslogs(options));
    let spec = task_spec(vec![app]);
    let owner = Ownership { cluster: "default".into(), instance: "i-0000000000000000a".into() };
    let request = create_request(&owner, ARN, &spec, &spec.containers[0]).unwrap();
    let id = runtime.create_container(&request).await.unwrap();
    runtime.start_container(&id).await.unwrap();
    let job = job_for(ARN, &spec.containers[0], &id).unwrap().unwrap();
    (id, job)
}

fn app() -> String {
    container_name(ARN, "app")
}

fn new_sink() -> Arc<MemoryLogSink> {
    let sink = Arc::new(MemoryLogSink::new());
    sink.create_group(GROUP);
    sink
}

/// Polls `check` until it holds (bounded, so that a broken shipper fails the test).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|index| format!("line {index}")).collect()
}

#[tokio::test]
async fn lines_arrive_in_order_once_and_the_shipper_ends_with_the_container() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let (_, job) = running_app(&runtime, &[("awslogs-stream-prefix", "web")]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    assert!(shippers.ensure(job.clone()));
    assert!(!shippers.ensure(job.clone()), "one shipper per container");
    let expected = numbered(0..3000);
    for (index, line) in expected.iter().enumerate() {
        let stream = if index % 3 == 0 { OutputStream::Stderr } else { OutputStream::Stdout };
        runtime.push_log(&app(), stream, line);
    }
    // Shipped while the container still runs.
    eventually("every line is stored", || sink.messages(GROUP, STREAM).len() == expected.len()).await;
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&job.container_id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, STREAM), expected);
    let lines = sink.lines(GROUP, STREAM);
    assert!(lines.windows(2).all(|pair| pair[0].source_ns < pair[1].source_ns));
    assert_eq!(shippers.len(), 1);
}

#[tokio::test]
async fn a_restarted_agent_resumes_at_the_servers_position() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let (id, job) = running_app(&runtime, &[("awslogs-stream-prefix", "web")]).await;
    let first = LogShippers::new(runtime.clone(), sink.clone());
    first.ensure(job.clone());
    for line in numbered(0..10) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    eventually("the first lines are stored", || sink.messages(GROUP, STREAM).len() == 10).await;
    let position = sink.position(GROUP, STREAM);
    // The agent dies; the container prints on (within the same second as before, which
    // Docker's `since` cannot tell apart).
    drop(first);
    for line in numbered(10..20) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    runtime.exit(&app(), 0);
    let second = LogShippers::new(runtime.clone(), sink.clone());
    second.ensure(job.clone());
    assert_eq!(second.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, STREAM), numbered(0..20));
    assert!(runtime.calls().contains(&Call::Logs(id, position)), "resumed from the position: {:?}", runtime.calls());
}

#[tokio::test]
async fn failed_and_unanswered_batches_are_retried_and_stored_once() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    sink.fail_next_opens(2);
    sink.fail_next_ships(2);
    sink.lose_next_answers(2);
    let (id, job) = running_app(&runtime, &[("awslogs-stream-prefix", "web")]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    for line in numbered(0..5) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    eventually("a batch went out", || sink.ship_attempts() > 0).await;
    for line in numbered(5..10) {
        runtime.push_log(&app(), OutputStream::Stderr, &line);
    }
    runtime.exit(&app(), 1);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, STREAM), numbered(0..10));
    assert!(sink.ship_attempts() >= 5, "{} attempts", sink.ship_attempts());
}

/// A running app without a stream prefix whose shipper stored its first five lines.
async fn shipping_five_lines() -> (Arc<FakeRuntime>, Arc<MemoryLogSink>, String, LogShippers) {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let (id, job) = running_app(&runtime, &[]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    for line in numbered(0..5) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    // Without a prefix the stream is named after the container ID.
    eventually("the first lines are stored", || sink.messages(GROUP, &id).len() == 5).await;
    (runtime, sink, id, shippers)
}

#[tokio::test]
async fn a_broken_docker_stream_is_reopened_after_the_last_line_read() {
    let (runtime, sink, id, shippers) = shipping_five_lines().await;
    runtime.break_log_streams();
    for line in numbered(5..10) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    eventually("the later lines are stored", || sink.messages(GROUP, &id).len() == 10).await;
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, &id), numbered(0..10));
    assert_eq!(sink.stream_names(GROUP), [id]);
}

#[tokio::test]
async fn a_stream_that_ends_early_at_exit_is_read_again_until_nothing_is_new() {
    let (runtime, sink, id, shippers) = shipping_five_lines().await;
    // A burst the shipper has not read when the container exits, and a follow that ends there.
    runtime.end_log_streams_early(1);
    for line in numbered(5..3000) {
        runtime.push_log(&app(), OutputStream::Stdout, &line);
    }
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    let messages = sink.messages(GROUP, &id);
    assert_eq!(messages.len(), 3000, "lines lost when the follow ended early");
    assert_eq!(messages, numbered(0..3000));
    let reads = runtime.calls().iter().filter(|call| matches!(call, Call::Logs(..))).count();
    // The follow, the read that brought the rest, and the read that found nothing new.
    assert_eq!(reads, 3, "{:?}", runtime.calls());
}

#[tokio::test]
async fn a_multiline_pattern_groups_lines_and_a_quiet_event_is_flushed() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let (id, job) = running_app(&runtime, &[("awslogs-multiline-pattern", "ERROR|INFO")]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    for line in ["ERROR boom", "  at a()", "  at b()"] {
        runtime.push_log(&app(), OutputStream::Stderr, line);
    }
    // No new line comes: the event goes out on its own while the container runs.
    eventually("the quiet event is stored", || !sink.messages(GROUP, &id).is_empty()).await;
    assert_eq!(sink.messages(GROUP, &id), ["ERROR boom\n  at a()\n  at b()"]);
    for line in ["INFO one", "INFO two", "  more"] {
        runtime.push_log(&app(), OutputStream::Stdout, line);
    }
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, &id), ["ERROR boom\n  at a()\n  at b()", "INFO one", "INFO two\n  more"]);
}

#[tokio::test]
async fn a_datetime_format_groups_lines_and_wins_over_a_multiline_pattern() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let options = [("awslogs-datetime-format", r"\[%b %d, %Y %H:%M:%S\]"), ("awslogs-multiline-pattern", "  ")];
    let (id, job) = running_app(&runtime, &options).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    for line in [
        "[May 01, 2017 19:00:01] A message was logged",
        "  with a second line",
        "[May 01, 2017 19:00:04] Another multi-line message was logged",
        "  Line one",
        "  Line two",
        "[May 01, 2017 19:01:95] Not a timestamp",
    ] {
        runtime.push_log(&app(), OutputStream::Stdout, line);
    }
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(
        sink.messages(GROUP, &id),
        [
            "[May 01, 2017 19:00:01] A message was logged\n  with a second line",
            "[May 01, 2017 19:00:04] Another multi-line message was logged\n  Line one\n  Line two\n[May 01, 2017 19:01:95] Not a timestamp",
        ]
    );
}

#[tokio::test]
async fn a_missing_group_is_refused_unless_it_may_be_created() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = Arc::new(MemoryLogSink::new());
    let (id, job) = running_app(&runtime, &[("awslogs-stream-prefix", "web")]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Refused(GROUP_MISSING.to_string())));

    let runtime = Arc::new(FakeRuntime::new());
    let (id, job) = running_app(&runtime, &[("awslogs-stream-prefix", "web"), ("awslogs-create-group", "true")]).await;
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    runtime.push_log(&app(), OutputStream::Stdout, "hello");
    runtime.exit(&app(), 0);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    assert_eq!(sink.messages(GROUP, STREAM), ["hello"]);
}

#[tokio::test]
async fn a_flood_goes_out_in_full_batches_in_order() {
    let runtime = Arc::new(FakeRuntime::new());
    let sink = new_sink();
    let (id, job) = running_app(&runtime, &[]).await;
    let count = 100_000;
    let line = "x".repeat(90);
    for index in 0..count {
        runtime.push_log(&app(), OutputStream::Stdout, &format!("{index:08} {line}"));
    }
    runtime.exit(&app(), 0);
    let shippers = LogShippers::new(runtime.clone(), sink.clone());
    shippers.ensure(job);
    assert_eq!(shippers.finished(&id).await, Some(ShipperOutcome::Finished));
    let messages = sink.messages(GROUP, &id);
    assert_eq!(messages.len(), count);
    assert!(messages.iter().enumerate().all(|(index, message)| message.starts_with(&format!("{index:08} "))));
    let batches = sink.batch_sizes();
    assert!(batches.iter().all(|size| *size <= 10_000), "{batches:?}");
    // 1 MiB holds 8,388 of these lines: a backlog goes out in batches that size, not line by line.
    assert!(batches.len() <= 2 * count / 8388, "a backlog ships in full batches: {batches:?}");
}
