//! CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule and ListSchedules: each turns
//! its input shape into domain values, calls `berth_control::schedules` and renders the answer.

use super::{page_size, seconds, target, SchedulerResult};
use crate::Api;
use berth_control::schedules::actions::{ScheduleFilter, ScheduleInput, ScheduleView};
use berth_control::schedules::records::{AfterCompletion, RetryPolicy, ScheduleState};
use berth_eventbridge_scheduler_wire as wire;

fn state_of(state: wire::ScheduleState) -> ScheduleState {
    match state {
        wire::ScheduleState::Enabled => ScheduleState::Enabled,
        wire::ScheduleState::Disabled => ScheduleState::Disabled,
    }
}

fn wire_state(state: ScheduleState) -> wire::ScheduleState {
    match state {
        ScheduleState::Enabled => wire::ScheduleState::Enabled,
        ScheduleState::Disabled => wire::ScheduleState::Disabled,
    }
}

fn millis(seconds: Option<f64>) -> Option<i64> {
    seconds.map(|seconds| (seconds * 1000.0).round() as i64)
}

/// The members CreateSchedule and UpdateSchedule share, in their common form.
struct ScheduleMembers {
    name: Option<String>,
    group_name: Option<String>,
    schedule_expression: Option<String>,
    start_date: Option<f64>,
    end_date: Option<f64>,
    description: Option<String>,
    timezone: Option<String>,
    state: Option<wire::ScheduleState>,
    kms_key_arn: Option<String>,
    target: Option<wire::Target>,
    flexible_time_window: Option<wire::FlexibleTimeWindow>,
    client_token: Option<String>,
    action_after_completion: Option<wire::ActionAfterCompletion>,
}

fn input_of(api: &Api, members: ScheduleMembers) -> SchedulerResult<ScheduleInput> {
    // The decoder checked the model's required members.
    let target = members.target.unwrap_or_default();
    let cluster_arn = target::check(&target, api.context())?;
    let window = members.flexible_time_window.unwrap_or_default();
    let flexible_window_minutes = match window.mode {
        Some(wire::FlexibleTimeWindowMode::Flexible) => {
            Some(window.maximum_window_in_minutes.map(|minutes| minutes.max(0) as u32))
        }
        _ => {
            if window.maximum_window_in_minutes.is_some() {
                return Err(super::SchedulerApiError::validation(
                    "FlexibleTimeWindow.MaximumWindowInMinutes is valid only when Mode is FLEXIBLE.",
                ));
            }
            None
        }
    };
    let retry = target.retry_policy.as_ref().map(|policy| {
        let defaults = RetryPolicy::default();
        RetryPolicy {
            maximum_event_age_seconds: policy
                .maximum_event_age_in_seconds
                .map_or(defaults.maximum_event_age_seconds, |seconds| seconds.max(0) as u32),
            maximum_retry_attempts: policy
                .maximum_retry_attempts
                .map_or(defaults.maximum_retry_attempts, |attempts| attempts.max(0) as u32),
        }
    });
    if let Some(token) = &members.client_token {
        let valid = (1..=64).contains(&token.len())
            && token.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !valid {
            return Err(super::SchedulerApiError::validation(
                "ClientToken must be 1 to 64 characters of [a-zA-Z0-9-_].",
            ));
        }
    }
    Ok(ScheduleInput {
        group: members.group_name,
        name: members.name.unwrap_or_default(),
        expression: members.schedule_expression.unwrap_or_default(),
        timezone: members.timezone,
        start_ms: millis(members.start_date),
        end_ms: millis(members.end_date),
        description: members.description,
        state: members.state.map(state_of),
        kms_key_arn: members.kms_key_arn,
        flexible_window_minutes,
        after_completion: members.action_after_completion.map(|action| match action {
            wire::ActionAfterCompletion::None => AfterCompletion::None,
            wire::ActionAfterCompletion::Delete => AfterCompletion::Delete,
        }),
        cluster_arn,
        retry,
        target_document: serde_json::to_value(&target).expect("shapes always serialise"),
        client_token: members.client_token,
    })
}

pub async fn create_schedule(
    api: &Api,
    request: wire::CreateScheduleInput,
) -> SchedulerResult<wire::CreateScheduleOutput> {
    let members = ScheduleMembers {
        name: request.name,
        group_name: request.group_name,
        schedule_expression: request.schedule_expression,
        start_date: request.start_date,
        end_date: request.end_date,
        description: request.description,
        timezone: request.schedule_expression_timezone,
        state: request.state,
        kms_key_arn: request.kms_key_arn,
        target: request.target,
        flexible_time_window: request.flexible_time_window,
        client_token: request.client_token,
        action_after_completion: request.action_after_completion,
    };
    let arn = api.control.create_schedule(input_of(api, members)?).await?;
    Ok(wire::CreateScheduleOutput { schedule_arn: Some(arn) })
}

