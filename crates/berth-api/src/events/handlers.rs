//! The EventBridge operations: each turns its request shape into domain values, calls
//! `berth_control::events` and renders the answer.

use super::{required, targets, Empty, EventsApiError, EventsResult};
use crate::name_paging::PageError;
use crate::Api;
use berth_control::events::outbox::NewEvent;
use berth_control::events::records::RuleRecord;
use berth_control::events::rules::{check_bus, parse_pattern, NewRule};
use berth_control::events::DEFAULT_BUS;
use berth_events_wire as wire;
use berth_types::{Tag, Timestamp};

/// List paging: the token is the name (or id) of the last item of the previous page.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    token: Option<String>,
    limit: Option<i32>,
) -> EventsResult<(Vec<T>, Option<String>)> {
    crate::name_paging::by_name(items, key, token, limit, 100).map_err(|error| match error {
        PageError::Limit(limit) => EventsApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )),
        PageError::Token => EventsApiError::validation("The nextToken is not valid."),
    })
}

fn tags_of(tags: Option<Vec<wire::Tag>>) -> EventsResult<Vec<Tag>> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|tag| Ok(Tag { key: required(tag.key, "Tags.Key")?, value: required(tag.value, "Tags.Value")? }))
        .collect()
}

fn wire_tags(tags: Vec<Tag>) -> Vec<wire::Tag> {
    tags.into_iter().map(|tag| wire::Tag { key: Some(tag.key), value: Some(tag.value) }).collect()
}

fn state(rule: &RuleRecord) -> wire::RuleState {
    if rule.enabled {
        wire::RuleState::Enabled
    } else {
        wire::RuleState::Disabled
    }
}

fn rule_name(value: Option<String>) -> EventsResult<String> {
    required(value, "Name")
}

pub async fn put_rule(api: &Api, request: wire::PutRuleRequest) -> EventsResult<wire::PutRuleResponse> {
    let new = NewRule {
        name: rule_name(request.name)?,
        event_bus: request.event_bus_name,
        event_pattern: request.event_pattern,
        schedule_expression: request.schedule_expression,
        state: request.state.map(|state| state.as_str().to_string()),
        description: request.description,
        role_arn: request.role_arn,
        tags: tags_of(request.tags)?,
    };
    let arn = api.control.put_event_rule(new).await?;
    Ok(wire::PutRuleResponse { rule_arn: Some(arn) })
}

pub async fn describe_rule(api: &Api, request: wire::DescribeRuleRequest) -> EventsResult<wire::DescribeRuleResponse> {
    let rule = api.control.describe_event_rule(&rule_name(request.name)?, request.event_bus_name.as_deref())?;
    Ok(wire::DescribeRuleResponse {
        state: Some(state(&rule)),
        name: Some(rule.name),
        arn: Some(rule.arn),
        event_pattern: Some(rule.event_pattern),
        description: rule.description,
        role_arn: rule.role_arn,
        event_bus_name: Some(DEFAULT_BUS.to_string()),
        created_by: Some(api.context().account.clone()),
        ..Default::default()
    })
}

pub async fn list_rules(api: &Api, request: wire::ListRulesRequest) -> EventsResult<wire::ListRulesResponse> {
    let rules = api.control.list_event_rules(request.name_prefix.as_deref(), request.event_bus_name.as_deref())?;
    let (rules, next_token) = page(rules, |rule| &rule.name, request.next_token, request.limit)?;
    let rules = rules
        .into_iter()
        .map(|rule| wire::Rule {
            state: Some(state(&rule)),
            name: Some(rule.name),
            arn: Some(rule.arn),
            event_pattern: Some(rule.event_pattern),
            description: rule.description,
            role_arn: rule.role_arn,
            event_bus_name: Some(DEFAULT_BUS.to_string()),
            ..Default::default()
        })
        .collect();
    Ok(wire::ListRulesResponse { rules: Some(rules), next_token })
}

pub async fn delete_rule(api: &Api, request: wire::DeleteRuleRequest) -> EventsResult<Empty> {
    api.control.delete_event_rule(rule_name(request.name)?, request.event_bus_name.as_deref()).await?;
    Ok(Empty::new())
}

pub async fn enable_rule(api: &Api, request: wire::EnableRuleRequest) -> EventsResult<Empty> {
    api.control.set_event_rule_enabled(rule_name(request.name)?, request.event_bus_name.as_deref(), true).await?;
    Ok(Empty::new())
}

pub async fn disable_rule(api: &Api, request: wire::DisableRuleRequest) -> EventsResult<Empty> {
    api.control.set_event_rule_enabled(rule_name(request.name)?, request.event_bus_name.as_deref(), false).await?;
    Ok(Empty::new())
}

pub async fn put_targets(api: &Api, request: wire::PutTargetsRequest) -> EventsResult<wire::PutTargetsResponse> {
    let rule = required(request.rule, "Rule")?;
    let given = required(request.targets, "Targets")?;
    if given.is_empty() || given.len() > 10 {
        return Err(EventsApiError::validation("Targets: between 1 and 10 targets a request"));
    }
    let records = given
        .into_iter()
        .enumerate()
        .map(|(index, target)| targets::check(api, index, target))
        .collect::<EventsResult<Vec<_>>>()?;
    api.control.put_event_targets(rule, request.event_bus_name.as_deref(), records).await?;
    Ok(wire::PutTargetsResponse { failed_entry_count: Some(0), failed_entries: Some(Vec::new()) })
}

