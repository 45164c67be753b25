//! CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup, ListScheduleGroups and the tag
//! operations (schedule groups are Scheduler's taggable resource).

use super::{page_size, seconds, SchedulerResult};
use crate::Api;
use berth_control::schedules::groups::ScheduleGroupView;
use berth_eventbridge_scheduler_wire as wire;

fn tags_of(tags: Option<Vec<wire::Tag>>) -> Vec<(String, String)> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|tag| (tag.key.unwrap_or_default(), tag.value.unwrap_or_default()))
        .collect()
}

pub async fn create_schedule_group(
    api: &Api,
    request: wire::CreateScheduleGroupInput,
) -> SchedulerResult<wire::CreateScheduleGroupOutput> {
    let arn = api
        .control
        .create_schedule_group(request.name.unwrap_or_default(), tags_of(request.tags), request.client_token)
        .await?;
    Ok(wire::CreateScheduleGroupOutput { schedule_group_arn: Some(arn) })
}

fn summary(view: ScheduleGroupView) -> wire::ScheduleGroupSummary {
    wire::ScheduleGroupSummary {
        arn: Some(view.arn),
        name: Some(view.name),
        state: Some(wire::ScheduleGroupState::Active),
        creation_date: Some(seconds(view.created_ms)),
        last_modification_date: Some(seconds(view.modified_ms)),
    }
}

pub async fn get_schedule_group(
    api: &Api,
    request: wire::GetScheduleGroupInput,
) -> SchedulerResult<wire::GetScheduleGroupOutput> {
    let group = summary(api.control.get_schedule_group(request.name.as_deref().unwrap_or_default())?);
    Ok(wire::GetScheduleGroupOutput {
        arn: group.arn,
        name: group.name,
        state: group.state,
        creation_date: group.creation_date,
        last_modification_date: group.last_modification_date,
    })
}

pub async fn delete_schedule_group(
    api: &Api,
    request: wire::DeleteScheduleGroupInput,
) -> SchedulerResult<wire::DeleteScheduleGroupOutput> {
    api.control.delete_schedule_group(request.name.as_deref().unwrap_or_default()).await?;
    Ok(wire::DeleteScheduleGroupOutput {})
}

pub async fn list_schedule_groups(
    api: &Api,
    request: wire::ListScheduleGroupsInput,
) -> SchedulerResult<wire::ListScheduleGroupsOutput> {
    let (groups, next_token) = api.control.list_schedule_groups(
        request.name_prefix.as_deref(),
        request.next_token.as_deref(),
        page_size(request.max_results),
    )?;
    Ok(wire::ListScheduleGroupsOutput { next_token, schedule_groups: Some(groups.into_iter().map(summary).collect()) })
}

pub async fn tag_resource(api: &Api, request: wire::TagResourceInput) -> SchedulerResult<wire::TagResourceOutput> {
    let arn = request.resource_arn.unwrap_or_default();
    api.control.tag_schedule_group(&arn, tags_of(request.tags), vec![]).await?;
    Ok(wire::TagResourceOutput {})
}

pub async fn untag_resource(
    api: &Api,
    request: wire::UntagResourceInput,
) -> SchedulerResult<wire::UntagResourceOutput> {
    let arn = request.resource_arn.unwrap_or_default();
    api.control.tag_schedule_group(&arn, vec![], request.tag_keys.unwrap_or_default()).await?;
    Ok(wire::UntagResourceOutput {})
}

pub async fn list_tags_for_resource(
    api: &Api,
    request: wire::ListTagsForResourceInput,
) -> SchedulerResult<wire::ListTagsForResourceOutput> {
    let tags = api.control.list_schedule_group_tags(request.resource_arn.as_deref().unwrap_or_default())?;
    let tags = tags.into_iter().map(|(key, value)| wire::Tag { key: Some(key), value: Some(value) }).collect();
    Ok(wire::ListTagsForResourceOutput { tags: Some(tags) })
}
