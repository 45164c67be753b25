//! The agents' awslogs channel (`berth_agent_protocol::logs`): a container's stream is opened
//! (made, with its group when the definition says `awslogs-create-group`) before the container
//! starts, then its lines arrive in batches. The log store's source position makes a batch
//! sent twice harmless.

use super::events::blocking;
use super::groups::group;
use super::names::{check_group_name, check_stream_name};
use super::records::LogGroupRecord;
use super::streams::{new_stream, stream};
use super::{LogsChange, LogsError};
use crate::error::ControlResult;
use crate::state::Change;
use crate::ControlPlane;
use berth_agent_protocol::logs::{LogBatch, LogPosition, OpenLogStream};
use berth_log_store::NewEvent;
use berth_types::Timestamp;

impl ControlPlane {
    pub async fn open_agent_log_stream(&self, open: OpenLogStream) -> ControlResult<LogPosition> {
        check_group_name("awslogs-group", &open.log_group)?;
        check_stream_name("awslogs-stream-prefix", &open.log_stream)?;
        let id = self
            .mutate(|state| {
                let mut changes = Vec::new();
                if group(state, &open.log_group).is_err() {
                    if !open.create_group {
                        return Err(LogsError::group_not_found().into());
                    }
                    let record = LogGroupRecord {
                        name: open.log_group.clone(),
                        created_at: Timestamp::now(),
                        retention_days: None,
                        kms_key_id: None,
                        class: "STANDARD".to_string(),
                        deletion_protection: false,
                        tags: Vec::new(),
                    };
                    changes.push(Change::Logs(LogsChange::PutGroup(Box::new(record))));
                }
                let key = (open.log_group.clone(), open.log_stream.clone());
                let id = match state.logs.streams.get(&key) {
                    Some(existing) => existing.id,
                    None => {
                        let record = new_stream(state, &open.log_group, &open.log_stream);
                        let id = record.id;
                        changes.push(Change::Logs(LogsChange::PutStream(Box::new(record))));
                        id
                    }
                };
                Ok((changes, id))
            })
            .await?;
        Ok(LogPosition { position_ns: self.log_store().stats(id).source_position_ns })
    }

    /// Stores the lines after the stream's position; answers the new position once durable.
    pub async fn ship_agent_logs(&self, batch: LogBatch) -> ControlResult<LogPosition> {
        let id = stream(&self.read(), &batch.log_group, &batch.log_stream)?.id;
        let position = self.log_store().stats(id).source_position_ns;
        let lines = batch.lines.len();
        let bytes: usize = batch.lines.iter().map(|line| line.message.len()).sum();
        let mut events = Vec::with_capacity(batch.lines.len() + 1);
        let first = batch.lines.first().map(|line| line.source_ns);
        if let (Some(gap), Some(first)) = (batch.gap_before, first) {
            // Said once: a resent batch starts at or before the position.
            if position.is_none_or(|position| first > position) {
                events.push(NewEvent { timestamp: first / 1_000_000, source_ns: None, message: gap });
            }
        }
        events.extend(batch.lines.into_iter().map(|line| NewEvent {
            timestamp: line.source_ns.div_euclid(1_000_000),
            source_ns: Some(line.source_ns),
            message: line.message,
        }));
        let tailed = self.live_tail().listening().then(|| crate::logs::live_tail::tailed(&events, position));
        let (group, stream_name) = (batch.log_group, batch.log_stream);
        let outcome = blocking(self.log_store(), move |store| store.append(id, events)).await?;
        self.metrics().agent_logs_received(lines, bytes, outcome.stored);
        if let Some(tailed) = tailed {
            self.live_tail().publish(&group, &stream_name, tailed);
        }
        Ok(LogPosition { position_ns: outcome.source_position_ns })
    }
}
