//! TagResource, UntagResource and ListTagsForResource on alarms, named by ARN (the only
//! CloudWatch resources Berth keeps).

use super::AlarmChange;
use crate::cloudwatch::datums::check_name;
use crate::cloudwatch::error::{MetricsError, MetricsErrorKind, MetricsResult};
use crate::state::{Change, State};
use crate::{ControlPlane, ControlResult};

const MAX_TAGS: usize = 50;

fn alarm_named_by<'a>(state: &'a State, arn: &str) -> MetricsResult<&'a super::records::AlarmRecord> {
    state.alarms.alarms.values().find(|alarm| alarm.arn == arn).ok_or_else(|| {
        MetricsError::new(MetricsErrorKind::ResourceNotFoundException, format!("The resource {arn} does not exist."))
    })
}

impl ControlPlane {
    pub fn alarm_tags(&self, arn: &str) -> ControlResult<Vec<(String, String)>> {
        Ok(alarm_named_by(&self.read(), arn)?.config.tags.clone())
    }

    /// Adds or overwrites `tags` on the alarm `arn`.
    pub async fn tag_alarm(&self, arn: String, tags: Vec<(Option<String>, Option<String>)>) -> ControlResult<()> {
        let tags = tags
            .into_iter()
            .enumerate()
            .map(|(index, (key, value))| {
                let field = format!("Tags.member.{}", index + 1);
                let key = check_name(key, &format!("{field}.Key"), 128)?;
                let value = value.ok_or_else(|| MetricsError::missing(&format!("{field}.Value")))?;
                Ok((key, value))
            })
            .collect::<MetricsResult<Vec<_>>>()?;
        self.mutate(move |state| {
            let mut alarm = alarm_named_by(state, &arn)?.clone();
            for (key, value) in tags {
                match alarm.config.tags.iter_mut().find(|(known, _)| *known == key) {
                    Some(existing) => existing.1 = value,
                    None => alarm.config.tags.push((key, value)),
                }
            }
            if alarm.config.tags.len() > MAX_TAGS {
                return Err(MetricsError::new(
                    MetricsErrorKind::LimitExceeded,
                    format!("An alarm may have at most {MAX_TAGS} tags."),
                )
                .into());
            }
            Ok((vec![Change::Alarm(AlarmChange::Put(Box::new(alarm)))], ()))
        })
        .await
    }

    pub async fn untag_alarm(&self, arn: String, keys: Vec<String>) -> ControlResult<()> {
        self.mutate(move |state| {
            let mut alarm = alarm_named_by(state, &arn)?.clone();
            alarm.config.tags.retain(|(key, _)| !keys.contains(key));
            Ok((vec![Change::Alarm(AlarmChange::Put(Box::new(alarm)))], ()))
        })
        .await
    }
}
