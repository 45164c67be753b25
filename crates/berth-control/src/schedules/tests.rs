use super::actions::{ScheduleFilter, ScheduleInput};
use super::firing::{run_schedule_firing, RunAnswer, RunRefusal, ScheduledRun, ScheduledRunTask};
use super::records::{AfterCompletion, FiringOutcome, ScheduleRecord, ScheduleState};
use super::SchedulerErrorKind;
use crate::testing::control_plane;
use crate::{ControlConfig, ControlError, ControlPlane};
use berth_store::MemoryStore;
use berth_types::Timestamp;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn kind(error: ControlError) -> SchedulerErrorKind {
    match error {
        ControlError::Scheduler(error) => error.kind,
        other => panic!("not a Scheduler error: {other:?}"),
    }
}

fn input(name: &str, expression: &str) -> ScheduleInput {
    ScheduleInput {
        group: None,
        name: name.into(),
        expression: expression.into(),
        timezone: None,
        start_ms: None,
        end_ms: None,
        description: None,
        state: None,
        kms_key_arn: None,
        flexible_window_minutes: None,
        after_completion: None,
        cluster_arn: "arn:aws:ecs:us-east-1:000000000000:cluster/default".into(),
        retry: None,
        target_document: serde_json::json!({"Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/default"}),
        client_token: None,
    }
}

/// RunTask as far as a schedule can tell: each new client token starts one task, a repeated
/// token answers the same task.
#[derive(Default)]
struct RecordingRunTask {
    tokens: Mutex<HashMap<String, String>>,
    calls: Mutex<Vec<ScheduledRun>>,
}