pub async fn update_schedule(
    api: &Api,
    request: wire::UpdateScheduleInput,
) -> SchedulerResult<wire::UpdateScheduleOutput> {
    let members = ScheduleMembers {
        name: request.name,
        group_name: request.group_name,
        schedule_expression: request.schedule_expression,
        start_date: request.start_date,
        end_date: request.end_date,
        description: request.description,
        timezone: request.schedule_expression_timezone,
        state: request.state,
        kms_key_arn: request.kms_key_arn,
        target: request.target,
        flexible_time_window: request.flexible_time_window,
        client_token: request.client_token,
        action_after_completion: request.action_after_completion,
    };
    let mut input = input_of(api, members)?;
    // UpdateSchedule's token makes the update idempotent, not the schedule's creation.
    input.client_token = None;
    let arn = api.control.update_schedule(input).await?;
    Ok(wire::UpdateScheduleOutput { schedule_arn: Some(arn) })
}

fn render(view: ScheduleView) -> wire::GetScheduleOutput {
    let record = view.record;
    let config = record.config;
    let target: wire::Target = serde_json::from_value(config.target_document).unwrap_or_default();
    let flexible = match config.flexible_window_minutes {
        Some(minutes) => wire::FlexibleTimeWindow {
            mode: Some(wire::FlexibleTimeWindowMode::Flexible),
            maximum_window_in_minutes: Some(minutes as i32),
        },
        None => {
            wire::FlexibleTimeWindow { mode: Some(wire::FlexibleTimeWindowMode::Off), maximum_window_in_minutes: None }
        }
    };
    wire::GetScheduleOutput {
        arn: Some(view.arn),
        group_name: Some(record.group),
        name: Some(record.name),
        schedule_expression: Some(config.expression),
        start_date: config.start_ms.map(seconds),
        end_date: config.end_ms.map(seconds),
        description: config.description,
        schedule_expression_timezone: Some(config.timezone),
        state: Some(wire_state(config.state)),
        creation_date: Some(seconds(record.created_ms)),
        last_modification_date: Some(seconds(record.modified_ms)),
        kms_key_arn: config.kms_key_arn,
        target: Some(target),
        flexible_time_window: Some(flexible),
        action_after_completion: Some(match config.after_completion {
            AfterCompletion::None => wire::ActionAfterCompletion::None,
            AfterCompletion::Delete => wire::ActionAfterCompletion::Delete,
        }),
    }
}

pub async fn get_schedule(api: &Api, request: wire::GetScheduleInput) -> SchedulerResult<wire::GetScheduleOutput> {
    let view = api.control.get_schedule(request.group_name.as_deref(), request.name.as_deref().unwrap_or_default())?;
    Ok(render(view))
}

pub async fn delete_schedule(
    api: &Api,
    request: wire::DeleteScheduleInput,
) -> SchedulerResult<wire::DeleteScheduleOutput> {
    api.control.delete_schedule(request.group_name.as_deref(), request.name.as_deref().unwrap_or_default()).await?;
    Ok(wire::DeleteScheduleOutput {})
}

pub async fn list_schedules(
    api: &Api,
    request: wire::ListSchedulesInput,
) -> SchedulerResult<wire::ListSchedulesOutput> {
    let filter = ScheduleFilter {
        group: request.group_name,
        name_prefix: request.name_prefix,
        state: request.state.map(state_of),
    };
    let (views, next_token) =
        api.control.list_schedules(&filter, request.next_token.as_deref(), page_size(request.max_results))?;
    let schedules = views
        .into_iter()
        .map(|view| {
            let target: wire::Target = serde_json::from_value(view.record.config.target_document).unwrap_or_default();
            wire::ScheduleSummary {
                arn: Some(view.arn),
                name: Some(view.record.name),
                group_name: Some(view.record.group),
                state: Some(wire_state(view.record.config.state)),
                creation_date: Some(seconds(view.record.created_ms)),
                last_modification_date: Some(seconds(view.record.modified_ms)),
                target: Some(wire::TargetSummary { arn: target.arn }),
            }
        })
        .collect();
    Ok(wire::ListSchedulesOutput { next_token, schedules: Some(schedules) })
}
