//! CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup, DeleteTargetGroup and the
//! target group's attributes (deregistration delay, algorithm, slow start, stickiness).

use super::load_balancers::check_name;
use super::records::{HealthCheckSettings, TargetGroupRecord};
use super::{arns, ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::Tag;
use std::collections::BTreeMap;

/// What CreateTargetGroup asks for; `None` takes ELBv2's default.
#[derive(Debug, Clone, Default)]
pub struct NewTargetGroup {
    pub name: String,
    pub protocol: Option<String>,
    pub protocol_version: Option<String>,
    pub port: Option<u16>,
    pub vpc_id: Option<String>,
    pub target_type: Option<String>,
    pub ip_address_type: Option<String>,
    pub health_check: HealthCheckChange,
    pub tags: Vec<Tag>,
}

/// Health check settings to set (CreateTargetGroup, ModifyTargetGroup); `None` keeps the
/// current value (or the default at creation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthCheckChange {
    pub enabled: Option<bool>,
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub path: Option<String>,
    pub interval_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub matcher: Option<String>,
}

pub const DEFAULT_ATTRIBUTES: &[(&str, &str)] = &[
    ("deregistration_delay.timeout_seconds", "300"),
    ("load_balancing.algorithm.anomaly_mitigation", "off"),
    ("load_balancing.algorithm.type", "round_robin"),
    ("load_balancing.cross_zone.enabled", "use_load_balancer_configuration"),
    ("slow_start.duration_seconds", "0"),
    ("stickiness.app_cookie.cookie_name", ""),
    ("stickiness.app_cookie.duration_seconds", "86400"),
    ("stickiness.enabled", "false"),
    ("stickiness.lb_cookie.duration_seconds", "86400"),
    ("stickiness.type", "lb_cookie"),
    ("target_group_health.dns_failover.minimum_healthy_targets.count", "1"),
    ("target_group_health.dns_failover.minimum_healthy_targets.percentage", "off"),
    ("target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"),
    ("target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off"),
];

pub(crate) fn target_group<'a>(state: &'a State, arn: &str) -> Result<&'a TargetGroupRecord, ElbError> {
    state
        .elb
        .target_groups
        .get(arn)
        .ok_or_else(|| ElbError::new(ElbErrorKind::TargetGroupNotFound, format!("Target groups '{arn}' not found")))
}

fn check_protocol(field: &str, protocol: &str) -> Result<(), ElbError> {
    match protocol {
        "HTTP" | "HTTPS" => Ok(()),
        other => Err(ElbError::new(
            ElbErrorKind::UnsupportedProtocol,
            format!("{field} '{other}' is not supported: Berth's load balancers speak HTTP and HTTPS"),
        )),
    }
}

/// ALB's HttpCode matcher: codes 200–499, as a list ("200,202") or a range ("200-299").
pub fn check_matcher(matcher: &str) -> Result<(), ElbError> {
    let code = |text: &str| text.trim().parse::<u16>().ok().filter(|code| (200..=499).contains(code));
    let valid = if let Some((low, high)) = matcher.split_once('-') {
        matches!((code(low), code(high)), (Some(low), Some(high)) if low <= high)
    } else {
        !matcher.is_empty() && matcher.split(',').all(|part| code(part).is_some())
    };
    if valid {
        Ok(())
    } else {
        Err(ElbError::validation(format!("Health check matcher HTTP code '{matcher}' must be within '200-499' range")))
    }
}

