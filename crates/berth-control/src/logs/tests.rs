use super::events::{FilterRead, InputEvent, StreamRead};
use super::groups::{GroupFilter, NewLogGroup};
use super::streams::StreamOrder;
use super::LogsErrorKind;
use crate::testing::control_plane;
use crate::{ControlError, ControlPlane};
use berth_agent_protocol::logs::{LogBatch, LogLine, OpenLogStream};
use berth_types::Timestamp;

fn kind(error: ControlError) -> LogsErrorKind {
    match error {
        ControlError::Logs(error) => error.kind,
        other => panic!("not a logs error: {other:?}"),
    }
}

async fn group_with_stream(control: &ControlPlane, group: &str, stream: &str) {
    control.create_log_group(NewLogGroup { name: group.into(), ..NewLogGroup::default() }).await.unwrap();
    control.create_log_stream(group, stream).await.unwrap();
}

fn events(now: i64, messages: &[&str]) -> Vec<InputEvent> {
    messages
        .iter()
        .enumerate()
        .map(|(n, message)| InputEvent { timestamp: now + n as i64, message: message.to_string() })
        .collect()
}

#[tokio::test]
async fn groups_and_streams_have_cloudwatch_rules() {
    let control = control_plane();
    group_with_stream(&control, "/ecs/web", "a").await;
    let again = control.create_log_group(NewLogGroup { name: "/ecs/web".into(), ..NewLogGroup::default() }).await;
    assert_eq!(kind(again.unwrap_err()), LogsErrorKind::ResourceAlreadyExists);
    assert_eq!(
        kind(control.create_log_stream("/ecs/web", "a").await.unwrap_err()),
        LogsErrorKind::ResourceAlreadyExists
    );
    assert_eq!(kind(control.create_log_stream("/nope", "a").await.unwrap_err()), LogsErrorKind::ResourceNotFound);
    assert_eq!(
        kind(control.put_retention_policy("/ecs/web", Some(2)).await.unwrap_err()),
        LogsErrorKind::InvalidParameter
    );
    control.put_retention_policy("/ecs/web", Some(7)).await.unwrap();
    let groups =
        control.describe_log_groups(&GroupFilter { prefix: Some("/ecs".into()), ..GroupFilter::default() }).unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].record.retention_days, Some(7));
    assert_eq!(groups[0].arn, "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web");
    let protected = NewLogGroup { name: "kept".into(), deletion_protection: true, ..NewLogGroup::default() };
    control.create_log_group(protected).await.unwrap();
    assert_eq!(kind(control.delete_log_group("kept").await.unwrap_err()), LogsErrorKind::Validation);
    control.delete_log_group("/ecs/web").await.unwrap();
    assert!(control.describe_log_streams("/ecs/web", None, StreamOrder::Name, false).is_err());
}

#[tokio::test]
async fn events_page_forward_and_backward() {
    let control = control_plane();
    group_with_stream(&control, "g", "s").await;
    let now = Timestamp::now().0;
    let messages: Vec<String> = (0..25).map(|n| format!("line {n}")).collect();
    let borrowed: Vec<&str> = messages.iter().map(String::as_str).collect();
    control.put_log_events("g", "s", events(now, &borrowed)).await.unwrap();
    let read = |token: Option<String>, head: bool| StreamRead {
        group: "g".into(),
        stream: "s".into(),
        token,
        limit: Some(10),
        start_from_head: head,
        ..StreamRead::default()
    };
    let latest = control.get_log_events(read(None, false)).await.unwrap();
    assert_eq!(latest.events.first().unwrap().message, "line 15");
    assert_eq!(latest.events.last().unwrap().message, "line 24");
    let earlier = control.get_log_events(read(Some(latest.backward_token.clone()), false)).await.unwrap();
    assert_eq!(earlier.events.first().unwrap().message, "line 5");
    let head = control.get_log_events(read(None, true)).await.unwrap();
    assert_eq!(head.events[0].message, "line 0");
    // At the end the forward token comes back unchanged, and new events follow it.
    let end = control.get_log_events(read(Some(latest.forward_token.clone()), true)).await.unwrap();
    assert!(end.events.is_empty());
    assert_eq!(end.forward_token, latest.forward_token);
    control.put_log_events("g", "s", events(now + 100, &["late"])).await.unwrap();
    let followed = control.get_log_events(read(Some(end.forward_token), true)).await.unwrap();
    assert_eq!(followed.events.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["late"]);
    let streams = control.describe_log_streams("g", None, StreamOrder::LastEventTime, true).unwrap();
    assert_eq!(streams[0].stats.last_timestamp, Some(now + 100));
}

