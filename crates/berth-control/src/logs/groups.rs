//! CreateLogGroup, DeleteLogGroup, DescribeLogGroups, Put/DeleteRetentionPolicy and the tags of
//! log groups.

use super::names::{check_group_name, check_retention, group_arn, MAX_TAGS};
use super::records::LogGroupRecord;
use super::{LogsChange, LogsError, LogsErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::{Tag, Timestamp};

/// CreateLogGroup's input, checked by the caller's decoding except where noted.
#[derive(Debug, Clone, Default)]
pub struct NewLogGroup {
    pub name: String,
    pub kms_key_id: Option<String>,
    pub class: Option<String>,
    pub deletion_protection: bool,
    pub tags: Vec<Tag>,
}

/// A group as DescribeLogGroups shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupView {
    pub record: LogGroupRecord,
    pub arn: String,
    pub stored_bytes: u64,
}

/// DescribeLogGroups' filters.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub prefix: Option<String>,
    /// A case-insensitive substring of the name.
    pub pattern: Option<String>,
    pub class: Option<String>,
    /// Names (or ARNs, read as names) to show, when given.
    pub identifiers: Vec<String>,
}

pub(crate) fn group<'a>(state: &'a State, name: &str) -> Result<&'a LogGroupRecord, LogsError> {
    state.logs.groups.get(name).ok_or_else(LogsError::group_not_found)
}

pub(crate) fn check_tags(tags: &[Tag], existing: &[Tag]) -> Result<Vec<Tag>, LogsError> {
    let mut merged = existing.to_vec();
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 || tag.key.starts_with("aws:") {
            return Err(LogsError::invalid(format!("Invalid tag key: {}", tag.key)));
        }
        if tag.value.chars().count() > 256 {
            return Err(LogsError::invalid(format!("The value of tag {} is longer than 256 characters.", tag.key)));
        }
        merged.retain(|have| have.key != tag.key);
        merged.push(tag.clone());
    }
    if merged.len() > MAX_TAGS {
        return Err(LogsError::new(
            LogsErrorKind::TooManyTags,
            format!("A log group can have at most {MAX_TAGS} tags."),
        ));
    }
    merged.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(merged)
}

impl ControlPlane {
    pub async fn create_log_group(&self, new: NewLogGroup) -> ControlResult<()> {
        check_group_name("logGroupName", &new.name)?;
        let tags = check_tags(&new.tags, &[])?;
        self.mutate(move |state| {
            if state.logs.groups.contains_key(&new.name) {
                return Err(LogsError::new(
                    LogsErrorKind::ResourceAlreadyExists,
                    "The specified log group already exists",
                )
                .into());
            }
            let record = LogGroupRecord {
                name: new.name,
                created_at: Timestamp::now(),
                retention_days: None,
                kms_key_id: new.kms_key_id,
                class: new.class.unwrap_or_else(|| "STANDARD".to_string()),
                deletion_protection: new.deletion_protection,
                tags,
            };
            Ok((vec![Change::Logs(LogsChange::PutGroup(Box::new(record)))], ()))
        })
        .await
    }

    /// Deletes the group, its streams and their events.
    pub async fn delete_log_group(&self, name: &str) -> ControlResult<()> {
        check_group_name("logGroupName", name)?;
        let streams = self
            .mutate(|state| {
                let record = group(state, name)?;
                if record.deletion_protection {
                    return Err(LogsError::new(
                        LogsErrorKind::Validation,
                        "Log group deletion protection is enabled. Disable deletion protection before deleting the log group.",
                    )
                    .into());
                }
                let streams: Vec<u64> = state.logs.streams_of(name).map(|stream| stream.id).collect();
                let mut changes: Vec<Change> = state
                    .logs
                    .streams_of(name)
                    .map(|stream| Change::Logs(LogsChange::DeleteStream { group: name.to_string(), stream: stream.name.clone() }))
                    .collect();
                changes.push(Change::Logs(LogsChange::DeleteGroup(name.to_string())));
                Ok((changes, streams))
            })
            .await?;
        self.forget_stream_events(streams).await
    }

