//! CreateLogStream, DeleteLogStream and DescribeLogStreams.

use super::groups::group;
use super::names::{check_group_name, check_stream_name, stream_arn};
use super::records::LogStreamRecord;
use super::{LogsChange, LogsError, LogsErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_log_store::StreamStats;
use berth_types::Timestamp;

/// A stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStreamView {
    pub record: LogStreamRecord,
    pub arn: String,
    pub stats: StreamStats,
}

/// DescribeLogStreams' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamOrder {
    #[default]
    Name,
    LastEventTime,
}

pub(crate) fn stream<'a>(state: &'a State, group_name: &str, name: &str) -> Result<&'a LogStreamRecord, LogsError> {
    group(state, group_name)?;
    state.logs.streams.get(&(group_name.to_string(), name.to_string())).ok_or_else(LogsError::stream_not_found)
}

/// The record of a new stream of `group`, numbered next.
pub(crate) fn new_stream(state: &State, group: &str, name: &str) -> LogStreamRecord {
    LogStreamRecord {
        group: group.to_string(),
        name: name.to_string(),
        id: state.logs.next_stream_id,
        created_at: Timestamp::now(),
    }
}

impl ControlPlane {
    pub async fn create_log_stream(&self, group_name: &str, name: &str) -> ControlResult<()> {
        check_group_name("logGroupName", group_name)?;
        check_stream_name("logStreamName", name)?;
        self.mutate(|state| {
            group(state, group_name)?;
            if state.logs.streams.contains_key(&(group_name.to_string(), name.to_string())) {
                return Err(LogsError::new(
                    LogsErrorKind::ResourceAlreadyExists,
                    "The specified log stream already exists",
                )
                .into());
            }
            let record = new_stream(state, group_name, name);
            Ok((vec![Change::Logs(LogsChange::PutStream(Box::new(record)))], ()))
        })
        .await
    }

    pub async fn delete_log_stream(&self, group_name: &str, name: &str) -> ControlResult<()> {
        check_group_name("logGroupName", group_name)?;
        check_stream_name("logStreamName", name)?;
        let id = self
            .mutate(|state| {
                let id = stream(state, group_name, name)?.id;
                let change = LogsChange::DeleteStream { group: group_name.to_string(), stream: name.to_string() };
                Ok((vec![Change::Logs(change)], id))
            })
            .await?;
        self.forget_stream_events(vec![id]).await
    }

    /// The group's streams whose names start with `prefix`, by name or by last event time
    /// (streams without events last), ascending unless `descending`.
    pub fn describe_log_streams(
        &self,
        group_name: &str,
        prefix: Option<&str>,
        order: StreamOrder,
        descending: bool,
    ) -> ControlResult<Vec<LogStreamView>> {
        if prefix.is_some() && order == StreamOrder::LastEventTime {
            return Err(LogsError::invalid("Cannot order by LastEventTime with a logStreamNamePrefix.").into());
        }
        let state = self.read();
        group(&state, group_name)?;
        let store = self.log_store();
        let mut views: Vec<LogStreamView> = state
            .logs
            .streams_of(group_name)
            .filter(|stream| prefix.is_none_or(|prefix| stream.name.starts_with(prefix)))
            .map(|stream| LogStreamView {
                record: stream.clone(),
                arn: stream_arn(self.arn_context(), group_name, &stream.name),
                stats: store.stats(stream.id),
            })
            .collect();
        if order == StreamOrder::LastEventTime {
            views.sort_by_key(|view| (view.stats.last_timestamp.unwrap_or(i64::MIN), view.record.name.clone()));
        }
        if descending {
            views.reverse();
        }
        Ok(views)
    }
}
