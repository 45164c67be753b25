//! Tags of scalable targets (the only resource Application Auto Scaling tags): TagResource,
//! UntagResource, ListTagsForResource, and the limits RegisterScalableTarget shares.

use super::error::{AutoScalingError, AutoScalingErrorKind, AutoScalingResult};
use super::AutoScalingChange;
use crate::state::{Change, State};
use crate::{ControlPlane, ControlResult};
use std::collections::BTreeMap;

pub const MAX_TAGS: usize = 50;

pub(crate) fn too_many(arn: &str) -> AutoScalingError {
    AutoScalingError::new(
        AutoScalingErrorKind::TooManyTags,
        format!("The resource {arn} would have more than {MAX_TAGS} tags."),
    )
}

pub fn check_tags(tags: &BTreeMap<String, String>) -> AutoScalingResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(AutoScalingError::new(
            AutoScalingErrorKind::TooManyTags,
            format!("Tags must have at most {MAX_TAGS} members, not {}.", tags.len()),
        ));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(AutoScalingError::constraint("tags.key", key, "Member must have length between 1 and 128"));
        }
        if key.starts_with("aws:") {
            return Err(AutoScalingError::validation(format!(
                "Tag key {key} is reserved: keys may not begin with aws:."
            )));
        }
        if value.chars().count() > 256 {
            return Err(AutoScalingError::constraint(
                &format!("tags.{key}"),
                value,
                "Member must have length less than or equal to 256",
            ));
        }
    }
    Ok(())
}

fn target_by_arn<'a>(state: &'a State, arn: &str) -> AutoScalingResult<&'a super::records::ScalableTargetRecord> {
    state.autoscaling.targets.values().find(|target| target.arn == arn).ok_or_else(|| {
        AutoScalingError::new(
            AutoScalingErrorKind::ResourceNotFound,
            format!("Scalable target with ARN {arn} doesn't exist."),
        )
    })
}

impl ControlPlane {
    pub async fn tag_scalable_target(&self, arn: String, tags: BTreeMap<String, String>) -> ControlResult<()> {
        check_tags(&tags)?;
        self.mutate(|state| {
            let mut target = target_by_arn(state, &arn)?.clone();
            target.tags.extend(tags.clone());
            if target.tags.len() > MAX_TAGS {
                return Err(too_many(&arn).into());
            }
            Ok((vec![Change::AutoScaling(AutoScalingChange::PutTarget(Box::new(target)))], ()))
        })
        .await
    }

    pub async fn untag_scalable_target(&self, arn: String, keys: Vec<String>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut target = target_by_arn(state, &arn)?.clone();
            for key in &keys {
                target.tags.remove(key);
            }
            Ok((vec![Change::AutoScaling(AutoScalingChange::PutTarget(Box::new(target)))], ()))
        })
        .await
    }

    pub fn scalable_target_tags(&self, arn: &str) -> ControlResult<BTreeMap<String, String>> {
        Ok(target_by_arn(&self.read(), arn)?.tags.clone())
    }
}
