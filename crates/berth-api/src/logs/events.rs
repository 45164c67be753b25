//! PutLogEvents, GetLogEvents and FilterLogEvents.

use super::{required, LogsResult};
use crate::Api;
use berth_control::logs::events::{FilterRead, InputEvent, StreamRead};
use berth_control::logs::names::one_group;
use berth_logs_wire as wire;

pub async fn put_log_events(api: &Api, request: wire::PutLogEventsRequest) -> LogsResult<wire::PutLogEventsResponse> {
    let group = required(request.log_group_name, "logGroupName")?;
    let stream = required(request.log_stream_name, "logStreamName")?;
    let events = required(request.log_events, "logEvents")?
        .into_iter()
        .map(|event| {
            Ok(InputEvent {
                timestamp: required(event.timestamp, "logEvents.timestamp")?,
                message: required(event.message, "logEvents.message")?,
            })
        })
        .collect::<LogsResult<Vec<_>>>()?;
    // The sequence token is ignored, as CloudWatch has ignored it since 2023.
    let rejected = api.control.put_log_events(&group, &stream, events).await?;
    let index = |value: Option<usize>| value.map(|index| index as i32);
    let info = (rejected != Default::default()).then(|| wire::RejectedLogEventsInfo {
        too_new_log_event_start_index: index(rejected.too_new_start),
        too_old_log_event_end_index: index(rejected.too_old_end),
        expired_log_event_end_index: index(rejected.expired_end),
    });
    Ok(wire::PutLogEventsResponse {
        next_sequence_token: Some(uuid::Uuid::new_v4().simple().to_string()),
        rejected_log_events_info: info,
        ..wire::PutLogEventsResponse::default()
    })
}

pub async fn get_log_events(api: &Api, request: wire::GetLogEventsRequest) -> LogsResult<wire::GetLogEventsResponse> {
    let read = StreamRead {
        group: one_group(request.log_group_name, request.log_group_identifier)?,
        stream: required(request.log_stream_name, "logStreamName")?,
        start_time: request.start_time,
        end_time: request.end_time,
        token: request.next_token,
        limit: request.limit,
        start_from_head: request.start_from_head.unwrap_or(false),
    };
    let page = api.control.get_log_events(read).await?;
    let events = page
        .events
        .into_iter()
        .map(|event| wire::OutputLogEvent {
            timestamp: Some(event.key.timestamp),
            message: Some(event.message),
            ingestion_time: Some(event.ingestion_time),
        })
        .collect();
    Ok(wire::GetLogEventsResponse {
        events: Some(events),
        next_forward_token: Some(page.forward_token),
        next_backward_token: Some(page.backward_token),
    })
}

pub async fn filter_log_events(
    api: &Api,
    request: wire::FilterLogEventsRequest,
) -> LogsResult<wire::FilterLogEventsResponse> {
    let read = FilterRead {
        group: one_group(request.log_group_name, request.log_group_identifier)?,
        stream_names: request.log_stream_names,
        stream_prefix: request.log_stream_name_prefix,
        start_time: request.start_time,
        end_time: request.end_time,
        pattern: request.filter_pattern,
        token: request.next_token,
        limit: request.limit,
    };
    let page = api.control.filter_log_events(read).await?;
    let events = page
        .events
        .into_iter()
        .map(|found| wire::FilteredLogEvent {
            log_stream_name: Some(found.stream),
            timestamp: Some(found.event.key.timestamp),
            message: Some(found.event.message),
            ingestion_time: Some(found.event.ingestion_time),
            event_id: Some(found.event_id),
        })
        .collect();
    Ok(wire::FilterLogEventsResponse { events: Some(events), next_token: page.next_token, ..Default::default() })
}