#[async_trait::async_trait]
impl ScheduledRunTask for RecordingRunTask {
    async fn run_task(&self, run: ScheduledRun) -> Result<RunAnswer, RunRefusal> {
        self.calls.lock().push(run.clone());
        let mut tokens = self.tokens.lock();
        let count = tokens.len();
        let arn = tokens.entry(run.client_token).or_insert_with(|| format!("task-{count}")).clone();
        Ok(RunAnswer { task_arns: vec![arn], failures: vec![] })
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn schedules_are_created_read_replaced_listed_and_deleted() {
    let control = control_plane();
    let arn = control.create_schedule(input("nightly", "cron(0 2 * * ? *)")).await.unwrap();
    assert_eq!(arn, "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly");
    let view = control.get_schedule(None, "nightly").unwrap();
    assert_eq!(view.record.config.timezone, "UTC");
    assert_eq!(view.record.config.state, ScheduleState::Enabled);
    assert!(view.next.is_some());

    let conflict = control.create_schedule(input("nightly", "rate(5 minutes)")).await.unwrap_err();
    assert_eq!(kind(conflict), SchedulerErrorKind::Conflict);

    let mut replacement = input("nightly", "rate(5 minutes)");
    replacement.state = Some(ScheduleState::Disabled);
    replacement.description = Some("every five".into());
    control.update_schedule(replacement).await.unwrap();
    let view = control.get_schedule(None, "nightly").unwrap();
    assert_eq!(view.record.config.expression, "rate(5 minutes)");
    assert_eq!(view.record.config.state, ScheduleState::Disabled);
    assert!(view.next.is_none(), "a disabled schedule does not fire");

    control.create_schedule(input("hourly", "rate(1 hour)")).await.unwrap();
    let (page, token) = control.list_schedules(&ScheduleFilter::default(), None, 1).unwrap();
    assert_eq!(page[0].record.name, "hourly");
    let (page, token) = control.list_schedules(&ScheduleFilter::default(), token.as_deref(), 1).unwrap();
    assert_eq!((page[0].record.name.as_str(), token), ("nightly", None));
    let enabled = ScheduleFilter { state: Some(ScheduleState::Enabled), ..ScheduleFilter::default() };
    assert_eq!(control.list_schedules(&enabled, None, 100).unwrap().0.len(), 1);
    let prefixed = ScheduleFilter { name_prefix: Some("night".into()), ..ScheduleFilter::default() };
    assert_eq!(control.list_schedules(&prefixed, None, 100).unwrap().0[0].record.name, "nightly");

    control.delete_schedule(None, "nightly").await.unwrap();
    assert_eq!(kind(control.get_schedule(None, "nightly").unwrap_err()), SchedulerErrorKind::ResourceNotFound);
    assert_eq!(kind(control.delete_schedule(None, "nightly").await.unwrap_err()), SchedulerErrorKind::ResourceNotFound);
    let missing = control.update_schedule(input("nightly", "rate(5 minutes)")).await.unwrap_err();
    assert_eq!(kind(missing), SchedulerErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn bad_input_names_the_problem_and_changes_nothing() {
    let control = control_plane();
    let cases: Vec<(ScheduleInput, &str)> = vec![
        (input("bad name!", "rate(1 minute)"), "name"),
        (input("a", "rate(1 minutes)"), "Invalid Schedule Expression"),
        (input("b", "cron(0 12 * * * *)"), "Invalid Schedule Expression"),
        (
            ScheduleInput { timezone: Some("Mars/Base".into()), ..input("c", "rate(1 minute)") },
            "ScheduleExpressionTimezone",
        ),
        (
            ScheduleInput { flexible_window_minutes: Some(None), ..input("d", "rate(1 minute)") },
            "MaximumWindowInMinutes",
        ),
        (
            ScheduleInput { flexible_window_minutes: Some(Some(5000)), ..input("e", "rate(1 minute)") },
            "maximumWindowInMinutes",
        ),
        (ScheduleInput { start_ms: Some(1_000), ..input("f", "rate(1 minute)") }, "StartDate"),
        (
            ScheduleInput {
                start_ms: Some(Timestamp::now().0 + 7_200_000),
                end_ms: Some(Timestamp::now().0 + 3_600_000),
                ..input("g", "rate(1 minute)")
            },
            "EndDate",
        ),
        (ScheduleInput { description: Some("x".repeat(513)), ..input("h", "rate(1 minute)") }, "Description"),
    ];
    for (case, field) in cases {
        let name = case.name.clone();
        let error = control.create_schedule(case).await.unwrap_err();
        let message = error.to_string();
        assert_eq!(kind(error), SchedulerErrorKind::Validation, "{name}");
        assert!(message.contains(field), "{name}: {message}");
    }
    let in_missing_group = ScheduleInput { group: Some("nope".into()), ..input("x", "rate(1 minute)") };
    assert_eq!(
        kind(control.create_schedule(in_missing_group).await.unwrap_err()),
        SchedulerErrorKind::ResourceNotFound
    );
    assert!(control.list_schedules(&ScheduleFilter::default(), None, 100).unwrap().0.is_empty());
}

#[tokio::test]
async fn a_repeated_client_token_answers_the_same_schedule() {
    let control = control_plane();
    let first = ScheduleInput { client_token: Some("token-1".into()), ..input("once", "rate(1 hour)") };
    let arn = control.create_schedule(first.clone()).await.unwrap();
    assert_eq!(control.create_schedule(first).await.unwrap(), arn);
    let other = ScheduleInput { client_token: Some("token-2".into()), ..input("once", "rate(1 hour)") };
    assert_eq!(kind(control.create_schedule(other).await.unwrap_err()), SchedulerErrorKind::Conflict);
}

#[tokio::test]
async fn groups_hold_their_schedules_and_tags() {
    let control = control_plane();
    assert_eq!(control.get_schedule_group("default").unwrap().name, "default");
    let arn = control.create_schedule_group("jobs".into(), vec![("team".into(), "infra".into())], None).await.unwrap();
    assert_eq!(arn, "arn:aws:scheduler:us-east-1:000000000000:schedule-group/jobs");
    let conflict = control.create_schedule_group("jobs".into(), vec![], None).await.unwrap_err();
    assert_eq!(kind(conflict), SchedulerErrorKind::Conflict);
    let (groups, _) = control.list_schedule_groups(None, None, 100).unwrap();
    assert_eq!(groups.iter().map(|group| group.name.as_str()).collect::<Vec<_>>(), ["default", "jobs"]);

    control.tag_schedule_group(&arn, vec![("env".into(), "prod".into())], vec!["team".into()]).await.unwrap();
    assert_eq!(control.list_schedule_group_tags(&arn).unwrap(), [("env".to_string(), "prod".to_string())]);
    let not_a_group = control.list_schedule_group_tags("arn:aws:ecs:us-east-1:000000000000:cluster/x").unwrap_err();
    assert_eq!(kind(not_a_group), SchedulerErrorKind::Validation);

    control.create_schedule(ScheduleInput { group: Some("jobs".into()), ..input("a", "rate(1 hour)") }).await.unwrap();
    control.create_schedule(ScheduleInput { group: Some("jobs".into()), ..input("b", "rate(1 hour)") }).await.unwrap();
    control.create_schedule(input("a", "rate(1 hour)")).await.unwrap();
    control.delete_schedule_group("jobs").await.unwrap();
    let left = control.list_schedules(&ScheduleFilter::default(), None, 100).unwrap().0;
    assert_eq!(left.len(), 1, "the group's schedules went with it; default's stayed");
    assert_eq!(kind(control.delete_schedule_group("default").await.unwrap_err()), SchedulerErrorKind::Validation);
    assert_eq!(kind(control.get_schedule_group("jobs").unwrap_err()), SchedulerErrorKind::ResourceNotFound);
}

#[tokio::test]
async fn a_rate_schedule_fires_at_once_then_every_interval_with_one_token_per_fire_time() {
    let control = control_plane();
    control.create_schedule(input("minutely", "rate(1 minute)")).await.unwrap();
    let created = control.get_schedule(None, "minutely").unwrap().record;
    let first = control.schedule_next_firing("default", "minutely").unwrap();
    assert_eq!(first.nominal_ms, created.modified_ms, "without a StartDate a rate starts at once");
    let launcher = Arc::new(RecordingRunTask::default());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&control), launcher.clone()));
    wait_for("the firing record", || {
        control.read().schedules.firings.get("default/minutely").is_some_and(|record| record.fired == 1)
    })
    .await;
    firing.abort();
    let calls = launcher.calls.lock().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].client_token, format!("sched-{}-{}", created.id, first.nominal_ms));
    assert_eq!(calls[0].started_by, "chronos-schedule/minutely");
    let next = control.schedule_next_firing("default", "minutely").unwrap();
    assert_eq!(next.nominal_ms, first.nominal_ms + 60_000);
}

