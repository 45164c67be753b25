//! The schedule operations: CreateSchedule, UpdateSchedule (a whole replacement, as AWS),
//! GetSchedule, DeleteSchedule and ListSchedules, with the rules AWS applies to a schedule's
//! configuration.

use super::records::{AfterCompletion, RetryPolicy, ScheduleConfig, ScheduleRecord, ScheduleState};
use super::{next_firing, DueFiring, ScheduleChange, SchedulerError, SchedulerErrorKind, DEFAULT_GROUP};
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_schedule_expressions::{parse_timezone, ScheduleExpression};
use berth_types::Timestamp;

/// Schedules an account may have (AWS's default quota).
pub const MAX_SCHEDULES: usize = 1_000_000;
/// How far in the past a recurring schedule's StartDate may be (AWS: five minutes).
const START_DATE_GRACE_MS: i64 = 5 * 60_000;

/// CreateSchedule's or UpdateSchedule's members, decoded by the edge.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    pub group: Option<String>,
    pub name: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub description: Option<String>,
    pub state: Option<ScheduleState>,
    pub kms_key_arn: Option<String>,
    /// `None`: Mode OFF; `Some(window)`: Mode FLEXIBLE with MaximumWindowInMinutes (which
    /// FLEXIBLE requires).
    pub flexible_window_minutes: Option<Option<u32>>,
    pub after_completion: Option<AfterCompletion>,
    pub cluster_arn: String,
    pub retry: Option<RetryPolicy>,
    pub target_document: serde_json::Value,
    pub client_token: Option<String>,
}

/// A schedule as GetSchedule shows it.
#[derive(Debug, Clone)]
pub struct ScheduleView {
    pub arn: String,
    pub record: ScheduleRecord,
    /// Its next firing, if it fires again.
    pub next: Option<DueFiring>,
}

#[derive(Debug, Clone, Default)]
pub struct ScheduleFilter {
    pub group: Option<String>,
    pub name_prefix: Option<String>,
    pub state: Option<ScheduleState>,
}

/// A name as the model allows it: 1 to 64 of `[0-9a-zA-Z-_.]`.
pub fn check_name(field: &str, name: &str) -> Result<(), SchedulerError> {
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(SchedulerError::validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length between 1 and 64"
        )))
    }
}

/// The validated configuration of `input` at `now_ms`.
pub fn check(input: &ScheduleInput, now_ms: i64) -> Result<ScheduleConfig, SchedulerError> {
    let expression =
        ScheduleExpression::parse(&input.expression).map_err(|error| SchedulerError::validation(error.to_string()))?;
    let timezone = input.timezone.clone().unwrap_or_else(|| "UTC".to_string());
    parse_timezone(&timezone).map_err(|error| SchedulerError::validation(error.to_string()))?;
    if let Some(description) = &input.description {
        if description.chars().count() > 512 {
            return Err(SchedulerError::validation("Description must be at most 512 characters long."));
        }
    }
    if !expression.is_one_time() {
        if let Some(start) = input.start_ms {
            if start < now_ms - START_DATE_GRACE_MS {
                return Err(SchedulerError::validation(
                    "The StartDate you specify cannot be earlier than 5 minutes ago.",
                ));
            }
        }
        if let (Some(start), Some(end)) = (input.start_ms, input.end_ms) {
            if end <= start {
                return Err(SchedulerError::validation("The EndDate you specify must be after the StartDate."));
            }
        }
        if let Some(end) = input.end_ms {
            if end <= now_ms {
                return Err(SchedulerError::validation("The EndDate you specify must be in the future."));
            }
        }
    }
    let flexible_window_minutes = match input.flexible_window_minutes {
        None => None,
        Some(Some(minutes)) if (1..=1440).contains(&minutes) => Some(minutes),
        Some(Some(minutes)) => {
            return Err(SchedulerError::validation(format!(
                "1 validation error detected: Value '{minutes}' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value between 1 and 1440"
            )))
        }
        Some(None) => {
            return Err(SchedulerError::validation(
                "MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE.",
            ))
        }
    };
    let retry = input.retry.unwrap_or_default();
    if !(60..=86_400).contains(&retry.maximum_event_age_seconds) || retry.maximum_retry_attempts > 185 {
        return Err(SchedulerError::validation(
            "RetryPolicy: MaximumEventAgeInSeconds must be between 60 and 86400 and MaximumRetryAttempts between 0 and 185.",
        ));
    }
    Ok(ScheduleConfig {
        expression: input.expression.clone(),
        timezone,
        start_ms: input.start_ms,
        end_ms: input.end_ms,
        description: input.description.clone(),
        state: input.state.unwrap_or(ScheduleState::Enabled),
        kms_key_arn: input.kms_key_arn.clone(),
        flexible_window_minutes,
        after_completion: input.after_completion.unwrap_or(AfterCompletion::None),
        cluster_arn: input.cluster_arn.clone(),
        retry,
        target_document: input.target_document.clone(),
    })
}

