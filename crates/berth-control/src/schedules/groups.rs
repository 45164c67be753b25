//! Schedule groups (CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup with its
//! schedules, ListScheduleGroups) and their tags, the only taggable Scheduler resource.

use super::actions::check_name;
use super::records::{ScheduleGroupRecord, ScheduleRecord};
use super::{ScheduleChange, SchedulerError, SchedulerErrorKind, DEFAULT_GROUP};
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;

/// Groups an account may have besides `default` (AWS's default quota).
pub const MAX_GROUPS: usize = 500;
/// Tags a group may carry (the model's limit).
pub const MAX_TAGS: usize = 200;

/// A group as Get and List show it.
#[derive(Debug, Clone)]
pub struct ScheduleGroupView {
    pub arn: String,
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

fn check_tags(tags: &[(String, String)]) -> Result<(), SchedulerError> {
    if tags.len() > MAX_TAGS {
        return Err(SchedulerError::validation(format!("A resource can have at most {MAX_TAGS} tags.")));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(SchedulerError::validation(format!("Tag key '{key}' must be 1 to 128 characters long.")));
        }
        if value.is_empty() || value.chars().count() > 256 {
            return Err(SchedulerError::validation(format!(
                "The value of tag '{key}' must be 1 to 256 characters long."
            )));
        }
        if key.starts_with("aws:") {
            return Err(SchedulerError::validation(format!("Tag key '{key}' uses the reserved prefix aws:.")));
        }
    }
    Ok(())
}

impl ControlPlane {
    pub fn schedule_group_arn(&self, name: &str) -> String {
        let context = self.arn_context();
        format!("arn:aws:scheduler:{}:{}:schedule-group/{name}", context.region, context.account)
    }

    /// The group an ARN of `schedule-group/NAME` names in this account and region.
    fn group_of_arn(&self, arn: &str) -> Result<String, SchedulerError> {
        let prefix = self.schedule_group_arn("");
        arn.strip_prefix(&prefix).filter(|name| check_name("resourceArn", name).is_ok()).map(str::to_string).ok_or_else(
            || {
                SchedulerError::validation(format!(
                    "ResourceArn {arn} is not a schedule group ARN of this account and region ({prefix}NAME)."
                ))
            },
        )
    }

    pub async fn create_schedule_group(
        &self,
        name: String,
        tags: Vec<(String, String)>,
        client_token: Option<String>,
    ) -> ControlResult<String> {
        check_name("name", &name)?;
        check_tags(&tags)?;
        let arn = self.schedule_group_arn(&name);
        self.mutate(|state| {
            let groups = &state.schedules.groups;
            if let Some(existing) = groups.get(&name) {
                if client_token.is_some() && existing.client_token == client_token {
                    return Ok((vec![], arn.clone()));
                }
            }
            if state.schedules.group_exists(&name) {
                return Err(SchedulerError::new(
                    SchedulerErrorKind::Conflict,
                    format!("Schedule group {name} already exists."),
                )
                .into());
            }
            if groups.len() >= MAX_GROUPS {
                return Err(SchedulerError::new(
                    SchedulerErrorKind::ServiceQuotaExceeded,
                    format!("The account has reached its quota of {MAX_GROUPS} schedule groups."),
                )
                .into());
            }
            let now = Timestamp::now().0;
            let record = ScheduleGroupRecord {
                name: name.clone(),
                created_ms: now,
                modified_ms: now,
                tags: tags.clone(),
                client_token: client_token.clone(),
            };
            Ok((vec![Change::Schedule(ScheduleChange::PutGroup(Box::new(record)))], arn.clone()))
        })
        .await
    }

    fn group_view(&self, record: Option<&ScheduleGroupRecord>, name: &str) -> ScheduleGroupView {
        // `default` is not stored: it has always existed.
        let (created_ms, modified_ms) = record.map(|record| (record.created_ms, record.modified_ms)).unwrap_or((0, 0));
        ScheduleGroupView { arn: self.schedule_group_arn(name), name: name.to_string(), created_ms, modified_ms }
    }

