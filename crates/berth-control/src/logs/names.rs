//! Names, ARNs and limits as CloudWatch Logs documents them; every refusal names its field.

use super::LogsError;
use berth_types::ArnContext;

/// The retention periods PutRetentionPolicy accepts, in days.
pub const RETENTION_DAYS: [i32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// Tags a log group may carry.
pub const MAX_TAGS: usize = 50;

fn constraint(field: &str, value: &str, rule: &str) -> LogsError {
    LogsError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}

fn check_length(field: &str, value: &str, max: usize) -> Result<(), LogsError> {
    if value.is_empty() || value.chars().count() > max {
        return Err(constraint(field, value, &format!("Member must have length between 1 and {max}")));
    }
    Ok(())
}

pub fn check_group_name(field: &str, name: &str) -> Result<(), LogsError> {
    check_length(field, name, 512)?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')) {
        return Err(constraint(field, name, r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"));
    }
    Ok(())
}

pub fn check_stream_name(field: &str, name: &str) -> Result<(), LogsError> {
    check_length(field, name, 512)?;
    if name.contains([':', '*']) {
        return Err(constraint(field, name, "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

pub fn check_retention(days: i32) -> Result<(), LogsError> {
    if RETENTION_DAYS.contains(&days) {
        Ok(())
    } else {
        Err(constraint(
            "retentionInDays",
            &days.to_string(),
            &format!("Member must satisfy enum value set: {RETENTION_DAYS:?}"),
        ))
    }
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, as `logGroupArn` and the tagging operations
/// show it.
pub fn group_arn(context: &ArnContext, name: &str) -> String {
    format!("arn:aws:logs:{}:{}:log-group:{name}", context.region, context.account)
}

pub fn stream_arn(context: &ArnContext, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(context, group))
}

/// The group a `logGroupIdentifier` names: a name, or a group ARN with or without `:*`.
pub fn group_from_identifier(field: &str, identifier: &str) -> Result<String, LogsError> {
    let Some(rest) = identifier.strip_prefix("arn:") else {
        check_group_name(field, identifier)?;
        return Ok(identifier.to_string());
    };
    let parts: Vec<&str> = rest.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, "logs", _, _, "log-group", name] => {
            let name = name.strip_suffix(":*").unwrap_or(name);
            check_group_name(field, name)?;
            Ok(name.to_string())
        }
        _ => Err(LogsError::invalid(format!("{field} is not a log group name or ARN: {identifier}"))),
    }
}

/// Exactly one of `logGroupName` and `logGroupIdentifier`.
pub fn one_group(name: Option<String>, identifier: Option<String>) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(name), None) => {
            check_group_name("logGroupName", &name)?;
            Ok(name)
        }
        (None, Some(identifier)) => group_from_identifier("logGroupIdentifier", &identifier),
        (Some(_), Some(_)) => {
            Err(LogsError::invalid("LogGroupName and LogGroupIdentifier are mutually exclusive parameters."))
        }
        (None, None) => Err(LogsError::invalid("Either LogGroupName or LogGroupIdentifier is required.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_patterns() {
        assert!(check_group_name("logGroupName", "/ecs/web-app_1.#").is_ok());
        let error = check_group_name("logGroupName", "bad name").unwrap_err();
        assert!(error.message.contains("'logGroupName'"), "{}", error.message);
        assert!(check_group_name("logGroupName", "").is_err());
        assert!(check_group_name("logGroupName", &"a".repeat(513)).is_err());
        assert!(check_stream_name("logStreamName", "ecs/web/0123abcd").is_ok());
        assert!(check_stream_name("logStreamName", "a:b").is_err());
        assert!(check_retention(14).is_ok());
        assert!(check_retention(2).unwrap_err().message.contains("retentionInDays"));
    }

    #[test]
    fn identifiers_are_names_or_arns() {
        let name = |identifier: &str| group_from_identifier("logGroupIdentifier", identifier);
        assert_eq!(name("/ecs/web").unwrap(), "/ecs/web");
        assert_eq!(name("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*").unwrap(), "/ecs/web");
        assert_eq!(name("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web").unwrap(), "/ecs/web");
        assert!(name("arn:aws:ecs:us-east-1:123456789012:cluster/x").is_err());
        assert!(one_group(Some("a".into()), Some("a".into())).is_err());
        assert!(one_group(None, None).is_err());
    }
}
