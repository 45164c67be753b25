//! The firing loop: each enabled schedule's next fire time comes off the due index
//! (`SchedulesState::due_now`), and at that time the schedule's target runs through
//! [`ScheduledRunTask`] with a client token of the schedule's id and the nominal fire time; the
//! firing record moves on once RunTask answered (or the retry policy gave up, or the firing's
//! window had passed while the server was down).
//!
//! Why this is exactly once: RunTask commits its tasks and the token's record in one durable
//! write, so a firing that is repeated — the server died after RunTask and before the firing
//! record — gets the same tasks back instead of new ones. A firing is repeated only while it is
//! inside its window (the flexible window, or the minute AWS's precision allows for OFF);
//! past it, it is logged and recorded as missed.

use super::records::{AfterCompletion, FiringOutcome, FiringRecord, ScheduleRecord};
use super::{timing_of, DueFiring, ScheduleChange};
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How late a firing of a schedule without a flexible window may still run: AWS invokes
/// within the minute of the fire time.
pub const OFF_WINDOW_MS: i64 = 60_000;
/// Firings whose RunTask is under way at once; more wait for a turn.
const CONCURRENT_FIRINGS: usize = 256;
/// The loop looks at the index at least this often (a change also wakes it).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// One firing's RunTask, as the edge makes it from the schedule's target.
#[derive(Debug, Clone)]
pub struct ScheduledRun {
    pub schedule_arn: String,
    pub cluster_arn: String,
    /// The target's wire document (`Target`), as CreateSchedule or UpdateSchedule gave it.
    pub target_document: serde_json::Value,
    pub client_token: String,
    pub started_by: String,
}

/// What RunTask answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAnswer {
    pub task_arns: Vec<String>,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRefusal {
    /// Worth another attempt within the retry policy (no capacity, a bad task definition
    /// that may be registered meanwhile, a storage failure).
    Retry(String),
    /// The token was used for a different request: the schedule changed after this fire
    /// time's RunTask ran, so it has run and must not run again.
    AlreadyRan(String),
}

/// Runs a firing's tasks; `berth-api` implements it with its RunTask operation.
#[async_trait::async_trait]
pub trait ScheduledRunTask: Send + Sync {
    async fn run_task(&self, run: ScheduledRun) -> Result<RunAnswer, RunRefusal>;
}

/// The client token of one firing: the same for every attempt of it, before or after a crash.
pub fn client_token(schedule: &ScheduleRecord, nominal_ms: i64) -> String {
    format!("sched-{}-{nominal_ms}", schedule.id)
}

/// The `startedBy` of a schedule's tasks (EventBridge Scheduler's own are `chronos-…`).
pub fn started_by(schedule: &ScheduleRecord) -> String {
    format!("chronos-schedule/{}", schedule.name)
}

/// The last moment a firing may still run.
fn window_end(schedule: &ScheduleRecord, firing: DueFiring) -> i64 {
    let flexible = schedule.config.flexible_window_minutes.map(|minutes| i64::from(minutes) * 60_000).unwrap_or(0);
    firing.nominal_ms + flexible.max(OFF_WINDOW_MS)
}

/// Fires schedules as they come due, forever.
pub async fn run_schedule_firing(control: Arc<ControlPlane>, launcher: Arc<dyn ScheduledRunTask>) {
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let turns = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_FIRINGS));
    loop {
        let now = Timestamp::now().0;
        let (due, next_due) = {
            let busy = in_flight.lock();
            control.read().schedules.due_now(now, |key| busy.contains(key))
        };
        for (key, firing) in due {
            in_flight.lock().insert(key.clone());
            let (control, launcher, in_flight, turns) =
                (Arc::clone(&control), Arc::clone(&launcher), Arc::clone(&in_flight), Arc::clone(&turns));
            tokio::spawn(async move {
                let _turn = turns.acquire_owned().await;
                fire(&control, launcher.as_ref(), &key, firing).await;
                in_flight.lock().remove(&key);
                control.wake_schedule_firing();
            });
        }
        let wait =
            next_due.map(|due| Duration::from_millis((due - now).max(0) as u64)).unwrap_or(IDLE_WAIT).min(IDLE_WAIT);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = control.schedule_wake().notified() => {}
        }
    }
}