pub async fn remove_targets(
    api: &Api,
    request: wire::RemoveTargetsRequest,
) -> EventsResult<wire::RemoveTargetsResponse> {
    let rule = required(request.rule, "Rule")?;
    let ids = required(request.ids, "Ids")?;
    api.control.remove_event_targets(rule, request.event_bus_name.as_deref(), ids).await?;
    Ok(wire::RemoveTargetsResponse { failed_entry_count: Some(0), failed_entries: Some(Vec::new()) })
}

pub async fn list_targets_by_rule(
    api: &Api,
    request: wire::ListTargetsByRuleRequest,
) -> EventsResult<wire::ListTargetsByRuleResponse> {
    let rule = required(request.rule, "Rule")?;
    let records = api.control.list_targets_by_rule(&rule, request.event_bus_name.as_deref())?;
    let (records, next_token) = page(records, |target| &target.id, request.next_token, request.limit)?;
    let targets = records.into_iter().map(|record| targets::wire_target(&record)).collect::<EventsResult<Vec<_>>>()?;
    Ok(wire::ListTargetsByRuleResponse { targets: Some(targets), next_token })
}

pub async fn list_rule_names_by_target(
    api: &Api,
    request: wire::ListRuleNamesByTargetRequest,
) -> EventsResult<wire::ListRuleNamesByTargetResponse> {
    let arn = required(request.target_arn, "TargetArn")?;
    let names = api.control.list_rule_names_by_target(&arn, request.event_bus_name.as_deref())?;
    let (names, next_token) = page(names, |name| name, request.next_token, request.limit)?;
    Ok(wire::ListRuleNamesByTargetResponse { rule_names: Some(names), next_token })
}

pub async fn put_events(api: &Api, request: wire::PutEventsRequest) -> EventsResult<wire::PutEventsResponse> {
    let entries = required(request.entries, "Entries")?;
    if entries.is_empty() || entries.len() > 10 {
        return Err(EventsApiError::validation(
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
        ));
    }
    for entry in &entries {
        check_bus(entry.event_bus_name.as_deref())?;
    }
    let entries = entries
        .into_iter()
        .map(|entry| NewEvent {
            source: entry.source,
            detail_type: entry.detail_type,
            detail: entry.detail,
            resources: entry.resources.unwrap_or_default(),
            time: entry.time.map(|seconds| Timestamp((seconds * 1000.0) as i64)),
        })
        .collect();
    let outcomes = api.control.put_events(entries).await?;
    let failed = outcomes.iter().filter(|outcome| outcome.is_err()).count();
    let entries = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(id) => wire::PutEventsResultEntry { event_id: Some(id), ..Default::default() },
            Err((code, message)) => wire::PutEventsResultEntry {
                error_code: Some(code),
                error_message: Some(message),
                ..Default::default()
            },
        })
        .collect();
    Ok(wire::PutEventsResponse { failed_entry_count: Some(failed as i32), entries: Some(entries) })
}

pub async fn test_event_pattern(
    _api: &Api,
    request: wire::TestEventPatternRequest,
) -> EventsResult<wire::TestEventPatternResponse> {
    let pattern = parse_pattern(&required(request.event_pattern, "EventPattern")?)?;
    let event = required(request.event, "Event")?;
    let event: serde_json::Value =
        serde_json::from_str(&event).map_err(|_| EventsApiError::validation("Parameter Event is not valid."))?;
    for field in ["id", "account", "source", "time", "region", "detail-type"] {
        if event.get(field).is_none() {
            return Err(EventsApiError::validation(format!("Parameter Event is not valid: it has no '{field}'.")));
        }
    }
    Ok(wire::TestEventPatternResponse { result: Some(pattern.matches(&event)) })
}

fn bus_arn(api: &Api) -> String {
    format!("arn:aws:events:{}:{}:event-bus/{DEFAULT_BUS}", api.context().region, api.context().account)
}

pub async fn describe_event_bus(
    api: &Api,
    request: wire::DescribeEventBusRequest,
) -> EventsResult<wire::DescribeEventBusResponse> {
    check_bus(request.name.as_deref())?;
    Ok(wire::DescribeEventBusResponse {
        name: Some(DEFAULT_BUS.to_string()),
        arn: Some(bus_arn(api)),
        ..Default::default()
    })
}

pub async fn list_event_buses(
    api: &Api,
    request: wire::ListEventBusesRequest,
) -> EventsResult<wire::ListEventBusesResponse> {
    let buses = if request.name_prefix.as_deref().is_none_or(|prefix| DEFAULT_BUS.starts_with(prefix)) {
        vec![wire::EventBus { name: Some(DEFAULT_BUS.to_string()), arn: Some(bus_arn(api)), ..Default::default() }]
    } else {
        Vec::new()
    };
    Ok(wire::ListEventBusesResponse { event_buses: Some(buses), next_token: None })
}

pub async fn tag_resource(api: &Api, request: wire::TagResourceRequest) -> EventsResult<Empty> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    api.control.tag_rule(arn, tags_of(request.tags)?).await?;
    Ok(Empty::new())
}

pub async fn untag_resource(api: &Api, request: wire::UntagResourceRequest) -> EventsResult<Empty> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    api.control.untag_rule(arn, required(request.tag_keys, "TagKeys")?).await?;
    Ok(Empty::new())
}

pub async fn list_tags_for_resource(
    api: &Api,
    request: wire::ListTagsForResourceRequest,
) -> EventsResult<wire::ListTagsForResourceResponse> {
    let arn = required(request.resource_arn, "ResourceARN")?;
    Ok(wire::ListTagsForResourceResponse { tags: Some(wire_tags(api.control.list_rule_tags(&arn)?)) })
}