#[tokio::test]
async fn a_restarted_server_repeats_an_unrecorded_firing_with_the_same_token() {
    let store = Arc::new(MemoryStore::default());
    let before = ControlPlane::open(ControlConfig::default(), store.clone()).unwrap();
    before.create_schedule(input("minutely", "rate(1 minute)")).await.unwrap();
    let due = before.schedule_next_firing("default", "minutely").unwrap();
    let record = before.get_schedule(None, "minutely").unwrap().record;
    drop(before);
    // The server died after RunTask and before the firing record: the same firing is due again.
    let after = ControlPlane::open(ControlConfig::default(), store).unwrap();
    assert_eq!(after.schedule_next_firing("default", "minutely"), Some(due));
    assert_eq!(after.get_schedule(None, "minutely").unwrap().record.id, record.id);
    let launcher = Arc::new(RecordingRunTask::default());
    launcher
        .tokens
        .lock()
        .insert(format!("sched-{}-{}", record.id, due.nominal_ms), "task-started-before-the-crash".into());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&after), launcher.clone()));
    wait_for("the firing record", || after.read().schedules.firings.contains_key("default/minutely")).await;
    firing.abort();
    let firing = after.read().schedules.firings["default/minutely"].clone();
    assert_eq!(
        firing.outcome,
        FiringOutcome::Ran { task_arns: vec!["task-started-before-the-crash".into()], failures: vec![] }
    );
}

#[tokio::test]
async fn a_one_time_schedule_fires_once_and_deletes_itself_when_asked() {
    let control = control_plane();
    let soon = jiff::Timestamp::from_millisecond(Timestamp::now().0 - 5_000).unwrap();
    let at = format!("at({})", soon.strftime("%Y-%m-%dT%H:%M:%S"));
    let once = ScheduleInput { after_completion: Some(AfterCompletion::Delete), ..input("once", &at) };
    control.create_schedule(once).await.unwrap();
    let kept = input("kept", &at);
    control.create_schedule(kept).await.unwrap();
    let launcher = Arc::new(RecordingRunTask::default());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&control), launcher.clone()));
    wait_for("both firings", || launcher.calls.lock().len() == 2 && control.get_schedule(None, "once").is_err()).await;
    wait_for("the kept one's record", || control.read().schedules.firings.contains_key("default/kept")).await;
    firing.abort();
    assert!(control.get_schedule(None, "kept").unwrap().next.is_none(), "a one-time schedule fires once");
}

