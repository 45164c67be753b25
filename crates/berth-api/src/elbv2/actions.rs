//! Rule actions and conditions between the wire and the domain (`berth_proxy_protocol`'s
//! `Action` and `Condition`, which the control plane stores): each field checked at the edge,
//! and echoed back in both of ELBv2's forms (a forward action's `TargetGroupArn` beside its
//! `ForwardConfig`; a path or host condition's `Values` beside its config).

use super::{ElbApiError, ElbResult};
use berth_control::elb::records::ActionRecord;
use berth_proxy_protocol::{Action, Condition, QueryStringPair, WeightedTargetGroup};
use berth_query_wire::elbv2 as wire;

const CONTENT_TYPES: [&str; 5] = ["text/plain", "text/css", "text/html", "application/javascript", "application/json"];

fn invalid_action(message: impl Into<String>) -> ElbApiError {
    ElbApiError::from(berth_control::elb::ElbError::new(
        berth_control::elb::ElbErrorKind::InvalidLoadBalancerAction,
        message,
    ))
}

pub fn parse_actions(actions: Vec<wire::Action>) -> ElbResult<Vec<ActionRecord>> {
    actions.into_iter().map(parse_action).collect()
}

fn parse_action(action: wire::Action) -> ElbResult<ActionRecord> {
    let order = match action.order {
        Some(order) if !(1..=50_000).contains(&order) => {
            return Err(ElbApiError::validation(format!("Action order '{order}' must be between 1 and 50000")))
        }
        order => order.map(|order| order as u32),
    };
    let kind = action.r#type.ok_or_else(|| ElbApiError::validation("An action must have a Type"))?;
    let mut record = ActionRecord {
        order,
        action: Action::FixedResponse { status_code: 200, content_type: None, message_body: None },
        single_target_group: false,
        stickiness_enabled: false,
    };
    record.action = match kind {
        wire::ActionTypeEnum::Forward => {
            let config = action.forward_config.unwrap_or_default();
            let mut groups: Vec<WeightedTargetGroup> = Vec::new();
            for tuple in config.target_groups.unwrap_or_default() {
                let arn = tuple
                    .target_group_arn
                    .ok_or_else(|| ElbApiError::validation("A forward target group must have a TargetGroupArn"))?;
                let weight = tuple.weight.unwrap_or(1);
                if !(0..=999).contains(&weight) {
                    return Err(ElbApiError::validation(format!(
                        "Target group weight '{weight}' must be between 0 and 999"
                    )));
                }
                groups.push(WeightedTargetGroup { target_group_arn: arn, weight: weight as u32 });
            }
            if let Some(arn) = action.target_group_arn {
                match groups.as_slice() {
                    [] => {
                        record.single_target_group = true;
                        groups.push(WeightedTargetGroup { target_group_arn: arn, weight: 1 });
                    }
                    [only] if only.target_group_arn == arn => record.single_target_group = true,
                    _ => {
                        return Err(invalid_action(
                            "You cannot specify a target group both in TargetGroupArn and in ForwardConfig unless they are the same",
                        ))
                    }
                }
            }
            if groups.is_empty() {
                return Err(invalid_action("A forward action must specify a target group"));
            }
            let stickiness = config.target_group_stickiness_config.unwrap_or_default();
            record.stickiness_enabled = stickiness.enabled.unwrap_or(false);
            let stickiness_seconds = match (record.stickiness_enabled, stickiness.duration_seconds) {
                (false, _) => None,
                (true, Some(seconds)) if (1..=604_800).contains(&seconds) => Some(seconds as u32),
                (true, _) => {
                    return Err(ElbApiError::validation(
                        "Target group stickiness needs a DurationSeconds between 1 and 604800",
                    ))
                }
            };
            Action::Forward { target_groups: groups, stickiness_seconds }
        }
        wire::ActionTypeEnum::Redirect => {
            let config =
                action.redirect_config.ok_or_else(|| invalid_action("A redirect action needs a RedirectConfig"))?;
            let status_code = match config.status_code {
                Some(wire::RedirectActionStatusCodeEnum::Http301) => 301,
                Some(wire::RedirectActionStatusCodeEnum::Http302) => 302,
                None => return Err(ElbApiError::validation("A redirect action needs a StatusCode")),
            };
            let protocol = config.protocol.unwrap_or_else(|| "#{protocol}".to_string());
            let port = config.port.unwrap_or_else(|| "#{port}".to_string());
            let host = config.host.unwrap_or_else(|| "#{host}".to_string());
            let path = config.path.unwrap_or_else(|| "/#{path}".to_string());
            let query = config.query.unwrap_or_else(|| "#{query}".to_string());
            if !matches!(protocol.as_str(), "HTTP" | "HTTPS" | "#{protocol}") {
                return Err(invalid_action(format!(
                    "Redirect protocol '{protocol}' must be HTTP, HTTPS or #{{protocol}}"
                )));
            }
            if !path.starts_with('/') {
                return Err(invalid_action("A redirect path must begin with '/'"));
            }
            let unchanged = protocol == "#{protocol}"
                && port == "#{port}"
                && host == "#{host}"
                && path == "/#{path}"
                && query == "#{query}";
            if unchanged {
                return Err(invalid_action(
                    "The redirect would send requests back to the same URL; change at least one part",
                ));
            }
            Action::Redirect { protocol, port, host, path, query, status_code }
        }
        wire::ActionTypeEnum::FixedResponse => {
            let config = action
                .fixed_response_config
                .ok_or_else(|| invalid_action("A fixed-response action needs a FixedResponseConfig"))?;
            let code_text =
                config.status_code.ok_or_else(|| ElbApiError::validation("A fixed response needs a StatusCode"))?;
            let status_code =
                code_text.parse::<u16>().ok().filter(|code| matches!(code / 100, 2 | 4 | 5)).ok_or_else(|| {
                    ElbApiError::validation(format!("Fixed response status code '{code_text}' must be 2XX, 4XX or 5XX"))
                })?;
            if let Some(content_type) = &config.content_type {
                if !CONTENT_TYPES.contains(&content_type.as_str()) {
                    return Err(ElbApiError::validation(format!(
                        "Fixed response content type '{content_type}' must be one of {}",
                        CONTENT_TYPES.join(", ")
                    )));
                }
            }
            if config.message_body.as_ref().is_some_and(|body| body.len() > 1024) {
                return Err(ElbApiError::validation("A fixed response message body can be at most 1024 characters"));
            }
            Action::FixedResponse { status_code, content_type: config.content_type, message_body: config.message_body }
        }
        other => return Err(invalid_action(format!("Action type '{other}' is not supported by this Berth version"))),
    };
    Ok(record)
}