fn group_or_default(group: Option<&str>) -> &str {
    group.unwrap_or(DEFAULT_GROUP)
}

impl ControlPlane {
    pub fn schedule_arn(&self, group: &str, name: &str) -> String {
        let context = self.arn_context();
        format!("arn:aws:scheduler:{}:{}:schedule/{group}/{name}", context.region, context.account)
    }

    /// CreateSchedule; a repeat with the same ClientToken answers the same schedule.
    pub async fn create_schedule(&self, input: ScheduleInput) -> ControlResult<String> {
        let group = group_or_default(input.group.as_deref()).to_string();
        check_name("name", &input.name)?;
        check_name("groupName", &group)?;
        let now = Timestamp::now().0;
        let config = check(&input, now)?;
        let arn = self.schedule_arn(&group, &input.name);
        self.mutate(|state| {
            let schedules = &state.schedules;
            if !schedules.group_exists(&group) {
                return Err(SchedulerError::group_not_found(&group).into());
            }
            let key = ScheduleRecord::key(&group, &input.name);
            if let Some(existing) = schedules.schedules.get(&key) {
                if input.client_token.is_some() && existing.client_token == input.client_token {
                    return Ok((vec![], arn.clone()));
                }
                return Err(SchedulerError::new(
                    SchedulerErrorKind::Conflict,
                    format!("Schedule {} already exists.", input.name),
                )
                .into());
            }
            if schedules.schedules.len() >= MAX_SCHEDULES {
                return Err(SchedulerError::new(
                    SchedulerErrorKind::ServiceQuotaExceeded,
                    format!("The account has reached its quota of {MAX_SCHEDULES} schedules."),
                )
                .into());
            }
            let record = ScheduleRecord {
                id: uuid::Uuid::new_v4().simple().to_string(),
                group: group.clone(),
                name: input.name.clone(),
                config,
                created_ms: now,
                modified_ms: now,
                client_token: input.client_token.clone(),
            };
            Ok((vec![Change::Schedule(ScheduleChange::PutSchedule(Box::new(record)))], arn.clone()))
        })
        .await
    }

    /// UpdateSchedule: every member is replaced; what is not given takes its default.
    pub async fn update_schedule(&self, input: ScheduleInput) -> ControlResult<String> {
        let group = group_or_default(input.group.as_deref()).to_string();
        check_name("name", &input.name)?;
        check_name("groupName", &group)?;
        let now = Timestamp::now().0;
        let config = check(&input, now)?;
        let arn = self.schedule_arn(&group, &input.name);
        self.mutate(|state| {
            if !state.schedules.group_exists(&group) {
                return Err(SchedulerError::group_not_found(&group).into());
            }
            let key = ScheduleRecord::key(&group, &input.name);
            let existing = state
                .schedules
                .schedules
                .get(&key)
                .ok_or_else(|| SchedulerError::schedule_not_found(&group, &input.name))?;
            // The clock can step back; a schedule's modification time never does.
            let record = ScheduleRecord { config, modified_ms: now.max(existing.modified_ms + 1), ..existing.clone() };
            Ok((vec![Change::Schedule(ScheduleChange::PutSchedule(Box::new(record)))], arn.clone()))
        })
        .await
    }

