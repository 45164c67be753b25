//! AddTags, RemoveTags and DescribeTags over load balancers, target groups, listeners and rules.

use super::{arns, ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::Tag;

/// ELBv2's limit of tags per resource.
const MAX_TAGS: usize = 50;

/// Checks the tags a resource would carry after adding `added` to `existing`.
pub(crate) fn check_tags(added: &[Tag], existing: &[Tag]) -> Result<(), ElbError> {
    for (index, tag) in added.iter().enumerate() {
        if added[..index].iter().any(|earlier| earlier.key == tag.key) {
            return Err(ElbError::new(ElbErrorKind::DuplicateTagKeys, format!("Tag key '{}' is duplicated", tag.key)));
        }
        if tag.key.is_empty() || tag.key.len() > 128 || tag.value.len() > 256 || tag.key.starts_with("aws:") {
            return Err(ElbError::validation(format!("Tag key '{}' or its value is not valid", tag.key)));
        }
    }
    let total = existing.len() + added.iter().filter(|tag| !existing.iter().any(|old| old.key == tag.key)).count();
    if total > MAX_TAGS {
        return Err(ElbError::new(
            ElbErrorKind::TooManyTags,
            format!("You've reached the limit on the number of tags for this resource ({MAX_TAGS})"),
        ));
    }
    Ok(())
}

fn not_found(arn: &str) -> ElbError {
    let kind = if arn.contains(":targetgroup/") {
        ElbErrorKind::TargetGroupNotFound
    } else if arn.contains(":listener-rule/") {
        ElbErrorKind::RuleNotFound
    } else if arn.contains(":listener/") {
        ElbErrorKind::ListenerNotFound
    } else {
        ElbErrorKind::LoadBalancerNotFound
    };
    ElbError::new(kind, format!("Resource '{arn}' not found"))
}

fn tags_of<'a>(state: &'a State, arn: &str) -> Result<&'a Vec<Tag>, ElbError> {
    let elb = &state.elb;
    let found = elb
        .load_balancers
        .get(arn)
        .map(|record| &record.tags)
        .or_else(|| elb.target_groups.get(arn).map(|record| &record.tags))
        .or_else(|| elb.listeners.get(arn).map(|record| &record.tags))
        .or_else(|| elb.rules.get(arn).map(|record| &record.tags));
    match found {
        Some(tags) if arns::is_taggable(arn) => Ok(tags),
        _ => Err(not_found(arn)),
    }
}

/// The change that stores `arn` with `tags`.
fn with_tags(state: &State, arn: &str, tags: Vec<Tag>) -> Change {
    let elb = &state.elb;
    let change = if let Some(record) = elb.load_balancers.get(arn) {
        ElbChange::PutLoadBalancer(Box::new(super::records::LoadBalancerRecord { tags, ..record.clone() }))
    } else if let Some(record) = elb.target_groups.get(arn) {
        ElbChange::PutTargetGroup(Box::new(super::records::TargetGroupRecord { tags, ..record.clone() }))
    } else if let Some(record) = elb.listeners.get(arn) {
        ElbChange::PutListener(Box::new(super::records::ListenerRecord { tags, ..record.clone() }))
    } else {
        let record = &elb.rules[arn];
        ElbChange::PutRule(Box::new(super::records::RuleRecord { tags, ..record.clone() }))
    };
    Change::Elb(change)
}

impl ControlPlane {
    pub async fn add_elb_tags(&self, resource_arns: Vec<String>, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut changes = Vec::new();
            for arn in &resource_arns {
                let existing = tags_of(state, arn)?;
                check_tags(&tags, existing)?;
                let mut updated: Vec<Tag> =
                    existing.iter().filter(|old| !tags.iter().any(|tag| tag.key == old.key)).cloned().collect();
                updated.extend(tags.iter().cloned());
                changes.push(with_tags(state, arn, updated));
            }
            Ok((changes, ()))
        })
        .await
    }

    pub async fn remove_elb_tags(&self, resource_arns: Vec<String>, keys: Vec<String>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut changes = Vec::new();
            for arn in &resource_arns {
                let remaining = tags_of(state, arn)?.iter().filter(|tag| !keys.contains(&tag.key)).cloned().collect();
                changes.push(with_tags(state, arn, remaining));
            }
            Ok((changes, ()))
        })
        .await
    }

    pub fn describe_elb_tags(&self, resource_arns: &[String]) -> ControlResult<Vec<(String, Vec<Tag>)>> {
        let state = self.read();
        resource_arns.iter().map(|arn| Ok((arn.clone(), tags_of(&state, arn)?.clone()))).collect()
    }
}
