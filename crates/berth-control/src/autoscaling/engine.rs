//! Carrying scaling decisions out. A policy's decision (`decide`) or a new bound is clamped to
//! the target's minimum and maximum, skipped while the target's `SuspendedState` says so,
//! recorded as a scaling activity (InProgress, then Successful or Failed, in AWS's words), and
//! applied with UpdateService's own path — so deployments, the circuit breaker and task
//! protection hold as for a user's change, and a deployment in progress does not hold a
//! scale-out back.
//!
//! Invariant: decisions are taken one at a time (`AutoScalingRuntime::decisions`), each from
//! the desired count it just read, so two never undo each other.

use super::decide::{self, AlarmTrigger, Decision, Direction};
use super::records::{ActivityRecord, ActivityStatus, Cooldowns, TargetKey, ACTIVITIES_KEPT};
use super::scheduled_actions::next_run;
use super::targets::no_target;
use super::{AutoScalingChange, AutoScalingState};
use crate::services::{ServiceStatus, UpdateService};
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// An alarm in ALARM whose actions name scaling policies, as the alarm evaluator hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSignal {
    pub trigger: AlarmTrigger,
    pub policy_arns: Vec<String>,
}

/// Whether an alarm action names an Application Auto Scaling policy.
pub fn is_scaling_policy_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws:autoscaling:") && arn.contains(":scalingPolicy:")
}

impl ControlPlane {
    /// Runs every policy the signals name. Failures are logged: the alarm is still in ALARM at
    /// the next evaluation, which is the retry.
    pub(crate) async fn run_alarm_actions(&self, signals: Vec<AlarmSignal>, now_ms: i64) {
        let _decisions = self.autoscaling.decisions.lock().await;
        for signal in signals {
            for arn in &signal.policy_arns {
                if let Err(error) = self.run_policy(arn, &signal.trigger, now_ms).await {
                    tracing::warn!(policy = arn, alarm = signal.trigger.alarm_name, %error, "a scaling policy could not run");
                }
            }
        }
    }

    async fn run_policy(&self, arn: &str, trigger: &AlarmTrigger, now_ms: i64) -> ControlResult<()> {
        let (policy, target, current) = {
            let state = self.read();
            let Some(policy) = state.autoscaling.policies.values().find(|policy| policy.arn == arn) else {
                return Ok(());
            };
            let Some(target) = state.autoscaling.targets.get(&policy.target.store_key()) else { return Ok(()) };
            let service = crate::services::live_service(&state, &target.key.cluster, &target.key.service)
                .filter(|service| service.status == ServiceStatus::Active);
            let Some(service) = service else { return Ok(()) };
            (policy.clone(), target.clone(), service.configuration.desired_count)
        };
        let decision = match decide::decide(&policy, trigger, current, now_ms) {
            Ok(decision) => decision,
            Err(reason) => {
                tracing::debug!(policy = policy.name, alarm = trigger.alarm_name, reason, "no scaling");
                return Ok(());
            }
        };
        let capacity = decision.capacity.clamp(i64::from(target.min_capacity), i64::from(target.max_capacity)) as u32;
        if capacity == current {
            return Ok(());
        }
        let direction = if capacity > current { Direction::Out } else { Direction::In };
        let suspended = match direction {
            Direction::Out => target.suspended.dynamic_out,
            Direction::In => target.suspended.dynamic_in,
        };
        if suspended {
            tracing::debug!(policy = policy.name, "dynamic scaling is suspended for the target");
            return Ok(());
        }
        let cause = format!("monitor alarm {} in state ALARM triggered policy {}", trigger.alarm_name, policy.name);
        let cooldowns = decide::after(policy.cooldowns, &Decision { direction, ..decision }, now_ms);
        self.scale_target(&target.key, capacity, cause, Some((policy.store_key(), cooldowns))).await
    }

