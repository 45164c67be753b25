//! Log groups, streams and tags: each operation turns its request shape into domain values,
//! calls `berth_control::logs` and renders the answer.

use super::{required, Empty, LogsApiError, LogsResult};
use crate::name_paging::PageError;
use crate::Api;
use berth_control::logs::groups::{GroupFilter, LogGroupView, NewLogGroup};
use berth_control::logs::names::one_group;
use berth_control::logs::streams::{LogStreamView, StreamOrder};
use berth_logs_wire as wire;
use berth_types::Tag;
use std::collections::BTreeMap;

/// Describe's paging: the token is the name of the last item of the previous page.
fn page<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
    token: Option<String>,
    limit: Option<i32>,
) -> LogsResult<(Vec<T>, Option<String>)> {
    crate::name_paging::by_name(items, name, token, limit, 50).map_err(|error| match error {
        PageError::Limit(limit) => LogsApiError::invalid(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50"
        )),
        PageError::Token => LogsApiError::invalid("The specified nextToken is invalid."),
    })
}

fn tags_of(tags: Option<BTreeMap<String, String>>) -> Vec<Tag> {
    tags.unwrap_or_default().into_iter().map(|(key, value)| Tag { key, value }).collect()
}

fn wire_tags(tags: Vec<Tag>) -> BTreeMap<String, String> {
    tags.into_iter().map(|tag| (tag.key, tag.value)).collect()
}

fn group_name(value: Option<String>) -> LogsResult<String> {
    Ok(one_group(Some(required(value, "logGroupName")?), None)?)
}

pub async fn create_log_group(api: &Api, request: wire::CreateLogGroupRequest) -> LogsResult<Empty> {
    let new = NewLogGroup {
        name: required(request.log_group_name, "logGroupName")?,
        kms_key_id: request.kms_key_id,
        class: request.log_group_class.map(|class| class.as_str().to_string()),
        deletion_protection: request.deletion_protection_enabled.unwrap_or(false),
        tags: tags_of(request.tags),
    };
    api.control.create_log_group(new).await?;
    Ok(Empty::new())
}

pub async fn delete_log_group(api: &Api, request: wire::DeleteLogGroupRequest) -> LogsResult<Empty> {
    api.control.delete_log_group(&group_name(request.log_group_name)?).await?;
    Ok(Empty::new())
}

fn render_group(view: LogGroupView) -> wire::LogGroup {
    let class = wire::LogGroupClass::ALL.iter().find(|class| class.as_str() == view.record.class).copied();
    wire::LogGroup {
        arn: Some(format!("{}:*", view.arn)),
        log_group_arn: Some(view.arn),
        creation_time: Some(view.record.created_at.0),
        retention_in_days: view.record.retention_days,
        metric_filter_count: Some(0),
        stored_bytes: Some(view.stored_bytes as i64),
        kms_key_id: view.record.kms_key_id,
        log_group_class: class,
        deletion_protection_enabled: Some(view.record.deletion_protection),
        log_group_name: Some(view.record.name),
        ..wire::LogGroup::default()
    }
}

pub async fn describe_log_groups(
    api: &Api,
    request: wire::DescribeLogGroupsRequest,
) -> LogsResult<wire::DescribeLogGroupsResponse> {
    let identifiers = request
        .log_group_identifiers
        .unwrap_or_default()
        .into_iter()
        .map(|identifier| berth_control::logs::names::group_from_identifier("logGroupIdentifiers", &identifier))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = GroupFilter {
        prefix: request.log_group_name_prefix,
        pattern: request.log_group_name_pattern,
        class: request.log_group_class.map(|class| class.as_str().to_string()),
        identifiers,
    };
    let views = api.control.describe_log_groups(&filter)?;
    let (views, next_token) = page(views, |view| view.record.name.as_str(), request.next_token, request.limit)?;
    let log_groups = views.into_iter().map(render_group).collect();
    Ok(wire::DescribeLogGroupsResponse { log_groups: Some(log_groups), next_token })
}

pub async fn put_retention_policy(api: &Api, request: wire::PutRetentionPolicyRequest) -> LogsResult<Empty> {
    let days = required(request.retention_in_days, "retentionInDays")?;
    api.control.put_retention_policy(&group_name(request.log_group_name)?, Some(days)).await?;
    Ok(Empty::new())
}

