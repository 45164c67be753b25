//! PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting, ListAccountSettings.
//! Berth verifies no request signatures, so the caller is the account's root user: a request
//! without `principalArn` reads or changes the root user's setting, which is the account
//! default every other principal inherits.

use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use berth_control::account_settings::ShownSetting;
use berth_ecs_wire as wire;
use berth_types::account_settings::{AccountSettingName, AccountSettingRecord, Principal};

/// ListAccountSettings pages hold at most (and by default) this many settings.
const MAX_LISTED_SETTINGS: usize = 10;

fn setting_name(name: Option<wire::SettingName>) -> ApiResult<AccountSettingName> {
    name.and_then(|name| AccountSettingName::parse(name.as_str()))
        .ok_or_else(|| ApiError::invalid_parameter("name: a setting name is required"))
}

fn principal(api: &Api, arn: Option<&String>) -> ApiResult<Principal> {
    match arn.map(String::as_str) {
        None | Some("") => Ok(Principal::Root),
        Some(text) => Principal::parse(text, &api.context().account).map_err(ApiError::invalid_parameter),
    }
}

fn render_shown(api: &Api, shown: ShownSetting) -> wire::Setting {
    wire::Setting {
        name: wire::SettingName::parse(shown.name.as_str()),
        value: Some(shown.value),
        principal_arn: Some(shown.principal.render(&api.context().account)),
        r#type: Some(if shown.aws_managed { wire::SettingType::AwsManaged } else { wire::SettingType::User }),
    }
}

fn render_record(api: &Api, record: AccountSettingRecord) -> wire::Setting {
    render_shown(
        api,
        ShownSetting {
            aws_managed: record.name.aws_managed(),
            name: record.name,
            value: record.value,
            principal: record.principal,
        },
    )
}

pub async fn put_account_setting(
    api: &Api,
    request: wire::PutAccountSettingRequest,
) -> ApiResult<wire::PutAccountSettingResponse> {
    let name = setting_name(request.name)?;
    let principal = principal(api, request.principal_arn.as_ref())?;
    let record = api.control.put_account_setting(principal, name, request.value.as_deref().unwrap_or_default()).await?;
    Ok(wire::PutAccountSettingResponse { setting: Some(render_record(api, record)) })
}

pub async fn put_account_setting_default(
    api: &Api,
    request: wire::PutAccountSettingDefaultRequest,
) -> ApiResult<wire::PutAccountSettingDefaultResponse> {
    let name = setting_name(request.name)?;
    let record =
        api.control.put_account_setting(Principal::Root, name, request.value.as_deref().unwrap_or_default()).await?;
    Ok(wire::PutAccountSettingDefaultResponse { setting: Some(render_record(api, record)) })
}

pub async fn delete_account_setting(
    api: &Api,
    request: wire::DeleteAccountSettingRequest,
) -> ApiResult<wire::DeleteAccountSettingResponse> {
    let name = setting_name(request.name)?;
    let principal = principal(api, request.principal_arn.as_ref())?;
    let shown = api.control.delete_account_setting(principal, name).await?;
    Ok(wire::DeleteAccountSettingResponse { setting: Some(render_shown(api, shown)) })
}

pub async fn list_account_settings(
    api: &Api,
    request: wire::ListAccountSettingsRequest,
) -> ApiResult<wire::ListAccountSettingsResponse> {
    let name = request.name.map(|name| setting_name(Some(name))).transpose()?;
    if request.value.is_some() && name.is_none() {
        return Err(ApiError::invalid_parameter("value: can only be given together with name"));
    }
    let principal = principal(api, request.principal_arn.as_ref())?;
    let shown = api.control.list_account_settings(
        &principal,
        name,
        request.value.as_deref(),
        request.effective_settings.unwrap_or(false),
    );
    let rendered: Vec<wire::Setting> = shown.into_iter().map(|shown| render_shown(api, shown)).collect();
    let (page, next_token) = parse::page(
        &rendered,
        request.max_results,
        request.next_token.as_ref(),
        MAX_LISTED_SETTINGS,
        MAX_LISTED_SETTINGS,
    )?;
    Ok(wire::ListAccountSettingsResponse { settings: Some(page), next_token })
}