/// The health check after `change`, checked as a whole.
fn health_check_after(
    current: Option<&HealthCheckSettings>,
    protocol: &str,
    change: &HealthCheckChange,
) -> Result<HealthCheckSettings, ElbError> {
    let base = current.cloned().unwrap_or_else(|| HealthCheckSettings {
        enabled: true,
        protocol: protocol.to_string(),
        port: "traffic-port".to_string(),
        path: "/".to_string(),
        interval_seconds: 30,
        timeout_seconds: 5,
        healthy_threshold: 5,
        unhealthy_threshold: 2,
        matcher: "200".to_string(),
    });
    let settings = HealthCheckSettings {
        enabled: change.enabled.unwrap_or(base.enabled),
        protocol: change.protocol.clone().unwrap_or(base.protocol),
        port: change.port.clone().unwrap_or(base.port),
        path: change.path.clone().unwrap_or(base.path),
        interval_seconds: change.interval_seconds.unwrap_or(base.interval_seconds),
        timeout_seconds: change.timeout_seconds.unwrap_or(base.timeout_seconds),
        healthy_threshold: change.healthy_threshold.unwrap_or(base.healthy_threshold),
        unhealthy_threshold: change.unhealthy_threshold.unwrap_or(base.unhealthy_threshold),
        matcher: change.matcher.clone().unwrap_or(base.matcher),
    };
    check_protocol("Health check protocol", &settings.protocol)?;
    if settings.port != "traffic-port" && !settings.port.parse::<u16>().is_ok_and(|port| port > 0) {
        return Err(ElbError::validation(format!(
            "Health check port '{}' must be 'traffic-port' or a port from 1 to 65535",
            settings.port
        )));
    }
    if !settings.path.starts_with('/') || settings.path.len() > 1024 {
        return Err(ElbError::validation("Health check path must begin with a '/' and be at most 1024 characters"));
    }
    if settings.timeout_seconds >= settings.interval_seconds {
        return Err(ElbError::validation("Health check timeout must be smaller than the interval"));
    }
    check_matcher(&settings.matcher)?;
    Ok(settings)
}

fn check_attribute(key: &str, value: &str) -> Result<(), ElbError> {
    let number_in = |low: u64, high: u64| value.parse::<u64>().is_ok_and(|number| (low..=high).contains(&number));
    let valid = match key {
        "deregistration_delay.timeout_seconds" => number_in(0, 3600),
        "slow_start.duration_seconds" => value == "0" || number_in(30, 900),
        "load_balancing.algorithm.type" => matches!(value, "round_robin" | "least_outstanding_requests"),
        "load_balancing.algorithm.anomaly_mitigation" => value == "off",
        "load_balancing.cross_zone.enabled" => matches!(value, "true" | "false" | "use_load_balancer_configuration"),
        "stickiness.enabled" => matches!(value, "true" | "false"),
        "stickiness.type" => value == "lb_cookie",
        "stickiness.lb_cookie.duration_seconds" | "stickiness.app_cookie.duration_seconds" => number_in(1, 604_800),
        "stickiness.app_cookie.cookie_name" => value.len() <= 256,
        known if DEFAULT_ATTRIBUTES.iter().any(|(name, _)| *name == known) => !value.is_empty(),
        _ => {
            return Err(ElbError::invalid_configuration(format!(
                "Target group attribute key '{key}' is not recognized"
            )))
        }
    };
    if valid {
        Ok(())
    } else {
        Err(ElbError::invalid_configuration(format!(
            "'{value}' is not a valid value for target group attribute '{key}'"
        )))
    }
}

