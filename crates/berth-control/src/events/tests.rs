use super::records::{PendingKind, TargetRecord};
use super::rules::NewRule;
use super::EventsErrorKind;
use crate::testing::{cluster_with_instance, control_plane, run_web};
use crate::ControlError;

fn events_error(error: ControlError) -> EventsErrorKind {
    match error {
        ControlError::Events(error) => error.kind,
        other => panic!("not an EventBridge error: {other}"),
    }
}

fn rule(name: &str, pattern: &str) -> NewRule {
    NewRule { name: name.to_string(), event_pattern: Some(pattern.to_string()), ..NewRule::default() }
}

fn target(id: &str) -> TargetRecord {
    TargetRecord {
        id: id.to_string(),
        arn: "arn:aws:ecs:us-east-1:000000000000:cluster/default".to_string(),
        body: serde_json::json!({"Id": id}),
    }
}

#[tokio::test]
async fn rules_keep_their_targets_and_refuse_what_eventbridge_refuses() {
    let control = control_plane();
    let arn = control.put_event_rule(rule("on-stop", r#"{"source": ["aws.ecs"]}"#)).await.unwrap();
    assert!(arn.ends_with(":rule/on-stop"), "{arn}");
    control.put_event_targets("on-stop".into(), None, vec![target("a"), target("b")]).await.unwrap();
    // An update keeps the targets.
    control.put_event_rule(rule("on-stop", r#"{"source": ["aws.ec2"]}"#)).await.unwrap();
    assert_eq!(control.list_targets_by_rule("on-stop", None).unwrap().len(), 2);
    assert_eq!(control.describe_event_rule("on-stop", None).unwrap().event_pattern, r#"{"source": ["aws.ec2"]}"#);

    let bad = control.put_event_rule(rule("bad", r#"{"source": "aws.ecs"}"#)).await.unwrap_err();
    assert_eq!(events_error(bad), EventsErrorKind::InvalidEventPattern);
    let bad_name = control.put_event_rule(rule("no spaces", r#"{"source": ["x"]}"#)).await.unwrap_err();
    assert_eq!(events_error(bad_name), EventsErrorKind::Validation);
    let other_bus = control.describe_event_rule("on-stop", Some("custom")).unwrap_err();
    assert_eq!(events_error(other_bus), EventsErrorKind::ResourceNotFound);
    let too_many = (0..5).map(|n| target(&format!("t{n}"))).collect();
    let refused = control.put_event_targets("on-stop".into(), None, too_many).await.unwrap_err();
    assert_eq!(events_error(refused), EventsErrorKind::LimitExceeded);
    assert_eq!(control.list_targets_by_rule("on-stop", None).unwrap().len(), 2, "a refused request changes nothing");

    let in_use = control.delete_event_rule("on-stop".into(), None).await.unwrap_err();
    assert_eq!(events_error(in_use), EventsErrorKind::Validation);
    control.remove_event_targets("on-stop".into(), None, vec!["a".into(), "b".into()]).await.unwrap();
    control.delete_event_rule("on-stop".into(), None).await.unwrap();
    control.delete_event_rule("on-stop".into(), None).await.unwrap();
    assert!(control.list_event_rules(None, None).unwrap().is_empty());
}

#[tokio::test]
async fn events_wait_in_the_outbox_only_while_a_rule_could_take_them() {
    let control = control_plane();
    let entry = || super::outbox::NewEvent {
        source: Some("my.app".into()),
        detail_type: Some("thing".into()),
        detail: Some(r#"{"n": 1}"#.into()),
        resources: Vec::new(),
        time: None,
    };
    let ids = control.put_events(vec![entry()]).await.unwrap();
    assert!(ids[0].is_ok());
    assert!(control.pending_events(10).is_empty(), "no rule: nothing to deliver");

    control.put_event_rule(rule("all", r#"{"source": ["my.app"]}"#)).await.unwrap();
    control.put_event_targets("all".into(), None, vec![target("a")]).await.unwrap();
    let bad = super::outbox::NewEvent { source: Some("aws.ecs".into()), ..entry() };
    let outcomes = control.put_events(vec![entry(), bad]).await.unwrap();
    assert!(outcomes[0].is_ok());
    assert_eq!(outcomes[1].as_ref().unwrap_err().0, "NotAuthorizedForSourceException");
    let pending = control.pending_events(10);
    assert_eq!(pending.len(), 1);
    assert!(matches!(pending[0].kind, PendingKind::Custom { .. }));
    control.finish_event(pending[0].id.clone()).await.unwrap();
    assert!(control.pending_events(10).is_empty());
}

#[tokio::test]
async fn a_task_changing_status_is_an_ecs_event_in_the_same_batch() {
    let control = control_plane();
    cluster_with_instance(&control, "c", 1024, 1024).await;
    let launched = control.launch_tasks(run_web("c", 1, None)).await.unwrap();
    assert!(control.pending_events(10).is_empty(), "no rule, no events kept");

    control.put_event_rule(rule("tasks", r#"{"source": ["aws.ecs"]}"#)).await.unwrap();
    control.put_event_targets("tasks".into(), None, vec![target("a")]).await.unwrap();
    let task = &launched.tasks[0];
    control.stop_task(&task.cluster, &task.id, Some("done".into())).await.unwrap();
    let pending = control.pending_events(10);
    assert_eq!(pending.len(), 1, "{pending:?}");
    let PendingKind::TaskStateChange(stopped) = &pending[0].kind else { panic!("{pending:?}") };
    assert_eq!(stopped.id, task.id);
    assert_eq!(stopped.desired_status, berth_types::DesiredStatus::Stopped);
}