    /// Sets the service's desired count to `capacity`, recorded as an activity; with the
    /// policy's cooldowns updated in the activity's first write.
    async fn scale_target(
        &self,
        key: &TargetKey,
        capacity: u32,
        cause: String,
        policy: Option<(String, Cooldowns)>,
    ) -> ControlResult<()> {
        let activity = ActivityRecord {
            target: key.clone(),
            id: uuid::Uuid::now_v7().to_string(),
            description: format!("Setting desired count to {capacity}."),
            cause,
            start_ms: Timestamp::now().0,
            end_ms: None,
            status: ActivityStatus::InProgress,
            status_message: None,
        };
        self.mutate(|state| {
            if !state.autoscaling.targets.contains_key(&key.store_key()) {
                return Err(no_target(key).into());
            }
            let mut changes = vec![Change::AutoScaling(AutoScalingChange::PutActivity(Box::new(activity.clone())))];
            let kept: Vec<&ActivityRecord> = AutoScalingState::of_target(&state.autoscaling.activities, key).collect();
            let excess = (kept.len() + 1).saturating_sub(ACTIVITIES_KEPT);
            changes.extend(
                kept.iter()
                    .take(excess)
                    .map(|old| Change::AutoScaling(AutoScalingChange::DeleteActivity(old.store_key()))),
            );
            if let Some((policy_key, cooldowns)) = &policy {
                if let Some(policy) = state.autoscaling.policies.get(policy_key) {
                    let mut policy = policy.clone();
                    policy.cooldowns = *cooldowns;
                    changes.push(Change::AutoScaling(AutoScalingChange::PutPolicy(Box::new(policy))));
                }
            }
            Ok((changes, ()))
        })
        .await?;
        let update = UpdateService { desired_count: Some(capacity), ..UpdateService::default() };
        let outcome = self.update_service(&key.cluster, &key.service, update).await;
        let (status, message) = match &outcome {
            Ok(_) => (
                ActivityStatus::Successful,
                format!("Successfully set desired count to {capacity}. Change successfully fulfilled by ecs."),
            ),
            Err(error) => {
                tracing::warn!(resource = key.resource_id(), %error, "a scaling activity failed");
                (ActivityStatus::Failed, format!("Failed to set desired count to {capacity}. Reason: {error}"))
            }
        };
        tracing::info!(resource = key.resource_id(), capacity, status = status.as_str(), "scaling activity");
        self.mutate(|state| {
            let Some(stored) = state.autoscaling.activities.get(&activity.store_key()) else { return Ok((vec![], ())) };
            let mut finished = stored.clone();
            finished.status = status;
            finished.status_message = Some(message.clone());
            finished.end_ms = Some(Timestamp::now().0);
            Ok((vec![Change::AutoScaling(AutoScalingChange::PutActivity(Box::new(finished)))], ()))
        })
        .await
    }

    /// Brings the service's desired count within the target's bounds, as AWS does after the
    /// bounds change (a scheduled action, named in the cause, or RegisterScalableTarget).
    pub(crate) async fn bring_within_bounds(
        &self,
        key: &TargetKey,
        scheduled_action: Option<&str>,
    ) -> ControlResult<()> {
        let (min, max, current) = {
            let state = self.read();
            let Some(target) = state.autoscaling.targets.get(&key.store_key()) else { return Ok(()) };
            let service = crate::services::live_service(&state, &key.cluster, &key.service)
                .filter(|service| service.status == ServiceStatus::Active);
            let Some(service) = service else { return Ok(()) };
            (target.min_capacity, target.max_capacity, service.configuration.desired_count)
        };
        let capacity = current.clamp(min, max);
        if capacity == current {
            return Ok(());
        }
        let cause = match (scheduled_action, capacity > current) {
            (Some(name), _) => format!("scheduled action name {name} was triggered"),
            (None, true) => format!("minimum capacity was set to {min}"),
            (None, false) => format!("maximum capacity was set to {max}"),
        };
        self.scale_target(key, capacity, cause, None).await
    }