impl ControlPlane {
    /// Creates the target group, or answers the existing one of that name when its settings
    /// are the same (CreateTargetGroup is idempotent).
    pub async fn create_target_group(&self, spec: NewTargetGroup) -> ControlResult<TargetGroupRecord> {
        check_name("Target group", &spec.name)?;
        let target_type = spec.target_type.clone().unwrap_or_else(|| "instance".to_string());
        if !matches!(target_type.as_str(), "instance" | "ip") {
            return Err(ElbError::validation(format!(
                "Target type '{target_type}' is not supported: Berth's target groups hold instances or IP addresses"
            ))
            .into());
        }
        let protocol = spec.protocol.clone().ok_or_else(|| {
            ElbError::validation("A protocol must be specified for target groups of type instance or ip")
        })?;
        check_protocol("Protocol", &protocol)?;
        let port = spec
            .port
            .ok_or_else(|| ElbError::validation("A port must be specified for target groups of type instance or ip"))?;
        let protocol_version = spec.protocol_version.clone().unwrap_or_else(|| "HTTP1".to_string());
        if !matches!(protocol_version.as_str(), "HTTP1" | "HTTP2") {
            return Err(ElbError::validation(format!("Protocol version '{protocol_version}' is not supported")).into());
        }
        let health_check = health_check_after(None, &protocol, &spec.health_check)?;
        let context = self.arn_context().clone();
        self.mutate(move |state| {
            let candidate = |arn: String| TargetGroupRecord {
                arn,
                name: spec.name.clone(),
                protocol: protocol.clone(),
                protocol_version: protocol_version.clone(),
                port,
                vpc_id: spec.vpc_id.clone(),
                target_type: target_type.clone(),
                ip_address_type: spec.ip_address_type.clone().unwrap_or_else(|| "ipv4".to_string()),
                health_check: health_check.clone(),
                attributes: DEFAULT_ATTRIBUTES
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
                tags: spec.tags.clone(),
                targets: vec![],
            };
            if let Some(existing) = state.elb.target_groups.values().find(|record| record.name == spec.name) {
                let wanted = candidate(existing.arn.clone());
                let same = existing.protocol == wanted.protocol
                    && existing.port == wanted.port
                    && existing.target_type == wanted.target_type
                    && existing.health_check == wanted.health_check
                    && existing.protocol_version == wanted.protocol_version;
                if same {
                    return Ok((vec![], existing.clone()));
                }
                return Err(ElbError::new(
                    ElbErrorKind::DuplicateTargetGroupName,
                    format!("A target group with the same name '{}' exists, but with different settings", spec.name),
                )
                .into());
            }
            super::tags::check_tags(&spec.tags, &[])?;
            let record = candidate(arns::target_group(&context, &spec.name, &arns::new_id()));
            Ok((vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(record.clone())))], record))
        })
        .await
    }

    /// Target groups by ARN or name, or those a load balancer forwards to, or all of them.
    pub fn describe_target_groups(
        &self,
        load_balancer_arn: Option<&str>,
        arns: &[String],
        names: &[String],
    ) -> ControlResult<Vec<TargetGroupRecord>> {
        let state = self.read();
        let mut found: Vec<TargetGroupRecord> = Vec::new();
        for arn in arns {
            found.push(target_group(&state, arn)?.clone());
        }
        for name in names {
            let record = state.elb.target_groups.values().find(|record| &record.name == name).ok_or_else(|| {
                ElbError::new(
                    ElbErrorKind::TargetGroupNotFound,
                    format!("One or more target groups not found: '{name}'"),
                )
            })?;
            found.push(record.clone());
        }
        if let Some(load_balancer_arn) = load_balancer_arn {
            super::load_balancers::load_balancer(&state, load_balancer_arn)?;
            let users = |record: &&TargetGroupRecord| {
                state.elb.load_balancers_using(&record.arn).iter().any(|arn| arn == load_balancer_arn)
            };
            found = state.elb.target_groups.values().filter(users).cloned().collect();
        } else if arns.is_empty() && names.is_empty() {
            found = state.elb.target_groups.values().cloned().collect();
        }
        Ok(found)
    }

    /// The load balancers that forward to the target group.
    pub fn target_group_load_balancers(&self, target_group_arn: &str) -> Vec<String> {
        self.read().elb.load_balancers_using(target_group_arn)
    }

    pub async fn modify_target_group(&self, arn: &str, change: HealthCheckChange) -> ControlResult<TargetGroupRecord> {
        self.mutate(|state| {
            let mut record = target_group(state, arn)?.clone();
            record.health_check = health_check_after(Some(&record.health_check), &record.protocol, &change)?;
            Ok((vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(record.clone())))], record))
        })
        .await
    }

    /// Deletes a target group no listener or rule forwards to.
    pub async fn delete_target_group(&self, arn: &str) -> ControlResult<()> {
        self.mutate(|state| {
            target_group(state, arn)?;
            if !state.elb.load_balancers_using(arn).is_empty() {
                return Err(ElbError::new(
                    ElbErrorKind::ResourceInUse,
                    format!("Target group '{arn}' is currently in use by a listener or a rule"),
                )
                .into());
            }
            Ok((vec![Change::Elb(ElbChange::DeleteTargetGroup(arn.to_string()))], ()))
        })
        .await
    }

    pub fn target_group_attributes(&self, arn: &str) -> ControlResult<BTreeMap<String, String>> {
        Ok(target_group(&self.read(), arn)?.attributes.clone())
    }

    pub async fn modify_target_group_attributes(
        &self,
        arn: &str,
        attributes: Vec<(String, String)>,
    ) -> ControlResult<BTreeMap<String, String>> {
        for (key, value) in &attributes {
            check_attribute(key, value)?;
        }
        self.mutate(|state| {
            let mut record = target_group(state, arn)?.clone();
            record.attributes.extend(attributes);
            let slow_start = record.attributes.get("slow_start.duration_seconds").is_some_and(|value| value != "0");
            let least_outstanding = record.attributes.get("load_balancing.algorithm.type").map(String::as_str)
                == Some("least_outstanding_requests");
            if slow_start && least_outstanding {
                return Err(ElbError::invalid_configuration(
                    "Slow start mode cannot be enabled with the least outstanding requests algorithm",
                )
                .into());
            }
            let answer = record.attributes.clone();
            Ok((vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(record)))], answer))
        })
        .await
    }
}
