//! Account settings: PutAccountSetting(Default), DeleteAccountSetting and ListAccountSettings
//! over the settings principals set explicitly, and the resolution of a principal's effective
//! setting (its own, else the root user's account default, else AWS's default).
//!
//! Invariant: only validated values are stored (see `AccountSettingName::validate_value`), and
//! the AWS-managed `guardDutyActivate` is never stored: it always shows AWS's value.

use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::account_settings::{AccountSettingName, AccountSettingRecord, Principal};
use berth_types::spec::TaskSpec;
use berth_types::Timestamp;
use std::collections::BTreeMap;

/// A setting as ListAccountSettings shows it: whose it is and whether AWS manages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSetting {
    pub name: AccountSettingName,
    pub value: String,
    /// The principal the value comes from: the asked-for one, or the root user when the value
    /// is the account default or AWS's default.
    pub principal: Principal,
    pub aws_managed: bool,
}

impl ShownSetting {
    fn of(record: &AccountSettingRecord) -> ShownSetting {
        ShownSetting {
            name: record.name,
            value: record.value.clone(),
            principal: record.principal.clone(),
            aws_managed: record.name.aws_managed(),
        }
    }
}

/// The setting that applies to `principal`: its own, else the root user's, else AWS's default
/// (attributed to the root user, as ECS shows defaults).
pub fn resolve(
    settings: &BTreeMap<String, AccountSettingRecord>,
    principal: &Principal,
    name: AccountSettingName,
) -> ShownSetting {
    let own = settings.get(&AccountSettingRecord::key(principal, name));
    let account_default = settings.get(&AccountSettingRecord::key(&Principal::Root, name));
    match own.or(account_default) {
        Some(record) => ShownSetting::of(record),
        None => ShownSetting {
            name,
            value: name.aws_default().to_string(),
            principal: Principal::Root,
            aws_managed: name.aws_managed(),
        },
    }
}

impl ControlPlane {
    /// Sets `principal`'s own value of the setting (the root user's is the account default).
    pub async fn put_account_setting(
        &self,
        principal: Principal,
        name: AccountSettingName,
        value: &str,
    ) -> ControlResult<AccountSettingRecord> {
        let value = name.validate_value(value).map_err(ControlError::InvalidParameter)?;
        if name.root_only() && principal != Principal::Root {
            return Err(ControlError::InvalidParameter(format!(
                "principalArn: {name} can only be set for the root user of the account."
            )));
        }
        let record = AccountSettingRecord { name, principal, value, updated_at: Timestamp::now() };
        self.mutate(|state| {
            let key = AccountSettingRecord::key(&record.principal, name);
            // Setting the value it already has writes nothing.
            if state.account_settings.get(&key).is_some_and(|existing| existing.value == record.value) {
                return Ok((vec![], state.account_settings[&key].clone()));
            }
            Ok((vec![Change::PutAccountSetting(record.clone())], record))
        })
        .await
    }

    /// Removes `principal`'s own value; it then inherits the account default (or, for the root
    /// user, AWS's default). Answers the setting that was removed, or — when there was none —
    /// the one that applies, so deleting twice is harmless.
    pub async fn delete_account_setting(
        &self,
        principal: Principal,
        name: AccountSettingName,
    ) -> ControlResult<ShownSetting> {
        if name.aws_managed() {
            return Err(ControlError::InvalidParameter(format!(
                "name: {name} is managed by AWS and is read-only; it cannot be deleted."
            )));
        }
        self.mutate(|state| {
            let key = AccountSettingRecord::key(&principal, name);
            match state.account_settings.get(&key) {
                Some(existing) => Ok((vec![Change::DeleteAccountSetting(key)], ShownSetting::of(existing))),
                None => Ok((vec![], resolve(&state.account_settings, &principal, name))),
            }
        })
        .await
    }