/// One firing of the schedule with `key`, from the decision to run it to its durable record.
async fn fire(control: &ControlPlane, launcher: &dyn ScheduledRunTask, key: &str, firing: DueFiring) {
    let Some(schedule) = current(control, key, firing) else { return };
    let now = Timestamp::now().0;
    if now > window_end(&schedule, firing) {
        record_missed(control, &schedule, firing, now).await;
        return;
    }
    let run = ScheduledRun {
        schedule_arn: control.schedule_arn(&schedule.group, &schedule.name),
        cluster_arn: schedule.config.cluster_arn.clone(),
        target_document: schedule.config.target_document.clone(),
        client_token: client_token(&schedule, firing.nominal_ms),
        started_by: started_by(&schedule),
    };
    let retry = schedule.config.retry;
    let give_up_at = firing.due_ms + i64::from(retry.maximum_event_age_seconds) * 1000;
    let mut backoff = Duration::from_secs(1);
    let mut attempt = 0u32;
    let invoked_at = Timestamp::now().0;
    control.metrics().schedule_firing_lateness(invoked_at - firing.due_ms);
    let outcome = loop {
        match launcher.run_task(run.clone()).await {
            Ok(answer) => {
                if !answer.failures.is_empty() {
                    tracing::warn!(schedule = key, failures = ?answer.failures, "a scheduled RunTask could not place every task");
                }
                break FiringOutcome::Ran { task_arns: answer.task_arns, failures: answer.failures };
            }
            Err(RunRefusal::AlreadyRan(reason)) => {
                tracing::info!(schedule = key, %reason, "this firing's RunTask had already run");
                break FiringOutcome::Ran { task_arns: vec![], failures: vec![] };
            }
            Err(RunRefusal::Retry(reason)) => {
                attempt += 1;
                if attempt > retry.maximum_retry_attempts
                    || Timestamp::now().0 + backoff.as_millis() as i64 > give_up_at
                {
                    tracing::warn!(schedule = key, %reason, attempts = attempt, "a scheduled RunTask failed; the retry policy gives up");
                    break FiringOutcome::Failed { reason };
                }
                tracing::info!(schedule = key, %reason, attempt, "a scheduled RunTask failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
                // A schedule deleted or changed meanwhile is not retried for its old self.
                if current(control, key, firing).is_none() {
                    return;
                }
            }
        }
    };
    if let Err(error) = record(control, &schedule, firing, Some(invoked_at), outcome).await {
        tracing::warn!(schedule = key, %error, "a firing could not be recorded; it is tried again");
    }
}

/// The schedule, if it is still the one whose firing this is.
fn current(control: &ControlPlane, key: &str, firing: DueFiring) -> Option<ScheduleRecord> {
    let state = control.read();
    (state.schedules.due_of(key) == Some(firing)).then(|| state.schedules.schedules.get(key).cloned()).flatten()
}

/// Every firing whose window has passed, from `firing` on, is recorded as missed at once.
async fn record_missed(control: &ControlPlane, schedule: &ScheduleRecord, firing: DueFiring, now: i64) {
    let mut last = firing;
    let mut count = 1u64;
    if let Some(timing) = timing_of(&schedule.config, schedule.modified_ms) {
        while let Some(nominal_ms) = timing.next_after(last.nominal_ms) {
            let next = DueFiring { nominal_ms, due_ms: nominal_ms };
            if now <= window_end(schedule, next) || count >= 1_000_000 {
                break;
            }
            last = next;
            count += 1;
        }
    }
    tracing::warn!(
        schedule = ScheduleRecord::key(&schedule.group, &schedule.name),
        missed = count,
        first_missed_ms = firing.nominal_ms,
        last_missed_ms = last.nominal_ms,
        "schedule firings were missed while the server was down; they are skipped"
    );
    let outcome = FiringOutcome::Missed;
    if let Err(error) = record_with_count(control, schedule, last, None, outcome, count).await {
        tracing::warn!(%error, "missed firings could not be recorded; they are looked at again");
    }
}

async fn record(
    control: &ControlPlane,
    schedule: &ScheduleRecord,
    firing: DueFiring,
    invoked_at_ms: Option<i64>,
    outcome: FiringOutcome,
) -> ControlResult<()> {
    record_with_count(control, schedule, firing, invoked_at_ms, outcome, 1).await
}

/// The firing record moved on to `firing`; a one-time schedule (or one past its end) with
/// ActionAfterCompletion DELETE goes in the same write.
async fn record_with_count(
    control: &ControlPlane,
    schedule: &ScheduleRecord,
    firing: DueFiring,
    invoked_at_ms: Option<i64>,
    outcome: FiringOutcome,
    count: u64,
) -> ControlResult<()> {
    let key = ScheduleRecord::key(&schedule.group, &schedule.name);
    control
        .mutate(|state| {
            let Some(current) = state.schedules.schedules.get(&key).filter(|current| current.id == schedule.id) else {
                return Ok((vec![], ()));
            };
            let previous = state.schedules.firings.get(&key).filter(|previous| previous.schedule_id == schedule.id);
            if previous.is_some_and(|previous| previous.last_fire_ms >= firing.nominal_ms) {
                return Ok((vec![], ()));
            }
            let (mut fired, mut missed, mut failed) =
                previous.map(|p| (p.fired, p.missed, p.failed)).unwrap_or_default();
            match &outcome {
                FiringOutcome::Ran { .. } => fired += count,
                FiringOutcome::Missed => missed += count,
                FiringOutcome::Failed { .. } => failed += count,
            }
            let record = FiringRecord {
                key: key.clone(),
                schedule_id: schedule.id.clone(),
                last_fire_ms: firing.nominal_ms,
                invoked_at_ms,
                outcome: outcome.clone(),
                fired,
                missed,
                failed,
            };
            let finished = timing_of(&current.config, current.modified_ms)
                .and_then(|timing| timing.next_after(firing.nominal_ms))
                .is_none();
            let change = if finished && current.config.after_completion == AfterCompletion::Delete {
                tracing::info!(
                    schedule = key,
                    "the schedule has completed and is deleted (ActionAfterCompletion DELETE)"
                );
                ScheduleChange::DeleteSchedule(key.clone())
            } else {
                ScheduleChange::PutFiring(Box::new(record))
            };
            Ok((vec![Change::Schedule(change)], ()))
        })
        .await
}