pub fn render_action(record: &ActionRecord) -> wire::Action {
    let mut action = wire::Action { order: record.order.map(|order| order as i32), ..Default::default() };
    match &record.action {
        Action::Forward { target_groups, stickiness_seconds } => {
            action.r#type = Some(wire::ActionTypeEnum::Forward);
            if record.single_target_group {
                action.target_group_arn = target_groups.first().map(|group| group.target_group_arn.clone());
            }
            action.forward_config = Some(wire::ForwardActionConfig {
                target_groups: Some(
                    target_groups
                        .iter()
                        .map(|group| wire::TargetGroupTuple {
                            target_group_arn: Some(group.target_group_arn.clone()),
                            weight: Some(group.weight as i32),
                        })
                        .collect(),
                ),
                target_group_stickiness_config: Some(wire::TargetGroupStickinessConfig {
                    enabled: Some(record.stickiness_enabled),
                    duration_seconds: stickiness_seconds.map(|seconds| seconds as i32),
                }),
            });
        }
        Action::Redirect { protocol, port, host, path, query, status_code } => {
            action.r#type = Some(wire::ActionTypeEnum::Redirect);
            action.redirect_config = Some(wire::RedirectActionConfig {
                protocol: Some(protocol.clone()),
                port: Some(port.clone()),
                host: Some(host.clone()),
                path: Some(path.clone()),
                query: Some(query.clone()),
                status_code: Some(if *status_code == 301 {
                    wire::RedirectActionStatusCodeEnum::Http301
                } else {
                    wire::RedirectActionStatusCodeEnum::Http302
                }),
            });
        }
        Action::FixedResponse { status_code, content_type, message_body } => {
            action.r#type = Some(wire::ActionTypeEnum::FixedResponse);
            action.fixed_response_config = Some(wire::FixedResponseActionConfig {
                status_code: Some(status_code.to_string()),
                content_type: content_type.clone(),
                message_body: message_body.clone(),
            });
        }
    }
    action
}

fn values_of(legacy: Option<Vec<String>>, config: Option<Vec<String>>, field: &str) -> ElbResult<Vec<String>> {
    let values = config.or(legacy).unwrap_or_default();
    if values.is_empty() {
        return Err(ElbApiError::validation(format!("A '{field}' condition must have at least one value")));
    }
    if let Some(long) = values.iter().find(|value| value.len() > 128) {
        return Err(ElbApiError::validation(format!("Condition value '{long}' is longer than 128 characters")));
    }
    Ok(values)
}

pub fn parse_conditions(conditions: Vec<wire::RuleCondition>) -> ElbResult<Vec<Condition>> {
    conditions.into_iter().map(parse_condition).collect()
}