    /// ListAccountSettings: with `effective`, every setting (or just `name`) as it applies to
    /// `principal`; without, only the ones `principal` set itself. `value` filters either way.
    pub fn list_account_settings(
        &self,
        principal: &Principal,
        name: Option<AccountSettingName>,
        value: Option<&str>,
        effective: bool,
    ) -> Vec<ShownSetting> {
        let state = self.read();
        let names = match name {
            Some(name) => vec![name],
            None => AccountSettingName::ALL.to_vec(),
        };
        names
            .into_iter()
            .filter_map(|name| {
                if effective {
                    Some(resolve(&state.account_settings, principal, name))
                } else {
                    state.account_settings.get(&AccountSettingRecord::key(principal, name)).map(ShownSetting::of)
                }
            })
            .filter(|shown| value.is_none_or(|wanted| shown.value == wanted))
            .collect()
    }

    /// The value of the setting that applies to `principal` now.
    pub fn effective_account_setting(&self, principal: &Principal, name: AccountSettingName) -> String {
        resolve(&self.read().account_settings, principal, name).value
    }
}

/// The Docker log option that chooses blocking or non-blocking delivery.
const LOG_DELIVERY_MODE_OPTION: &str = "mode";

/// `spec` as its task runs: a container whose `logConfiguration` names no delivery `mode`
/// gets the account's `defaultLogDriverMode`, decided when the task is created (as ECS reads
/// the setting at launch). Containers without a `logConfiguration` keep the agent's default.
pub(crate) fn with_default_log_driver_mode(state: &State, mut spec: TaskSpec) -> TaskSpec {
    let mut mode = None;
    for container in &mut spec.containers {
        if let Some(log_configuration) = &mut container.log_configuration {
            if !log_configuration.options.contains_key(LOG_DELIVERY_MODE_OPTION) {
                let mode = mode.get_or_insert_with(|| {
                    resolve(&state.account_settings, &Principal::Root, AccountSettingName::DefaultLogDriverMode).value
                });
                log_configuration.options.insert(LOG_DELIVERY_MODE_OPTION.to_string(), mode.clone());
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::control_plane;
    use AccountSettingName::*;

    fn alice() -> Principal {
        Principal::User("alice".into())
    }

    #[tokio::test]
    async fn effective_settings_fall_back_from_principal_to_account_default_to_aws() {
        let control = control_plane();
        let shown =
            |principal: &Principal| control.list_account_settings(principal, Some(ContainerInsights), None, true);
        assert_eq!(shown(&alice())[0].value, "disabled", "AWS's default");
        assert_eq!(shown(&alice())[0].principal, Principal::Root, "a default is the root user's");

        control.put_account_setting(Principal::Root, ContainerInsights, "enabled").await.unwrap();
        assert_eq!((shown(&alice())[0].value.as_str(), &shown(&alice())[0].principal), ("enabled", &Principal::Root));

        control.put_account_setting(alice(), ContainerInsights, "enhanced").await.unwrap();
        assert_eq!((shown(&alice())[0].value.as_str(), &shown(&alice())[0].principal), ("enhanced", &alice()));
        assert_eq!(shown(&Principal::Role("other".into()))[0].value, "enabled", "others keep the account default");

        let removed = control.delete_account_setting(alice(), ContainerInsights).await.unwrap();
        assert_eq!(removed.value, "enhanced", "the delete answers what it removed");
        assert_eq!(shown(&alice())[0].value, "enabled");
        control.delete_account_setting(Principal::Root, ContainerInsights).await.unwrap();
        assert_eq!(control.effective_account_setting(&alice(), ContainerInsights), "disabled");
    }

    #[tokio::test]
    async fn explicit_listing_shows_only_what_the_principal_set() {
        let control = control_plane();
        assert!(control.list_account_settings(&alice(), None, None, false).is_empty());
        control.put_account_setting(alice(), AwsvpcTrunking, "enabled").await.unwrap();
        control.put_account_setting(Principal::Root, DefaultLogDriverMode, "blocking").await.unwrap();
        let own: Vec<_> =
            control.list_account_settings(&alice(), None, None, false).into_iter().map(|shown| shown.name).collect();
        assert_eq!(own, vec![AwsvpcTrunking]);
        let effective = control.list_account_settings(&alice(), None, None, true);
        assert_eq!(effective.len(), AccountSettingName::ALL.len(), "every setting has an effective value");
        let guard_duty = effective.iter().find(|shown| shown.name == GuardDutyActivate).unwrap();
        assert!(guard_duty.aws_managed);
        let blocking = control.list_account_settings(&alice(), None, Some("blocking"), true);
        assert_eq!(blocking.iter().map(|shown| shown.name).collect::<Vec<_>>(), vec![DefaultLogDriverMode]);
    }

    #[tokio::test]
    async fn refusals_change_nothing() {
        let control = control_plane();
        let invalid = control.put_account_setting(Principal::Root, ContainerInsights, "maybe").await.unwrap_err();
        assert!(matches!(&invalid, ControlError::InvalidParameter(message) if message.starts_with("value:")));
        let not_root = control.put_account_setting(alice(), FargateTaskRetirementWaitPeriod, "14").await.unwrap_err();
        assert!(matches!(&not_root, ControlError::InvalidParameter(message) if message.starts_with("principalArn:")));
        assert!(control.put_account_setting(Principal::Root, GuardDutyActivate, "on").await.is_err());
        assert!(control.delete_account_setting(Principal::Root, GuardDutyActivate).await.is_err());
        assert!(control.list_account_settings(&Principal::Root, None, None, false).is_empty());
        assert!(control.list_account_settings(&alice(), None, None, false).is_empty());
        control.put_account_setting(Principal::Root, FargateTaskRetirementWaitPeriod, "14").await.unwrap();
        assert_eq!(control.effective_account_setting(&alice(), FargateTaskRetirementWaitPeriod), "14");
    }

    #[tokio::test]
    async fn log_configurations_without_a_mode_take_the_account_default() {
        let control = control_plane();
        let mut spec = crate::testing::task_spec();
        spec.containers[0].log_configuration = Some(berth_types::spec::LogConfigurationSpec {
            driver: "json-file".into(),
            options: [("max-size".to_string(), "1m".to_string())].into(),
        });
        let mode_of =
            |spec: &TaskSpec| spec.containers[0].log_configuration.as_ref().unwrap().options.get("mode").cloned();
        assert_eq!(
            mode_of(&with_default_log_driver_mode(&control.read(), spec.clone())).as_deref(),
            Some("non-blocking")
        );
        control.put_account_setting(Principal::Root, DefaultLogDriverMode, "blocking").await.unwrap();
        let applied = with_default_log_driver_mode(&control.read(), spec.clone());
        assert_eq!(mode_of(&applied).as_deref(), Some("blocking"));
        assert_eq!(applied.containers[0].log_configuration.as_ref().unwrap().options["max-size"], "1m");
        let mut explicit = spec;
        explicit.containers[0].log_configuration.as_mut().unwrap().options.insert("mode".into(), "non-blocking".into());
        assert_eq!(mode_of(&with_default_log_driver_mode(&control.read(), explicit)).as_deref(), Some("non-blocking"));
        let mut silent = crate::testing::task_spec();
        silent.containers[0].log_configuration = None;
        assert_eq!(with_default_log_driver_mode(&control.read(), silent.clone()), silent);
    }

    #[tokio::test]
    async fn settings_survive_a_reopen() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("berth.redb");
        let open = || {
            let store = std::sync::Arc::new(berth_store::EmbeddedStore::open(&path).unwrap());
            ControlPlane::open(crate::ControlConfig::default(), store).unwrap()
        };
        {
            let control = open();
            control.put_account_setting(alice(), TagResourceAuthorization, "off").await.unwrap();
            control.put_account_setting(Principal::Root, ContainerInsights, "enhanced").await.unwrap();
            control.put_account_setting(Principal::Root, AwsvpcTrunking, "enabled").await.unwrap();
            control.delete_account_setting(Principal::Root, AwsvpcTrunking).await.unwrap();
        }
        let reopened = open();
        assert_eq!(reopened.effective_account_setting(&alice(), TagResourceAuthorization), "off");
        assert_eq!(reopened.effective_account_setting(&alice(), ContainerInsights), "enhanced");
        assert_eq!(reopened.effective_account_setting(&alice(), AwsvpcTrunking), "disabled", "the delete held");
    }
}