    /// [`ControlPlane::bring_within_bounds`] as one decision among the engine's.
    pub(crate) async fn bring_within_bounds_now(&self, key: &TargetKey) -> ControlResult<()> {
        let _decisions = self.autoscaling.decisions.lock().await;
        self.bring_within_bounds(key, None).await
    }

    /// Runs every scheduled action due at `now_ms`: the target takes its new bounds and the
    /// action its next time in one write, then the desired count is brought within them.
    /// Returns how many ran.
    pub async fn run_due_scheduled_actions(&self, now_ms: i64) -> ControlResult<usize> {
        let _decisions = self.autoscaling.decisions.lock().await;
        let due: Vec<_> = self
            .read()
            .autoscaling
            .scheduled_actions
            .values()
            .filter(|action| action.next_run_ms.is_some_and(|at| at <= now_ms))
            .cloned()
            .collect();
        let mut ran = 0;
        for action in due {
            let applied = self
                .mutate(|state| {
                    let Some(current) = state.autoscaling.scheduled_actions.get(&action.store_key()) else {
                        return Ok((vec![], false));
                    };
                    if current.next_run_ms != action.next_run_ms {
                        return Ok((vec![], false));
                    }
                    let mut rescheduled = current.clone();
                    rescheduled.next_run_ms = next_run(&rescheduled, now_ms);
                    let mut changes =
                        vec![Change::AutoScaling(AutoScalingChange::PutScheduledAction(Box::new(rescheduled)))];
                    let Some(target) = state.autoscaling.targets.get(&action.target.store_key()) else {
                        return Ok((changes, false));
                    };
                    if target.suspended.scheduled {
                        return Ok((changes, false));
                    }
                    let mut target = target.clone();
                    if let Some(min) = action.min_capacity {
                        target.min_capacity = min;
                    }
                    if let Some(max) = action.max_capacity {
                        target.max_capacity = max;
                    }
                    // One bound given past the other: the given one wins and moves the other.
                    if target.min_capacity > target.max_capacity {
                        if action.min_capacity.is_some() {
                            target.max_capacity = target.min_capacity;
                        } else {
                            target.min_capacity = target.max_capacity;
                        }
                    }
                    changes.push(Change::AutoScaling(AutoScalingChange::PutTarget(Box::new(target))));
                    Ok((changes, true))
                })
                .await?;
            if applied {
                ran += 1;
                tracing::info!(action = action.name, resource = action.target.resource_id(), "scheduled action ran");
                if let Err(error) = self.bring_within_bounds(&action.target, Some(&action.name)).await {
                    tracing::warn!(action = action.name, %error, "a scheduled action's scaling failed");
                }
            }
        }
        Ok(ran)
    }

    /// DescribeScalingActivities, newest first, keyed for paging in that order.
    pub fn describe_scaling_activities(&self, target: Option<&TargetKey>) -> Vec<(String, ActivityRecord)> {
        let state = self.read();
        let mut activities: Vec<(String, ActivityRecord)> = state
            .autoscaling
            .activities
            .values()
            .filter(|activity| target.is_none_or(|target| activity.target == *target))
            .map(|activity| (newest_first_key(activity), activity.clone()))
            .collect();
        activities.sort_by(|a, b| a.0.cmp(&b.0));
        activities
    }
}

/// A key that sorts activities newest first: the start time and the UUIDv7 ID, both inverted
/// (activities begun in the same millisecond still come in order).
fn newest_first_key(activity: &ActivityRecord) -> String {
    let inverted: String = activity
        .id
        .chars()
        .map(|c| c.to_digit(16).and_then(|digit| char::from_digit(15 - digit, 16)).unwrap_or(c))
        .collect();
    format!("{:020}{inverted}", i64::MAX - activity.start_ms)
}

/// Runs the scheduled actions that are due, every `interval`.
pub async fn run_scheduled_actions(control: Arc<ControlPlane>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = control.run_due_scheduled_actions(Timestamp::now().0).await {
            tracing::warn!(%error, "running scheduled actions failed; they run again next time");
        }
    }
}