    /// Removes the events of streams whose records are gone. A crash before this finishes
    /// leaves events the next start-up sweeps.
    pub(crate) async fn forget_stream_events(&self, streams: Vec<u64>) -> ControlResult<()> {
        let store = self.log_store();
        tokio::task::spawn_blocking(move || streams.into_iter().try_for_each(|stream| store.delete_stream(stream)))
            .await
            .map_err(|_| {
                LogsError::new(LogsErrorKind::ServiceUnavailable, "The log store is unavailable; retry the request.")
            })?
            .map_err(LogsError::from)?;
        Ok(())
    }

    pub fn describe_log_groups(&self, filter: &GroupFilter) -> ControlResult<Vec<LogGroupView>> {
        if filter.prefix.is_some() && filter.pattern.is_some() {
            return Err(LogsError::invalid(
                "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.",
            )
            .into());
        }
        let state = self.read();
        let pattern = filter.pattern.as_ref().map(|pattern| pattern.to_lowercase());
        let store = self.log_store();
        let views = state
            .logs
            .groups
            .values()
            .filter(|group| filter.prefix.as_ref().is_none_or(|prefix| group.name.starts_with(prefix.as_str())))
            .filter(|group| pattern.as_ref().is_none_or(|pattern| group.name.to_lowercase().contains(pattern.as_str())))
            .filter(|group| filter.class.as_ref().is_none_or(|class| &group.class == class))
            .filter(|group| filter.identifiers.is_empty() || filter.identifiers.contains(&group.name))
            .map(|group| LogGroupView {
                record: group.clone(),
                arn: group_arn(self.arn_context(), &group.name),
                stored_bytes: state
                    .logs
                    .streams_of(&group.name)
                    .map(|stream| store.stats(stream.id).stored_bytes)
                    .sum(),
            })
            .collect();
        Ok(views)
    }

    pub async fn put_retention_policy(&self, name: &str, days: Option<i32>) -> ControlResult<()> {
        check_group_name("logGroupName", name)?;
        if let Some(days) = days {
            check_retention(days)?;
        }
        self.update_log_group(name, move |record| {
            record.retention_days = days;
            Ok(())
        })
        .await
    }

    pub async fn tag_log_group(&self, name: &str, tags: Vec<Tag>) -> ControlResult<()> {
        self.update_log_group(name, move |record| {
            record.tags = check_tags(&tags, &record.tags)?;
            Ok(())
        })
        .await
    }

    pub async fn untag_log_group(&self, name: &str, keys: Vec<String>) -> ControlResult<()> {
        self.update_log_group(name, move |record| {
            record.tags.retain(|tag| !keys.contains(&tag.key));
            Ok(())
        })
        .await
    }

    pub fn log_group_tags(&self, name: &str) -> ControlResult<Vec<Tag>> {
        Ok(group(&self.read(), name)?.tags.clone())
    }

    /// The group a tagging ARN names (`arn:…:log-group:NAME`, with or without `:*`).
    pub fn log_group_of_arn(&self, arn: &str) -> ControlResult<String> {
        let name = super::names::group_from_identifier("resourceArn", arn)?;
        if !arn.starts_with("arn:") {
            return Err(LogsError::invalid(format!("resourceArn is not an ARN: {arn}")).into());
        }
        group(&self.read(), &name)?;
        Ok(name)
    }

    async fn update_log_group(
        &self,
        name: &str,
        change: impl FnOnce(&mut LogGroupRecord) -> Result<(), LogsError>,
    ) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record = group(state, name)?.clone();
            change(&mut record)?;
            Ok((vec![Change::Logs(LogsChange::PutGroup(Box::new(record)))], ()))
        })
        .await
    }
}
