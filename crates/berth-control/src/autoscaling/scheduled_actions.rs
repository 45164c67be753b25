//! Scheduled actions: PutScheduledAction (create, or change what a second call gives),
//! DescribeScheduledActions and DeleteScheduledAction. `engine` runs them when they are due.

use super::error::{AutoScalingError, AutoScalingResult};
use super::records::{ScheduledActionRecord, TargetKey};
use super::schedule::{self, time_zone};
use super::targets::no_target;
use super::AutoScalingChange;
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;

/// What PutScheduledAction asks; `None` keeps an existing action's value.
#[derive(Debug, Clone, Default)]
pub struct ScheduledActionInput {
    pub name: String,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub min_capacity: Option<i32>,
    pub max_capacity: Option<i32>,
}

fn check_name(name: &str) -> AutoScalingResult<()> {
    let length = name.chars().count();
    if !(1..=256).contains(&length) || name.contains(':') || name.contains('/') {
        return Err(AutoScalingError::constraint(
            "scheduledActionName",
            name,
            "Member must have length between 1 and 256 and contain no ':' or '/'",
        ));
    }
    Ok(())
}

fn capacity(value: Option<i32>, field: &str) -> AutoScalingResult<Option<u32>> {
    match value {
        Some(value) if value < 0 => {
            Err(AutoScalingError::constraint(field, value, "Member must have value greater than or equal to 0"))
        }
        other => Ok(other.map(|value| value as u32)),
    }
}

/// When `action` runs next after `after_ms`.
pub fn next_run(action: &ScheduledActionRecord, after_ms: i64) -> Option<i64> {
    let expression = schedule::parse(&action.schedule).ok()?;
    let zone = time_zone(action.timezone.as_deref()).ok()?;
    schedule::next_run(&expression, &zone, after_ms, action.created_ms, action.start_ms, action.end_ms)
}

fn no_action(key: &TargetKey, name: &str) -> AutoScalingError {
    AutoScalingError::not_found(format!(
        "No scheduled action found for {}, scheduled action name: {name}",
        key.describe()
    ))
}

impl ControlPlane {
    pub async fn put_scheduled_action(&self, key: TargetKey, input: ScheduledActionInput) -> ControlResult<()> {
        check_name(&input.name)?;
        if let Some(schedule) = &input.schedule {
            schedule::parse(schedule).map_err(AutoScalingError::validation)?;
        }
        time_zone(input.timezone.as_deref()).map_err(AutoScalingError::validation)?;
        let min = capacity(input.min_capacity, "scalableTargetAction.minCapacity")?;
        let max = capacity(input.max_capacity, "scalableTargetAction.maxCapacity")?;
        if let (Some(start), Some(end)) = (input.start_ms, input.end_ms) {
            if start >= end {
                return Err(AutoScalingError::validation("StartTime must be before EndTime.").into());
            }
        }
        let context = self.arn_context().clone();
        self.mutate(|state| {
            let target = state.autoscaling.targets.get(&key.store_key()).ok_or_else(|| no_target(&key))?;
            let existing = state.autoscaling.scheduled_actions.get(&super::records::policy_key(&key, &input.name));
            let now = Timestamp::now().0;
            let mut record = match existing {
                Some(existing) => existing.clone(),
                None => ScheduledActionRecord {
                    target: key.clone(),
                    name: input.name.clone(),
                    arn: format!(
                        "arn:aws:autoscaling:{}:{}:scheduledAction:{}:resource/ecs/{}:scheduledActionName/{}",
                        context.region,
                        context.account,
                        uuid::Uuid::new_v4(),
                        key.resource_id(),
                        input.name
                    ),
                    schedule: input.schedule.clone().ok_or_else(|| {
                        AutoScalingError::validation("Schedule is required to create a scheduled action.")
                    })?,
                    timezone: None,
                    start_ms: None,
                    end_ms: None,
                    min_capacity: None,
                    max_capacity: None,
                    created_ms: now,
                    next_run_ms: None,
                },
            };
            if let Some(schedule) = &input.schedule {
                record.schedule = schedule.clone();
            }
            record.timezone = input.timezone.clone().or(record.timezone);
            record.start_ms = input.start_ms.or(record.start_ms);
            record.end_ms = input.end_ms.or(record.end_ms);
            record.min_capacity = min.or(record.min_capacity);
            record.max_capacity = max.or(record.max_capacity);
            if record.min_capacity.is_none() && record.max_capacity.is_none() {
                return Err(AutoScalingError::validation(
                    "ScalableTargetAction must give MinCapacity, MaxCapacity or both.",
                )
                .into());
            }
            // With one bound given, the other is the target's; they must still be in order.
            let effective_min = record.min_capacity.unwrap_or(target.min_capacity);
            let effective_max = record.max_capacity.unwrap_or(target.max_capacity);
            if effective_min > effective_max {
                return Err(AutoScalingError::validation(format!(
                    "The scheduled action's minimum capacity ({effective_min}) would be greater than the maximum capacity ({effective_max}); give both bounds."
                ))
                .into());
            }
            record.next_run_ms = next_run(&record, now);
            Ok((vec![Change::AutoScaling(AutoScalingChange::PutScheduledAction(Box::new(record)))], ()))
        })
        .await
    }

    pub fn describe_scheduled_actions(
        &self,
        target: Option<&TargetKey>,
        names: &[String],
    ) -> Vec<(String, ScheduledActionRecord)> {
        let state = self.read();
        state
            .autoscaling
            .scheduled_actions
            .iter()
            .filter(|(_, action)| target.is_none_or(|target| action.target == *target))
            .filter(|(_, action)| names.is_empty() || names.contains(&action.name))
            .map(|(key, action)| (key.clone(), action.clone()))
            .collect()
    }

    pub async fn delete_scheduled_action(&self, key: TargetKey, name: String) -> ControlResult<()> {
        self.mutate(|state| {
            let action = state
                .autoscaling
                .scheduled_actions
                .get(&super::records::policy_key(&key, &name))
                .ok_or_else(|| no_action(&key, &name))?;
            Ok((vec![Change::AutoScaling(AutoScalingChange::DeleteScheduledAction(action.store_key()))], ()))
        })
        .await
    }
}
