//! ECS account settings as values: the setting names, the values each name accepts, AWS's
//! default for each, and the IAM principals a setting can belong to. Pure: no I/O.
//!
//! Invariant: an [`AccountSettingRecord`] only ever holds a value that
//! [`AccountSettingName::validate_value`] accepted for its name, and a principal of this
//! account (the root user, an IAM user or an IAM role).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! setting_names {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// Every setting name of ECS's model (`SettingName`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum AccountSettingName { $(#[serde(rename = $text)] $variant),+ }

        impl AccountSettingName {
            /// In the order ECS's model lists them, which is the order listings use.
            pub const ALL: &'static [AccountSettingName] = &[$(AccountSettingName::$variant),+];
            /// The spelling ECS uses on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(AccountSettingName::$variant => $text),+ }
            }
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some(AccountSettingName::$variant),)+ _ => None }
            }
        }
    };
}

setting_names!(
    ServiceLongArnFormat => "serviceLongArnFormat",
    TaskLongArnFormat => "taskLongArnFormat",
    ContainerInstanceLongArnFormat => "containerInstanceLongArnFormat",
    AwsvpcTrunking => "awsvpcTrunking",
    ContainerInsights => "containerInsights",
    FargateFipsMode => "fargateFIPSMode",
    TagResourceAuthorization => "tagResourceAuthorization",
    FargateTaskRetirementWaitPeriod => "fargateTaskRetirementWaitPeriod",
    GuardDutyActivate => "guardDutyActivate",
    DefaultLogDriverMode => "defaultLogDriverMode",
    FargateEventWindows => "fargateEventWindows",
);

impl fmt::Display for AccountSettingName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl AccountSettingName {
    /// The values ECS accepts for this setting.
    pub fn accepted_values(self) -> &'static [&'static str] {
        use AccountSettingName::*;
        match self {
            ServiceLongArnFormat
            | TaskLongArnFormat
            | ContainerInstanceLongArnFormat
            | AwsvpcTrunking
            | FargateFipsMode
            | FargateEventWindows => &["enabled", "disabled"],
            ContainerInsights => &["enabled", "disabled", "enhanced"],
            TagResourceAuthorization => &["on", "off"],
            FargateTaskRetirementWaitPeriod => &["0", "7", "14"],
            GuardDutyActivate => &["on", "off"],
            DefaultLogDriverMode => &["blocking", "non-blocking"],
        }
    }

    /// What the setting is when neither the principal nor the account default sets it: ECS's
    /// defaults for an account created today (long ARNs on, tagging authorization on, Fargate
    /// retirement after 7 days, non-blocking log delivery since June 2025).
    pub fn aws_default(self) -> &'static str {
        use AccountSettingName::*;
        match self {
            ServiceLongArnFormat | TaskLongArnFormat | ContainerInstanceLongArnFormat => "enabled",
            AwsvpcTrunking | ContainerInsights | FargateFipsMode | FargateEventWindows => "disabled",
            TagResourceAuthorization => "on",
            FargateTaskRetirementWaitPeriod => "7",
            GuardDutyActivate => "off",
            DefaultLogDriverMode => "non-blocking",
        }
    }

    /// Whether AWS manages the setting for the customer (`type: aws_managed`): it is listed but
    /// can be neither put nor deleted. Only `guardDutyActivate` is.
    pub fn aws_managed(self) -> bool {
        self == AccountSettingName::GuardDutyActivate
    }

    /// Whether only the root user may set it (ECS's rule for the Fargate retirement wait).
    pub fn root_only(self) -> bool {
        self == AccountSettingName::FargateTaskRetirementWaitPeriod
    }

    /// The value as stored, or why it is refused (a sentence naming the `value` field).
    pub fn validate_value(self, value: &str) -> Result<String, String> {
        if self.aws_managed() {
            return Err(format!("name: {self} is managed by AWS and is read-only; it cannot be changed."));
        }
        if self.accepted_values().contains(&value) {
            return Ok(value.to_string());
        }
        Err(format!(
            "value: {value:?} is not a valid value for {self}; valid values are {}.",
            self.accepted_values().join(", ")
        ))
    }
}

/// The IAM identity a setting belongs to. Berth verifies no signatures, so a request that
/// names no principal acts as the account's root user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Principal {
    /// The root user: its settings are the account defaults every other principal inherits.
    Root,
    /// `user/` followed by the user's path and name.
    User(String),
    /// `role/` followed by the role's path and name.
    Role(String),
}