fn parse_condition(condition: wire::RuleCondition) -> ElbResult<Condition> {
    let field = condition.field.clone().ok_or_else(|| ElbApiError::validation("A condition must have a Field"))?;
    let regex = condition.regex_values.is_some()
        || condition.path_pattern_config.as_ref().is_some_and(|config| config.regex_values.is_some())
        || condition.host_header_config.as_ref().is_some_and(|config| config.regex_values.is_some())
        || condition.http_header_config.as_ref().is_some_and(|config| config.regex_values.is_some());
    if regex {
        return Err(ElbApiError::validation(
            "Regular-expression condition values are not supported by this Berth version",
        ));
    }
    Ok(match field.as_str() {
        "path-pattern" => Condition::PathPattern(values_of(
            condition.values,
            condition.path_pattern_config.and_then(|c| c.values),
            &field,
        )?),
        "host-header" => Condition::HostHeader(values_of(
            condition.values,
            condition.host_header_config.and_then(|c| c.values),
            &field,
        )?),
        "http-header" => {
            let config = condition
                .http_header_config
                .ok_or_else(|| ElbApiError::validation("An http-header condition needs an HttpHeaderConfig"))?;
            let name =
                config.http_header_name.filter(|name| !name.is_empty() && name.len() <= 40).ok_or_else(|| {
                    ElbApiError::validation("An http-header condition needs an HttpHeaderName of at most 40 characters")
                })?;
            Condition::HttpHeader { name, values: values_of(None, config.values, &field)? }
        }
        "http-request-method" => {
            let values = values_of(None, condition.http_request_method_config.and_then(|c| c.values), &field)?;
            if let Some(bad) =
                values.iter().find(|value| !value.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '-'))
            {
                return Err(ElbApiError::validation(format!(
                    "HTTP request method '{bad}' may contain only A-Z, '_' and '-'"
                )));
            }
            Condition::HttpRequestMethod(values)
        }
        "query-string" => {
            let pairs = condition.query_string_config.and_then(|c| c.values).unwrap_or_default();
            if pairs.is_empty() {
                return Err(ElbApiError::validation("A query-string condition must have at least one value"));
            }
            let pairs = pairs
                .into_iter()
                .map(|pair| {
                    let value =
                        pair.value.ok_or_else(|| ElbApiError::validation("A query-string value needs a Value"))?;
                    Ok(QueryStringPair { key: pair.key, value })
                })
                .collect::<ElbResult<Vec<_>>>()?;
            Condition::QueryString(pairs)
        }
        "source-ip" => {
            let values = values_of(None, condition.source_ip_config.and_then(|c| c.values), &field)?;
            if let Some(bad) = values.iter().find(|value| !is_cidr(value)) {
                return Err(ElbApiError::validation(format!("Source IP '{bad}' is not a valid CIDR block")));
            }
            Condition::SourceIp(values)
        }
        other => return Err(ElbApiError::validation(format!("Condition field '{other}' is not valid"))),
    })
}

fn is_cidr(text: &str) -> bool {
    let Some((address, length)) = text.split_once('/') else { return false };
    match (address.parse::<std::net::IpAddr>(), length.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(length)) => length <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(length)) => length <= 128,
        _ => false,
    }
}

pub fn render_condition(condition: &Condition) -> wire::RuleCondition {
    let mut rendered = wire::RuleCondition::default();
    match condition {
        Condition::PathPattern(values) => {
            rendered.field = Some("path-pattern".into());
            rendered.values = Some(values.clone());
            rendered.path_pattern_config =
                Some(wire::PathPatternConditionConfig { values: Some(values.clone()), regex_values: None });
        }
        Condition::HostHeader(values) => {
            rendered.field = Some("host-header".into());
            rendered.values = Some(values.clone());
            rendered.host_header_config =
                Some(wire::HostHeaderConditionConfig { values: Some(values.clone()), regex_values: None });
        }
        Condition::HttpHeader { name, values } => {
            rendered.field = Some("http-header".into());
            rendered.http_header_config = Some(wire::HttpHeaderConditionConfig {
                http_header_name: Some(name.clone()),
                values: Some(values.clone()),
                regex_values: None,
            });
        }
        Condition::HttpRequestMethod(values) => {
            rendered.field = Some("http-request-method".into());
            rendered.http_request_method_config =
                Some(wire::HttpRequestMethodConditionConfig { values: Some(values.clone()) });
        }
        Condition::QueryString(pairs) => {
            rendered.field = Some("query-string".into());
            rendered.query_string_config = Some(wire::QueryStringConditionConfig {
                values: Some(
                    pairs
                        .iter()
                        .map(|pair| wire::QueryStringKeyValuePair {
                            key: pair.key.clone(),
                            value: Some(pair.value.clone()),
                        })
                        .collect(),
                ),
            });
        }
        Condition::SourceIp(values) => {
            rendered.field = Some("source-ip".into());
            rendered.source_ip_config =
                Some(wire::SourceIpConditionConfig { values: Some(values.clone()), ip_address_type: None });
        }
    }
    rendered
}
