//! Resource tags as ECS accepts them on every taggable resource: at most 50, keys of 1 to 128
//! characters, values of 0 to 256, unique keys, and no keys in the reserved `aws:` namespace.
//! ECS reports tag problems as `InvalidParameterException`.

use crate::error::ValidationError;
use berth_ecs_wire as wire;
use berth_types::Tag;
use std::collections::BTreeSet;

pub const MAX_TAGS_PER_RESOURCE: usize = 50;
const MAX_TAG_KEY_CHARACTERS: usize = 128;
const MAX_TAG_VALUE_CHARACTERS: usize = 256;
const RESERVED_TAG_PREFIX: &str = "aws:";

/// Validates the request's tags; an absent list is no tags. A tag without a value gets "".
pub fn parse_tags(tags: Option<&Vec<wire::Tag>>) -> Result<Vec<Tag>, ValidationError> {
    let Some(tags) = tags else {
        return Ok(Vec::new());
    };
    if tags.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ValidationError::invalid_parameter(
            "tags",
            format!("A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; the request has {}.", tags.len()),
        ));
    }
    let mut seen_keys = BTreeSet::new();
    let mut parsed = Vec::with_capacity(tags.len());
    for (index, tag) in tags.iter().enumerate() {
        let key = tag.key.as_deref().unwrap_or_default();
        let value = tag.value.as_deref().unwrap_or_default();
        check_key(&format!("tags[{index}].key"), key)?;
        check_value(&format!("tags[{index}].value"), value)?;
        if !seen_keys.insert(key) {
            return Err(ValidationError::invalid_parameter(
                format!("tags[{index}].key"),
                format!("Duplicate tag key '{key}'; tag keys must be unique."),
            ));
        }
        parsed.push(Tag { key: key.to_string(), value: value.to_string() });
    }
    Ok(parsed)
}

fn check_key(field: &str, key: &str) -> Result<(), ValidationError> {
    let length = key.chars().count();
    if length == 0 || length > MAX_TAG_KEY_CHARACTERS {
        return Err(ValidationError::invalid_parameter(
            field,
            format!("Tag keys must be between 1 and {MAX_TAG_KEY_CHARACTERS} characters long; got {length}."),
        ));
    }
    if !has_only_tag_characters(key) {
        return Err(ValidationError::invalid_parameter(field, format!("Tag key '{key}' contains invalid characters.")));
    }
    // AWS reserves the prefix in any letter case.
    let is_reserved =
        key.get(..RESERVED_TAG_PREFIX.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_TAG_PREFIX));
    if is_reserved {
        return Err(ValidationError::invalid_parameter(
            field,
            format!("Tag key '{key}' is invalid: tag keys starting with 'aws:' are reserved for internal use."),
        ));
    }
    Ok(())
}

fn check_value(field: &str, value: &str) -> Result<(), ValidationError> {
    let length = value.chars().count();
    if length > MAX_TAG_VALUE_CHARACTERS {
        return Err(ValidationError::invalid_parameter(
            field,
            format!("Tag values must be at most {MAX_TAG_VALUE_CHARACTERS} characters long; got {length}."),
        ));
    }
    if !has_only_tag_characters(value) {
        return Err(ValidationError::invalid_parameter(
            field,
            format!("Tag value '{value}' contains invalid characters."),
        ));
    }
    Ok(())
}

/// Letters and digits of any script, spaces, and `_ . : / = + - @`, as AWS tagging allows.
fn has_only_tag_characters(text: &str) -> bool {
    text.chars().all(|character| character.is_alphanumeric() || character == ' ' || "_.:/=+-@".contains(character))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ValidationErrorKind;

    fn wire_tag(key: &str, value: Option<&str>) -> wire::Tag {
        wire::Tag { key: Some(key.into()), value: value.map(Into::into) }
    }

    fn error_for(tags: Vec<wire::Tag>) -> String {
        let error = parse_tags(Some(&tags)).unwrap_err();
        assert_eq!(error.kind, ValidationErrorKind::InvalidParameter);
        error.message
    }

    #[test]
    fn parses_tags_in_order_and_defaults_missing_values() {
        let tags =
            vec![wire_tag("team", Some("core")), wire_tag("empty", None), wire_tag("ünï côdé", Some("a:b/c=d+e-f@g"))];
        let parsed = parse_tags(Some(&tags)).unwrap();
        assert_eq!(parsed[0], Tag { key: "team".into(), value: "core".into() });
        assert_eq!(parsed[1].value, "");
        assert_eq!(parsed.len(), 3);
        assert!(parse_tags(None).unwrap().is_empty());
    }

    #[test]
    fn limits_count_and_lengths() {
        let fifty: Vec<_> = (0..50).map(|number| wire_tag(&format!("k{number}"), Some("v"))).collect();
        assert_eq!(parse_tags(Some(&fifty)).unwrap().len(), 50);
        let fifty_one: Vec<_> = (0..51).map(|number| wire_tag(&format!("k{number}"), Some("v"))).collect();
        assert!(error_for(fifty_one).starts_with("tags: A resource can have at most 50 tags"));
        assert!(error_for(vec![wire_tag("", Some("v"))]).starts_with("tags[0].key:"));
        assert!(parse_tags(Some(&vec![wire_tag(&"k".repeat(128), Some(&"v".repeat(256)))])).is_ok());
        assert!(error_for(vec![wire_tag(&"k".repeat(129), None)]).starts_with("tags[0].key:"));
        assert!(
            error_for(vec![wire_tag("a", None), wire_tag("k", Some(&"v".repeat(257)))]).starts_with("tags[1].value:")
        );
    }

    #[test]
    fn rejects_duplicates_reserved_prefix_and_odd_characters() {
        assert!(
            error_for(vec![wire_tag("a", None), wire_tag("a", None)]).contains("tags[1].key: Duplicate tag key 'a'")
        );
        for reserved in ["aws:name", "AWS:name", "Aws:x"] {
            assert!(error_for(vec![wire_tag(reserved, None)]).contains("reserved for internal use"));
        }
        assert!(parse_tags(Some(&vec![wire_tag("awsome", None)])).is_ok());
        assert!(error_for(vec![wire_tag("semi;colon", None)]).contains("invalid characters"));
        assert!(error_for(vec![wire_tag("k", Some("new\nline"))]).starts_with("tags[0].value:"));
    }
}