pub async fn delete_retention_policy(api: &Api, request: wire::DeleteRetentionPolicyRequest) -> LogsResult<Empty> {
    api.control.put_retention_policy(&group_name(request.log_group_name)?, None).await?;
    Ok(Empty::new())
}

pub async fn create_log_stream(api: &Api, request: wire::CreateLogStreamRequest) -> LogsResult<Empty> {
    let stream = required(request.log_stream_name, "logStreamName")?;
    api.control.create_log_stream(&group_name(request.log_group_name)?, &stream).await?;
    Ok(Empty::new())
}

pub async fn delete_log_stream(api: &Api, request: wire::DeleteLogStreamRequest) -> LogsResult<Empty> {
    let stream = required(request.log_stream_name, "logStreamName")?;
    api.control.delete_log_stream(&group_name(request.log_group_name)?, &stream).await?;
    Ok(Empty::new())
}

fn render_stream(view: LogStreamView) -> wire::LogStream {
    wire::LogStream {
        log_stream_name: Some(view.record.name),
        creation_time: Some(view.record.created_at.0),
        first_event_timestamp: view.stats.first_timestamp,
        last_event_timestamp: view.stats.last_timestamp,
        last_ingestion_time: view.stats.last_ingestion_time,
        arn: Some(view.arn),
        // Deprecated by CloudWatch, which answers 0.
        stored_bytes: Some(0),
        ..wire::LogStream::default()
    }
}

pub async fn describe_log_streams(
    api: &Api,
    request: wire::DescribeLogStreamsRequest,
) -> LogsResult<wire::DescribeLogStreamsResponse> {
    let group = one_group(request.log_group_name, request.log_group_identifier)?;
    let order = match request.order_by {
        Some(wire::OrderBy::LastEventTime) => StreamOrder::LastEventTime,
        _ => StreamOrder::Name,
    };
    let views = api.control.describe_log_streams(
        &group,
        request.log_stream_name_prefix.as_deref(),
        order,
        request.descending.unwrap_or(false),
    )?;
    let (views, next_token) = page(views, |view| view.record.name.as_str(), request.next_token, request.limit)?;
    Ok(wire::DescribeLogStreamsResponse {
        log_streams: Some(views.into_iter().map(render_stream).collect()),
        next_token,
    })
}

fn arn_group(api: &Api, arn: Option<String>) -> LogsResult<String> {
    Ok(api.control.log_group_of_arn(&required(arn, "resourceArn")?)?)
}

pub async fn tag_resource(api: &Api, request: wire::TagResourceRequest) -> LogsResult<Empty> {
    let group = arn_group(api, request.resource_arn)?;
    api.control.tag_log_group(&group, tags_of(request.tags)).await?;
    Ok(Empty::new())
}

pub async fn untag_resource(api: &Api, request: wire::UntagResourceRequest) -> LogsResult<Empty> {
    let group = arn_group(api, request.resource_arn)?;
    api.control.untag_log_group(&group, required(request.tag_keys, "tagKeys")?).await?;
    Ok(Empty::new())
}

pub async fn list_tags_for_resource(
    api: &Api,
    request: wire::ListTagsForResourceRequest,
) -> LogsResult<wire::ListTagsForResourceResponse> {
    let group = arn_group(api, request.resource_arn)?;
    Ok(wire::ListTagsForResourceResponse { tags: Some(wire_tags(api.control.log_group_tags(&group)?)) })
}

pub async fn tag_log_group(api: &Api, request: wire::TagLogGroupRequest) -> LogsResult<Empty> {
    api.control.tag_log_group(&group_name(request.log_group_name)?, tags_of(request.tags)).await?;
    Ok(Empty::new())
}

pub async fn untag_log_group(api: &Api, request: wire::UntagLogGroupRequest) -> LogsResult<Empty> {
    api.control.untag_log_group(&group_name(request.log_group_name)?, required(request.tags, "tags")?).await?;
    Ok(Empty::new())
}

pub async fn list_tags_log_group(
    api: &Api,
    request: wire::ListTagsLogGroupRequest,
) -> LogsResult<wire::ListTagsLogGroupResponse> {
    let tags = api.control.log_group_tags(&group_name(request.log_group_name)?)?;
    Ok(wire::ListTagsLogGroupResponse { tags: Some(wire_tags(tags)) })
}
