//! Records → ELBv2's wire shapes.

use super::actions::{render_action, render_condition};
use berth_control::elb::records::{ListenerRecord, LoadBalancerRecord, TargetGroupRecord};
use berth_control::elb::rules::RuleView;
use berth_query_wire::elbv2 as wire;
use berth_query_wire::Timestamp;
use berth_types::Tag;

/// The hosted zone ID AWS gives ALBs in us-east-1; Berth has no Route 53, so it is a constant.
const CANONICAL_HOSTED_ZONE_ID: &str = "Z35SXDOTRQ7X7K";

pub fn load_balancer(record: &LoadBalancerRecord) -> wire::LoadBalancer {
    wire::LoadBalancer {
        load_balancer_arn: Some(record.arn.clone()),
        dns_name: Some(record.dns_name.clone()),
        canonical_hosted_zone_id: Some(CANONICAL_HOSTED_ZONE_ID.to_string()),
        created_time: Some(Timestamp::from_unix_millis(record.created_at.0)),
        load_balancer_name: Some(record.name.clone()),
        scheme: wire::LoadBalancerSchemeEnum::parse(&record.scheme),
        state: Some(wire::LoadBalancerState { code: Some(wire::LoadBalancerStateEnum::Active), reason: None }),
        r#type: Some(wire::LoadBalancerTypeEnum::Application),
        availability_zones: Some(
            record
                .subnets
                .iter()
                .map(|subnet| wire::AvailabilityZone {
                    zone_name: Some("berth-local".to_string()),
                    subnet_id: Some(subnet.clone()),
                    ..Default::default()
                })
                .collect(),
        ),
        security_groups: Some(record.security_groups.clone()),
        ip_address_type: wire::IpAddressType::parse(&record.ip_address_type),
        ..Default::default()
    }
}

pub fn target_group(record: &TargetGroupRecord, load_balancer_arns: Vec<String>) -> wire::TargetGroup {
    let health = &record.health_check;
    wire::TargetGroup {
        target_group_arn: Some(record.arn.clone()),
        target_group_name: Some(record.name.clone()),
        protocol: wire::ProtocolEnum::parse(&record.protocol),
        port: Some(i32::from(record.port)),
        vpc_id: record.vpc_id.clone(),
        health_check_protocol: wire::ProtocolEnum::parse(&health.protocol),
        health_check_port: Some(health.port.clone()),
        health_check_enabled: Some(health.enabled),
        health_check_interval_seconds: Some(health.interval_seconds as i32),
        health_check_timeout_seconds: Some(health.timeout_seconds as i32),
        healthy_threshold_count: Some(health.healthy_threshold as i32),
        unhealthy_threshold_count: Some(health.unhealthy_threshold as i32),
        health_check_path: Some(health.path.clone()),
        matcher: Some(wire::Matcher { http_code: Some(health.matcher.clone()), grpc_code: None }),
        load_balancer_arns: Some(load_balancer_arns),
        target_type: wire::TargetTypeEnum::parse(&record.target_type),
        protocol_version: Some(record.protocol_version.clone()),
        ip_address_type: wire::TargetGroupIpAddressTypeEnum::parse(&record.ip_address_type),
        ..Default::default()
    }
}

pub fn listener(record: &ListenerRecord) -> wire::Listener {
    wire::Listener {
        listener_arn: Some(record.arn.clone()),
        load_balancer_arn: Some(record.load_balancer_arn.clone()),
        port: Some(i32::from(record.port)),
        protocol: wire::ProtocolEnum::parse(&record.protocol),
        certificates: record
            .default_certificate
            .as_ref()
            .map(|arn| vec![wire::Certificate { certificate_arn: Some(arn.clone()), is_default: None }]),
        ssl_policy: record.ssl_policy.clone(),
        default_actions: Some(record.default_actions.iter().map(render_action).collect()),
        alpn_policy: (!record.alpn_policy.is_empty()).then(|| record.alpn_policy.clone()),
        ..Default::default()
    }
}

pub fn rule(view: &RuleView) -> wire::Rule {
    wire::Rule {
        rule_arn: Some(view.arn.clone()),
        priority: Some(view.priority.map_or_else(|| "default".to_string(), |priority| priority.to_string())),
        conditions: Some(view.conditions.iter().map(render_condition).collect()),
        actions: Some(view.actions.iter().map(render_action).collect()),
        is_default: Some(view.priority.is_none()),
        transforms: None,
    }
}

pub fn tags(tags: &[Tag]) -> Vec<wire::Tag> {
    tags.iter().map(|tag| wire::Tag { key: Some(tag.key.clone()), value: Some(tag.value.clone()) }).collect()
}

/// Wire tags → domain tags; a tag needs a key (its value may be absent: empty).
pub fn parse_tags(tags: Option<Vec<wire::Tag>>) -> super::ElbResult<Vec<Tag>> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|tag| {
            let key = tag.key.ok_or_else(|| super::ElbApiError::validation("A tag must have a Key"))?;
            Ok(Tag { key, value: tag.value.unwrap_or_default() })
        })
        .collect()
}

/// The attributes as Key/Value pairs, in key order.
pub fn attributes<T>(
    attributes: &std::collections::BTreeMap<String, String>,
    make: impl Fn(String, String) -> T,
) -> Vec<T> {
    attributes.iter().map(|(key, value)| make(key.clone(), value.clone())).collect()
}

/// The Key/Value pairs of a Modify*Attributes request (a key is required, a missing value is
/// the empty string).
pub fn attribute_pairs(
    attributes: impl IntoIterator<Item = (Option<String>, Option<String>)>,
) -> super::ElbResult<Vec<(String, String)>> {
    attributes
        .into_iter()
        .map(|(key, value)| Ok((super::required(key, "Attributes.member.N.Key")?, value.unwrap_or_default())))
        .collect()
}