    pub fn get_schedule_group(&self, name: &str) -> ControlResult<ScheduleGroupView> {
        check_name("name", name)?;
        let state = self.read();
        if !state.schedules.group_exists(name) {
            return Err(SchedulerError::group_not_found(name).into());
        }
        Ok(self.group_view(state.schedules.groups.get(name), name))
    }

    /// DeleteScheduleGroup: the group and every schedule in it, in one write.
    pub async fn delete_schedule_group(&self, name: &str) -> ControlResult<()> {
        check_name("name", name)?;
        if name == DEFAULT_GROUP {
            return Err(SchedulerError::validation("The default schedule group cannot be deleted.").into());
        }
        self.mutate(|state| {
            if !state.schedules.groups.contains_key(name) {
                return Err(SchedulerError::group_not_found(name).into());
            }
            let prefix = ScheduleRecord::key(name, "");
            let mut changes: Vec<Change> = state
                .schedules
                .schedules
                .range(prefix.clone()..)
                .take_while(|(key, _)| key.starts_with(&prefix))
                .map(|(key, _)| Change::Schedule(ScheduleChange::DeleteSchedule(key.clone())))
                .collect();
            changes.push(Change::Schedule(ScheduleChange::DeleteGroup(name.to_string())));
            Ok((changes, ()))
        })
        .await
    }

    /// ListScheduleGroups in name order, `default` among them; the token is the last name.
    pub fn list_schedule_groups(
        &self,
        name_prefix: Option<&str>,
        next_token: Option<&str>,
        max_results: usize,
    ) -> ControlResult<(Vec<ScheduleGroupView>, Option<String>)> {
        if let Some(prefix) = name_prefix {
            check_name("namePrefix", prefix)?;
        }
        if let Some(token) = next_token {
            check_name("nextToken", token).map_err(|_| SchedulerError::validation("The NextToken is not valid."))?;
        }
        let state = self.read();
        let mut names: Vec<&str> = state.schedules.groups.keys().map(String::as_str).collect();
        names.push(DEFAULT_GROUP);
        names.sort_unstable();
        let mut page = Vec::new();
        let mut more = false;
        for name in names {
            if next_token.is_some_and(|token| name <= token)
                || name_prefix.is_some_and(|prefix| !name.starts_with(prefix))
            {
                continue;
            }
            if page.len() == max_results {
                more = true;
                break;
            }
            page.push(self.group_view(state.schedules.groups.get(name), name));
        }
        let token = if more { page.last().map(|view| view.name.clone()) } else { None };
        Ok((page, token))
    }

    pub fn list_schedule_group_tags(&self, arn: &str) -> ControlResult<Vec<(String, String)>> {
        let name = self.group_of_arn(arn)?;
        let state = self.read();
        if !state.schedules.group_exists(&name) {
            return Err(SchedulerError::group_not_found(&name).into());
        }
        Ok(state.schedules.groups.get(&name).map(|group| group.tags.clone()).unwrap_or_default())
    }

    /// TagResource (`add`) and UntagResource (`remove`) on a schedule group.
    pub async fn tag_schedule_group(
        &self,
        arn: &str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ControlResult<()> {
        let name = self.group_of_arn(arn)?;
        check_tags(&add)?;
        self.mutate(|state| {
            if name == DEFAULT_GROUP {
                return Err(SchedulerError::validation("The default schedule group cannot be tagged.").into());
            }
            let mut group =
                state.schedules.groups.get(&name).cloned().ok_or_else(|| SchedulerError::group_not_found(&name))?;
            group.tags.retain(|(key, _)| !remove.contains(key) && !add.iter().any(|(added, _)| added == key));
            group.tags.extend(add.iter().cloned());
            check_tags(&group.tags)?;
            group.modified_ms = Timestamp::now().0;
            Ok((vec![Change::Schedule(ScheduleChange::PutGroup(Box::new(group)))], ()))
        })
        .await
    }
}