#[tokio::test]
async fn filters_take_patterns_and_page_across_streams() {
    let control = control_plane();
    group_with_stream(&control, "g", "one").await;
    control.create_log_stream("g", "two").await.unwrap();
    let now = Timestamp::now().0;
    control.put_log_events("g", "one", events(now, &["ERROR a", "ok b", r#"{"level":"error"}"#])).await.unwrap();
    control.put_log_events("g", "two", events(now, &["ERROR c", "WARN d"])).await.unwrap();
    let filter = |pattern: &str, token: Option<String>| FilterRead {
        group: "g".into(),
        pattern: Some(pattern.into()),
        token,
        limit: Some(1),
        ..FilterRead::default()
    };
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let page = control.filter_log_events(filter("?ERROR ?WARN", token)).await.unwrap();
        found.extend(page.events.into_iter().map(|event| (event.stream, event.event.message)));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let expected = [("one", "ERROR a"), ("two", "ERROR c"), ("two", "WARN d")];
    assert_eq!(found, expected.map(|(stream, message)| (stream.to_string(), message.to_string())));
    let json = control
        .filter_log_events(FilterRead { limit: None, ..filter(r#"{ $.level = "error" }"#, None) })
        .await
        .unwrap();
    assert_eq!(json.events.len(), 1);
    let bad = control.filter_log_events(filter("{ $.level = ", None)).await.unwrap_err();
    assert_eq!(kind(bad), LogsErrorKind::InvalidParameter);
}

#[tokio::test]
async fn agent_batches_are_stored_once_and_groups_made_only_when_asked() {
    let control = control_plane();
    let open =
        |create_group| OpenLogStream { log_group: "/ecs/app".into(), log_stream: "ecs/web/1".into(), create_group };
    assert_eq!(kind(control.open_agent_log_stream(open(false)).await.unwrap_err()), LogsErrorKind::ResourceNotFound);
    assert_eq!(control.open_agent_log_stream(open(true)).await.unwrap().position_ns, None);
    let base = Timestamp::now().0 * 1_000_000;
    let batch = |lines: std::ops::Range<i64>| LogBatch {
        log_group: "/ecs/app".into(),
        log_stream: "ecs/web/1".into(),
        lines: lines.map(|n| LogLine { source_ns: base + n, message: format!("line {n}") }).collect(),
        gap_before: None,
    };
    assert_eq!(control.ship_agent_logs(batch(0..3)).await.unwrap().position_ns, Some(base + 2));
    // The agent died before it heard the answer and resumes with more.
    control.ship_agent_logs(batch(0..5)).await.unwrap();
    assert_eq!(control.open_agent_log_stream(open(false)).await.unwrap().position_ns, Some(base + 4));
    let read = StreamRead {
        group: "/ecs/app".into(),
        stream: "ecs/web/1".into(),
        start_from_head: true,
        ..StreamRead::default()
    };
    let page = control.get_log_events(read).await.unwrap();
    let messages: Vec<&str> = page.events.iter().map(|event| event.message.as_str()).collect();
    assert_eq!(messages, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
}

#[tokio::test]
async fn retention_expires_old_events() {
    let config =
        crate::ControlConfig { log_day: std::time::Duration::from_millis(1_000), ..crate::ControlConfig::default() };
    let control = ControlPlane::open(config, std::sync::Arc::new(berth_store::MemoryStore::default())).unwrap();
    group_with_stream(&control, "g", "s").await;
    let now = Timestamp::now().0;
    control.put_log_events("g", "s", events(now - 3_000, &["old"])).await.unwrap();
    control.put_log_events("g", "s", events(now, &["new"])).await.unwrap();
    control.put_retention_policy("g", Some(1)).await.unwrap();
    assert_eq!(control.log_retention_pass(Timestamp(now)).await.unwrap(), 1);
    let read = StreamRead { group: "g".into(), stream: "s".into(), start_from_head: true, ..StreamRead::default() };
    let page = control.get_log_events(read).await.unwrap();
    assert_eq!(page.events.iter().map(|event| event.message.as_str()).collect::<Vec<_>>(), ["new"]);
}
