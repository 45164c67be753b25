//! AddTagsToCertificate, RemoveTagsFromCertificate and ListTagsForCertificate.

use super::certificates::certificate;
use super::records::CertificateRecord;
use super::{AcmChange, AcmError, AcmErrorKind};
use crate::error::ControlResult;
use crate::state::Change;
use crate::ControlPlane;
use berth_types::Tag;

/// ACM's limit of tags per certificate.
const MAX_TAGS: usize = 50;

/// A tag to remove: by key, and by value too when one is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagToRemove {
    pub key: String,
    pub value: Option<String>,
}

/// Checks the tags a certificate would carry after adding `added` to `existing`.
pub(crate) fn check_tags(added: &[Tag], existing: &[Tag]) -> Result<(), AcmError> {
    for tag in added {
        if tag.key.is_empty() || tag.key.len() > 128 || tag.value.len() > 256 {
            return Err(AcmError::new(
                AcmErrorKind::InvalidParameter,
                format!("Tag key '{}' or its value has an invalid length", tag.key),
            ));
        }
        if tag.key.starts_with("aws:") {
            return Err(AcmError::new(
                AcmErrorKind::InvalidTag,
                format!("Tag key '{}' uses the reserved prefix 'aws:'", tag.key),
            ));
        }
    }
    let total = existing.len() + added.iter().filter(|tag| !existing.iter().any(|old| old.key == tag.key)).count();
    if total > MAX_TAGS {
        return Err(AcmError::new(
            AcmErrorKind::TooManyTags,
            format!("A certificate can carry at most {MAX_TAGS} tags"),
        ));
    }
    Ok(())
}

fn with_tags(record: &CertificateRecord, tags: Vec<Tag>) -> Change {
    Change::Acm(AcmChange::PutCertificate(Box::new(CertificateRecord { tags, ..record.clone() })))
}

impl ControlPlane {
    pub async fn add_certificate_tags(&self, arn: &str, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(|state| {
            let record = certificate(state, arn)?;
            check_tags(&tags, &record.tags)?;
            let mut updated: Vec<Tag> =
                record.tags.iter().filter(|old| !tags.iter().any(|tag| tag.key == old.key)).cloned().collect();
            updated.extend(tags);
            Ok((vec![with_tags(record, updated)], ()))
        })
        .await
    }

    pub async fn remove_certificate_tags(&self, arn: &str, remove: Vec<TagToRemove>) -> ControlResult<()> {
        self.mutate(|state| {
            let record = certificate(state, arn)?;
            let removed = |tag: &Tag| {
                remove
                    .iter()
                    .any(|gone| gone.key == tag.key && gone.value.as_ref().is_none_or(|value| *value == tag.value))
            };
            let remaining: Vec<Tag> = record.tags.iter().filter(|tag| !removed(tag)).cloned().collect();
            if remaining.len() == record.tags.len() {
                return Ok((vec![], ()));
            }
            Ok((vec![with_tags(record, remaining)], ()))
        })
        .await
    }

    pub fn certificate_tags(&self, arn: &str) -> ControlResult<Vec<Tag>> {
        Ok(certificate(&self.read(), arn)?.tags.clone())
    }
}