impl Principal {
    /// Parses `arn:aws:iam::ACCOUNT:root`, `…:user/NAME` or `…:role/NAME` of `account`.
    pub fn parse(text: &str, account: &str) -> Result<Principal, String> {
        let refuse = |why: &str| Err(format!("principalArn: {text:?} {why}"));
        let Some(rest) = text.strip_prefix("arn:aws:iam::") else {
            return refuse("is not the ARN of an IAM user, role or root user (arn:aws:iam::ACCOUNT:...)");
        };
        let Some((arn_account, resource)) = rest.split_once(':') else {
            return refuse("is not a valid IAM ARN");
        };
        if arn_account != account {
            return refuse(&format!("does not belong to account {account}"));
        }
        let valid_name = |name: &str| {
            !name.is_empty()
                && name.len() <= 512
                && !name.ends_with('/')
                && name.chars().all(|character| character.is_ascii_alphanumeric() || "+=,.@_-/".contains(character))
        };
        match resource {
            "root" => Ok(Principal::Root),
            _ => match resource.split_once('/') {
                Some(("user", name)) if valid_name(name) => Ok(Principal::User(name.to_string())),
                Some(("role", name)) if valid_name(name) => Ok(Principal::Role(name.to_string())),
                _ => refuse("names no IAM user, role or root user"),
            },
        }
    }

    /// The principal's part of its ARN (`root`, `user/NAME`, `role/NAME`); also its store key.
    pub fn resource(&self) -> String {
        match self {
            Principal::Root => "root".to_string(),
            Principal::User(name) => format!("user/{name}"),
            Principal::Role(name) => format!("role/{name}"),
        }
    }

    pub fn render(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:{}", self.resource())
    }
}

/// A setting a principal set explicitly (PutAccountSetting, or PutAccountSettingDefault for
/// the root user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettingRecord {
    pub name: AccountSettingName,
    pub principal: Principal,
    pub value: String,
    pub updated_at: Timestamp,
}

impl AccountSettingRecord {
    /// The store key: one record per principal and name.
    pub fn key(principal: &Principal, name: AccountSettingName) -> String {
        format!("{}\u{0}{}", principal.resource(), name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_accepts_its_own_values_only() {
        use AccountSettingName::*;
        assert_eq!(ContainerInsights.validate_value("enhanced").unwrap(), "enhanced");
        assert!(AwsvpcTrunking.validate_value("enhanced").is_err(), "only containerInsights knows enhanced");
        assert_eq!(FargateTaskRetirementWaitPeriod.validate_value("14").unwrap(), "14");
        let refused = FargateTaskRetirementWaitPeriod.validate_value("3").unwrap_err();
        assert!(refused.starts_with("value:") && refused.contains("0, 7, 14"), "{refused}");
        assert!(TagResourceAuthorization.validate_value("enabled").is_err());
        assert!(TagResourceAuthorization.validate_value("off").is_ok());
        assert!(DefaultLogDriverMode.validate_value("blocking").is_ok());
        assert!(DefaultLogDriverMode.validate_value("Blocking").is_err(), "values are case sensitive");
        assert!(GuardDutyActivate.validate_value("on").unwrap_err().starts_with("name:"), "read-only");
        for name in AccountSettingName::ALL {
            assert!(name.accepted_values().contains(&name.aws_default()), "{name}'s default is one of its values");
            assert_eq!(AccountSettingName::parse(name.as_str()), Some(*name));
        }
    }

    #[test]
    fn principals_of_this_account_only() {
        let account = "123456789012";
        assert_eq!(Principal::parse("arn:aws:iam::123456789012:root", account), Ok(Principal::Root));
        let user = Principal::parse("arn:aws:iam::123456789012:user/team/alice", account).unwrap();
        assert_eq!(user, Principal::User("team/alice".into()));
        assert_eq!(user.render(account), "arn:aws:iam::123456789012:user/team/alice");
        assert_eq!(
            Principal::parse("arn:aws:iam::123456789012:role/deployer", account),
            Ok(Principal::Role("deployer".into()))
        );
        for refused in [
            "arn:aws:iam::999999999999:root",
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:ecs:us-east-1:123456789012:cluster/x",
            "alice",
        ] {
            let message = Principal::parse(refused, account).unwrap_err();
            assert!(message.starts_with("principalArn:"), "{message}");
        }
    }
}
