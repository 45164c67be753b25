//! Scheduled actions and scaling activities.

use super::targets::{dimension, namespace};
use super::{describe_filter, millis, required, seconds, target_key, AutoScalingApiError, AutoScalingApiResult};
use crate::Api;
use berth_autoscaling_wire as wire;
use berth_control::autoscaling::records::{ActivityRecord, ScheduledActionRecord};
use berth_control::autoscaling::scheduled_actions::ScheduledActionInput;
use berth_control::autoscaling::targets::page;

pub async fn put_scheduled_action(
    api: &Api,
    request: wire::PutScheduledActionRequest,
) -> AutoScalingApiResult<wire::PutScheduledActionResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let action = request.scalable_target_action.unwrap_or_default();
    let input = ScheduledActionInput {
        name: required(request.scheduled_action_name, "ScheduledActionName")?,
        schedule: request.schedule,
        timezone: request.timezone,
        start_ms: request.start_time.map(millis),
        end_ms: request.end_time.map(millis),
        min_capacity: action.min_capacity,
        max_capacity: action.max_capacity,
    };
    api.control.put_scheduled_action(key, input).await?;
    Ok(wire::PutScheduledActionResponse {})
}

fn render_action(action: ScheduledActionRecord) -> wire::ScheduledAction {
    wire::ScheduledAction {
        scheduled_action_name: Some(action.name),
        scheduled_action_arn: Some(action.arn),
        service_namespace: namespace(),
        schedule: Some(action.schedule),
        timezone: action.timezone,
        resource_id: Some(action.target.resource_id()),
        scalable_dimension: dimension(),
        start_time: action.start_ms.map(seconds),
        end_time: action.end_ms.map(seconds),
        scalable_target_action: Some(wire::ScalableTargetAction {
            min_capacity: action.min_capacity.map(|min| min as i32),
            max_capacity: action.max_capacity.map(|max| max as i32),
        }),
        creation_time: Some(seconds(action.created_ms)),
    }
}

fn names(names: Option<Vec<String>>, field: &str) -> AutoScalingApiResult<Vec<String>> {
    let names = names.unwrap_or_default();
    if names.len() > 50 {
        return Err(AutoScalingApiError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to 50"
        )));
    }
    Ok(names)
}

pub async fn describe_scheduled_actions(
    api: &Api,
    request: wire::DescribeScheduledActionsRequest,
) -> AutoScalingApiResult<wire::DescribeScheduledActionsResponse> {
    let target = describe_filter(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let names = names(request.scheduled_action_names, "scheduledActionNames")?;
    let actions = api.control.describe_scheduled_actions(target.as_ref(), &names);
    let (actions, next_token) = page(actions, request.next_token.as_deref(), request.max_results)?;
    Ok(wire::DescribeScheduledActionsResponse {
        scheduled_actions: Some(actions.into_iter().map(render_action).collect()),
        next_token,
    })
}

pub async fn delete_scheduled_action(
    api: &Api,
    request: wire::DeleteScheduledActionRequest,
) -> AutoScalingApiResult<wire::DeleteScheduledActionResponse> {
    let key = target_key(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    api.control.delete_scheduled_action(key, required(request.scheduled_action_name, "ScheduledActionName")?).await?;
    Ok(wire::DeleteScheduledActionResponse {})
}

fn render_activity(activity: ActivityRecord) -> wire::ScalingActivity {
    wire::ScalingActivity {
        activity_id: Some(activity.id),
        service_namespace: namespace(),
        resource_id: Some(activity.target.resource_id()),
        scalable_dimension: dimension(),
        description: Some(activity.description),
        cause: Some(activity.cause),
        start_time: Some(seconds(activity.start_ms)),
        end_time: activity.end_ms.map(seconds),
        status_code: wire::ScalingActivityStatusCode::parse(activity.status.as_str()),
        status_message: activity.status_message,
        details: None,
        not_scaled_reasons: None,
    }
}

pub async fn describe_scaling_activities(
    api: &Api,
    request: wire::DescribeScalingActivitiesRequest,
) -> AutoScalingApiResult<wire::DescribeScalingActivitiesResponse> {
    let target = describe_filter(request.service_namespace, request.resource_id, request.scalable_dimension)?;
    let activities = api.control.describe_scaling_activities(target.as_ref());
    let (activities, next_token) = page(activities, request.next_token.as_deref(), request.max_results)?;
    Ok(wire::DescribeScalingActivitiesResponse {
        scaling_activities: Some(activities.into_iter().map(render_activity).collect()),
        next_token,
    })
}