fn at_ago(millis: i64) -> String {
    let when = jiff::Timestamp::from_millisecond(Timestamp::now().0 - millis).unwrap();
    format!("at({})", when.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[tokio::test]
async fn a_firing_past_its_window_is_recorded_as_missed_and_skipped() {
    let control = control_plane();
    control.create_schedule(input("late", &at_ago(10 * 60_000))).await.unwrap();
    // Without a flexible window a firing may still run within the minute of its time.
    control.create_schedule(input("recent", &at_ago(20_000))).await.unwrap();
    let launcher = Arc::new(RecordingRunTask::default());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&control), launcher.clone()));
    wait_for("both records", || {
        let state = control.read();
        state.schedules.firings.contains_key("default/late") && state.schedules.firings.contains_key("default/recent")
    })
    .await;
    firing.abort();
    let state = control.read();
    assert_eq!(state.schedules.firings["default/late"].outcome, FiringOutcome::Missed);
    assert_eq!(state.schedules.firings["default/late"].missed, 1);
    assert!(matches!(state.schedules.firings["default/recent"].outcome, FiringOutcome::Ran { .. }));
    assert_eq!(launcher.calls.lock().len(), 1);
}

#[tokio::test]
async fn a_flexible_window_spreads_firings_inside_it_and_keeps_them_late_enough() {
    let control = control_plane();
    let flexible = ScheduleInput { flexible_window_minutes: Some(Some(15)), ..input("flexible", "rate(1 hour)") };
    control.create_schedule(flexible).await.unwrap();
    let due = control.schedule_next_firing("default", "flexible").unwrap();
    assert!((due.nominal_ms..due.nominal_ms + 15 * 60_000).contains(&due.due_ms), "{due:?}");
    assert_eq!(control.schedule_next_firing("default", "flexible"), Some(due), "the offset is stable");
}

/// RunTask refuses the first attempt of every firing, then runs it.
#[derive(Default)]
struct FlakyRunTask {
    attempts: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl ScheduledRunTask for FlakyRunTask {
    async fn run_task(&self, run: ScheduledRun) -> Result<RunAnswer, RunRefusal> {
        let mut attempts = self.attempts.lock();
        attempts.push(run.client_token.clone());
        if attempts.iter().filter(|token| **token == run.client_token).count() == 1 {
            return Err(RunRefusal::Retry("No Container Instances were found in your cluster.".into()));
        }
        Ok(RunAnswer { task_arns: vec!["task".into()], failures: vec![] })
    }
}

#[tokio::test]
async fn a_refused_run_task_is_retried_with_the_same_token() {
    let control = control_plane();
    control.create_schedule(input("hourly", "rate(1 hour)")).await.unwrap();
    let launcher = Arc::new(FlakyRunTask::default());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&control), launcher.clone()));
    wait_for("the retried firing's record", || control.read().schedules.firings.contains_key("default/hourly")).await;
    firing.abort();
    let attempts = launcher.attempts.lock().clone();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0], attempts[1], "a retry is the same firing");
    let record = control.read().schedules.firings["default/hourly"].clone();
    assert_eq!((record.fired, record.failed), (1, 0));
}

#[tokio::test]
async fn a_retry_policy_of_no_retries_records_the_failure_and_moves_on() {
    let control = control_plane();
    let retry = super::records::RetryPolicy { maximum_event_age_seconds: 60, maximum_retry_attempts: 0 };
    control.create_schedule(ScheduleInput { retry: Some(retry), ..input("hourly", "rate(1 hour)") }).await.unwrap();
    let before = control.schedule_next_firing("default", "hourly").unwrap();
    let launcher = Arc::new(FlakyRunTask::default());
    let firing = tokio::spawn(run_schedule_firing(Arc::clone(&control), launcher.clone()));
    wait_for("the failed firing's record", || control.read().schedules.firings.contains_key("default/hourly")).await;
    firing.abort();
    let record = control.read().schedules.firings["default/hourly"].clone();
    assert!(matches!(record.outcome, FiringOutcome::Failed { .. }), "{record:?}");
    assert_eq!(launcher.attempts.lock().len(), 1);
    assert_eq!(control.schedule_next_firing("default", "hourly").unwrap().nominal_ms, before.nominal_ms + 3_600_000);
}

#[test]
fn schedule_keys_keep_a_group_together() {
    assert_eq!(ScheduleRecord::key("jobs", "a"), "jobs/a");
}