    pub fn get_schedule(&self, group: Option<&str>, name: &str) -> ControlResult<ScheduleView> {
        let group = group_or_default(group);
        check_name("name", name)?;
        check_name("groupName", group)?;
        let state = self.read();
        if !state.schedules.group_exists(group) {
            return Err(SchedulerError::group_not_found(group).into());
        }
        let key = ScheduleRecord::key(group, name);
        let record =
            state.schedules.schedules.get(&key).ok_or_else(|| SchedulerError::schedule_not_found(group, name))?;
        Ok(ScheduleView {
            arn: self.schedule_arn(group, name),
            record: record.clone(),
            next: state.schedules.due_of(&key),
        })
    }

    pub async fn delete_schedule(&self, group: Option<&str>, name: &str) -> ControlResult<()> {
        let group = group_or_default(group).to_string();
        check_name("name", name)?;
        check_name("groupName", &group)?;
        self.mutate(|state| {
            if !state.schedules.group_exists(&group) {
                return Err(SchedulerError::group_not_found(&group).into());
            }
            let key = ScheduleRecord::key(&group, name);
            if !state.schedules.schedules.contains_key(&key) {
                return Err(SchedulerError::schedule_not_found(&group, name).into());
            }
            Ok((vec![Change::Schedule(ScheduleChange::DeleteSchedule(key))], ()))
        })
        .await
    }

    /// ListSchedules: in key order (group, then name); the token is the last key returned.
    pub fn list_schedules(
        &self,
        filter: &ScheduleFilter,
        next_token: Option<&str>,
        max_results: usize,
    ) -> ControlResult<(Vec<ScheduleView>, Option<String>)> {
        if let Some(prefix) = &filter.name_prefix {
            check_name("namePrefix", prefix)?;
        }
        let state = self.read();
        if let Some(group) = &filter.group {
            check_name("groupName", group)?;
            if !state.schedules.group_exists(group) {
                return Err(SchedulerError::group_not_found(group).into());
            }
        }
        // The token is the key of the last schedule of the previous page.
        let start = match next_token {
            Some(token) if token.contains('/') => std::ops::Bound::Excluded(token.to_string()),
            Some(_) => return Err(SchedulerError::validation("The NextToken is not valid.").into()),
            None => std::ops::Bound::Unbounded,
        };
        let mut page = Vec::new();
        let mut more = false;
        for (key, record) in state.schedules.schedules.range((start, std::ops::Bound::Unbounded)) {
            let matches = filter.group.as_deref().is_none_or(|group| record.group == group)
                && filter.name_prefix.as_deref().is_none_or(|prefix| record.name.starts_with(prefix))
                && filter.state.is_none_or(|wanted| record.config.state == wanted);
            if !matches {
                continue;
            }
            if page.len() == max_results {
                more = true;
                break;
            }
            page.push(ScheduleView {
                arn: self.schedule_arn(&record.group, &record.name),
                record: record.clone(),
                next: state.schedules.due_of(key),
            });
        }
        let token =
            more.then(|| page.last().map(|view| ScheduleRecord::key(&view.record.group, &view.record.name))).flatten();
        Ok((page, token))
    }

    /// The next firing of each enabled schedule, for `berth bench schedules` and tests.
    pub fn schedule_next_firing(&self, group: &str, name: &str) -> Option<DueFiring> {
        let state = self.read();
        let record = state.schedules.schedules.get(&ScheduleRecord::key(group, name))?;
        next_firing(record, state.schedules.last_fire_ms(record))
    }
}
