//! The ELBv2 resources a gateway manages, as plain records for the caller's batch: the load
//! balancer and its listener (created when a service first uses the gateway), and each
//! route's target groups and host-header rules.

use super::records::{GatewayRecord, ManagedLoadBalancer, RouteRecord, RouteStatus};
use super::GatewayChange;
use crate::acm::records::CertificateRecord;
use crate::acm::AcmChange;
use crate::elb::records::{
    ActionRecord, HealthCheckSettings, ListenerRecord, LoadBalancerRecord, RuleRecord, TargetGroupRecord,
};
use crate::elb::{arns, ElbChange};
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use berth_proxy_protocol::{Action, Condition, WeightedTargetGroup};
use berth_types::{ArnContext, ClusterName, ServiceName, Tag, Timestamp};

/// What a connector asks of its route's target groups; `None` takes ALB's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectorHealthCheck {
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub timeout_seconds: Option<u32>,
    pub interval_seconds: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub matcher: Option<String>,
}

impl ConnectorHealthCheck {
    fn settings(&self) -> HealthCheckSettings {
        HealthCheckSettings {
            enabled: true,
            protocol: self.protocol.clone().unwrap_or_else(|| "HTTP".to_string()),
            port: self.port.map_or_else(|| "traffic-port".to_string(), |port| port.to_string()),
            path: self.path.clone().unwrap_or_else(|| "/".to_string()),
            interval_seconds: self.interval_seconds.unwrap_or(30),
            timeout_seconds: self.timeout_seconds.unwrap_or(5),
            healthy_threshold: self.healthy_threshold.unwrap_or(5),
            unhealthy_threshold: self.unhealthy_threshold.unwrap_or(2),
            matcher: self.matcher.clone().unwrap_or_else(|| "200".to_string()),
        }
    }
}

/// The tags a gateway puts on what it creates (`propagateTags` GATEWAY).
fn propagated_tags(gateway: &GatewayRecord) -> Vec<Tag> {
    if gateway.propagate_tags == "GATEWAY" {
        gateway.tags.clone()
    } else {
        vec![]
    }
}

/// The gateway's load balancer and listener, created on first use (with, for HTTPS, a
/// certificate for `*.DOMAIN`). Answers what the gateway manages and the changes that create
/// it (none when it exists); the caller stores the gateway with `managed` set.
pub(crate) fn ensure_load_balancer(
    state: &State,
    context: &ArnContext,
    gateway: &GatewayRecord,
) -> ControlResult<(ManagedLoadBalancer, Vec<Change>)> {
    if let Some(managed) = &gateway.managed {
        return Ok((managed.clone(), vec![]));
    }
    let configuration = &gateway.configuration;
    if let Some(taken) = crate::elb::listeners::port_taken(state, configuration.port, None) {
        return Err(ControlError::InvalidParameter(format!(
            "gatewayConnectors: the gateway {} listens on port {}, which the listener {} already uses",
            gateway.name, configuration.port, taken.arn
        )));
    }
    let mut changes = Vec::new();
    let name = format!("ecs-gw-{}", gateway.label);
    let mut attributes: std::collections::BTreeMap<String, String> = crate::elb::load_balancers::DEFAULT_ATTRIBUTES
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    apply_attributes(gateway, &mut attributes);
    let load_balancer = LoadBalancerRecord {
        arn: arns::load_balancer(context, &name, &arns::new_id()),
        dns_name: arns::dns_name(context, &name, &configuration.scheme),
        name,
        scheme: configuration.scheme.clone(),
        ip_address_type: configuration.ip_address_type.clone(),
        subnets: configuration.subnets.clone(),
        security_groups: configuration.inbound_security_group.iter().cloned().collect(),
        created_at: Timestamp::now(),
        attributes,
        tags: propagated_tags(gateway),
    };
    let certificate_arn = if configuration.protocol == "HTTPS" {
        let certificate = issue_certificate(context, gateway)?;
        let arn = certificate.arn.clone();
        changes.push(Change::Acm(AcmChange::PutCertificate(Box::new(certificate))));
        Some(arn)
    } else {
        None
    };
    let listener = ListenerRecord {
        arn: arns::listener(&load_balancer.arn, &arns::new_id()),
        load_balancer_arn: load_balancer.arn.clone(),
        port: configuration.port,
        protocol: configuration.protocol.clone(),
        ssl_policy: certificate_arn.as_ref().map(|_| "ELBSecurityPolicy-TLS13-1-2-2021-06".to_string()),
        default_certificate: certificate_arn.clone(),
        extra_certificates: vec![],
        alpn_policy: vec![],
        default_actions: vec![ActionRecord {
            order: Some(1),
            action: Action::FixedResponse {
                status_code: 404,
                content_type: Some("text/plain".to_string()),
                message_body: Some("No gateway route matches this host.".to_string()),
            },
            single_target_group: false,
            stickiness_enabled: false,
        }],
        tags: propagated_tags(gateway),
    };
    let managed = ManagedLoadBalancer {
        load_balancer_arn: load_balancer.arn.clone(),
        listener_arn: listener.arn.clone(),
        certificate_arn,
    };
    changes.push(Change::Elb(ElbChange::PutLoadBalancer(Box::new(load_balancer))));
    changes.push(Change::Elb(ElbChange::PutListener(Box::new(listener))));
    Ok((managed, changes))
}

/// The load balancer attributes the gateway's settings decide.
pub(crate) fn apply_attributes(gateway: &GatewayRecord, attributes: &mut std::collections::BTreeMap<String, String>) {
    let configuration = &gateway.configuration;
    attributes.insert("deletion_protection.enabled".to_string(), gateway.deletion_protection.to_string());
    attributes.insert("routing.http.desync_mitigation_mode".to_string(), configuration.http_desync.clone());
    let (enabled, bucket, prefix) = match &configuration.access_logs {
        Some((bucket, prefix)) => ("true", bucket.clone(), prefix.clone().unwrap_or_default()),
        None => ("false", String::new(), String::new()),
    };
    attributes.insert("access_logs.s3.enabled".to_string(), enabled.to_string());
    attributes.insert("access_logs.s3.bucket".to_string(), bucket);
    attributes.insert("access_logs.s3.prefix".to_string(), prefix);
}

/// A self-signed certificate for the gateway's host names, kept in ACM so that clients can
/// fetch it (GetCertificate) to trust the listener.
fn issue_certificate(context: &ArnContext, gateway: &GatewayRecord) -> ControlResult<CertificateRecord> {
    let domain = gateway.domain();
    let failed =
        |error: rcgen::Error| ControlError::Client(format!("could not issue the gateway's certificate: {error}"));
    let mut params = rcgen::CertificateParams::new(vec![format!("*.{domain}"), domain.clone()]).map_err(failed)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("*.{domain}"));
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Berth gateway");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let certificate = params.self_signed(&key).map_err(failed)?;
    let material = crate::acm::pem::read_import(certificate.pem().as_bytes(), key.serialize_pem().as_bytes(), None)?;
    let now = Timestamp::now();
    Ok(CertificateRecord {
        arn: crate::acm::certificates::certificate_arn(context, &uuid::Uuid::new_v4().to_string()),
        facts: material.facts,
        created_at: now,
        imported_at: now,
        certificate_pem: material.certificate_pem,
        chain_pem: None,
        private_key: material.private_key,
        tags: propagated_tags(gateway),
    })
}

/// What a new route needs to know of its service.
pub(crate) struct RouteRequest<'a> {
    pub cluster: &'a ClusterName,
    pub service: &'a ServiceName,
    pub port_name: &'a str,
    pub container_port: u16,
    pub health_check: &'a ConnectorHealthCheck,
    pub deregistration_delay_seconds: Option<u32>,
}

fn forward(target_group_arn: &str) -> ActionRecord {
    ActionRecord {
        order: Some(1),
        action: Action::Forward {
            target_groups: vec![WeightedTargetGroup { target_group_arn: target_group_arn.to_string(), weight: 1 }],
            stickiness_seconds: None,
        },
        single_target_group: true,
        stickiness_enabled: false,
    }
}

/// A host name label from a service name: lowercase letters, digits and hyphens.
fn host_label(service: &str) -> String {
    let label: String = service
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(40)
        .collect();
    label.trim_matches('-').to_string()
}

/// A new route on the gateway's listener: two target groups (production and the alternate a
/// blue/green deployment shifts to), the production rule matching the route's host and, with
/// `testTrafficRules`, a test rule ahead of it that also matches the test header.
pub(crate) fn create_route(
    state: &State,
    context: &ArnContext,
    gateway: &GatewayRecord,
    managed: &ManagedLoadBalancer,
    request: &RouteRequest<'_>,
) -> (RouteRecord, Vec<Change>) {
    let id = arns::new_id();
    let short = &id[..10];
    let now = Timestamp::now();
    let group = |suffix: &str| {
        let name = format!("ecs-gw-{short}-{suffix}");
        let mut attributes: std::collections::BTreeMap<String, String> = crate::elb::target_groups::DEFAULT_ATTRIBUTES
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        if let Some(seconds) = request.deregistration_delay_seconds {
            attributes.insert("deregistration_delay.timeout_seconds".to_string(), seconds.to_string());
        }
        TargetGroupRecord {
            arn: arns::target_group(context, &name, &arns::new_id()),
            name,
            protocol: "HTTP".to_string(),
            protocol_version: "HTTP1".to_string(),
            port: request.container_port,
            vpc_id: None,
            target_type: "instance".to_string(),
            ip_address_type: "ipv4".to_string(),
            health_check: request.health_check.settings(),
            attributes,
            tags: propagated_tags(gateway),
            targets: vec![],
        }
    };
    let production = group("1");
    let alternate = group("2");
    let host = format!("{}-{}.{}", host_label(request.service.as_str()), &id[..8], gateway.domain());
    let next_priority = state.elb.rules_of(&managed.listener_arn).last().map_or(1, |rule| rule.priority + 1);
    let mut changes = Vec::new();
    let test_rule = gateway.configuration.test_traffic_header.as_ref().map(|header| RuleRecord {
        arn: arns::rule(&managed.listener_arn, &arns::new_id()),
        listener_arn: managed.listener_arn.clone(),
        priority: next_priority,
        conditions: vec![
            Condition::HostHeader(vec![host.clone()]),
            Condition::HttpHeader { name: header.name.clone(), values: header.values.clone() },
        ],
        actions: vec![forward(&production.arn)],
        tags: propagated_tags(gateway),
    });
    let rule = RuleRecord {
        arn: arns::rule(&managed.listener_arn, &arns::new_id()),
        listener_arn: managed.listener_arn.clone(),
        priority: next_priority + 1,
        conditions: vec![Condition::HostHeader(vec![host.clone()])],
        actions: vec![forward(&production.arn)],
        tags: propagated_tags(gateway),
    };
    let route = RouteRecord {
        arn: format!("{}/route/{id}", gateway.arn),
        gateway_arn: gateway.arn.clone(),
        cluster: request.cluster.clone(),
        service: request.service.clone(),
        port_name: request.port_name.to_string(),
        status: RouteStatus::Active,
        host,
        target_group_arn: production.arn.clone(),
        alternate_target_group_arn: alternate.arn.clone(),
        rule_arn: rule.arn.clone(),
        test_rule_arn: test_rule.as_ref().map(|rule| rule.arn.clone()),
        created_at: now,
    };
    changes.push(Change::Elb(ElbChange::PutTargetGroup(Box::new(production))));
    changes.push(Change::Elb(ElbChange::PutTargetGroup(Box::new(alternate))));
    if let Some(test_rule) = test_rule {
        changes.push(Change::Elb(ElbChange::PutRule(Box::new(test_rule))));
    }
    changes.push(Change::Elb(ElbChange::PutRule(Box::new(rule))));
    changes.push(Change::Gateway(GatewayChange::PutRoute(Box::new(route.clone()))));
    (route, changes)
}

/// The route's health check and deregistration delay, set on both of its groups when the
/// connector changed them.
pub(crate) fn refresh_route_groups(
    state: &State,
    route: &RouteRecord,
    health_check: &ConnectorHealthCheck,
    deregistration_delay_seconds: Option<u32>,
) -> Vec<Change> {
    let settings = health_check.settings();
    let delay = deregistration_delay_seconds.unwrap_or(300).to_string();
    [&route.target_group_arn, &route.alternate_target_group_arn]
        .into_iter()
        .filter_map(|arn| state.elb.target_groups.get(arn))
        .filter(|group| {
            group.health_check != settings
                || group.attributes.get("deregistration_delay.timeout_seconds") != Some(&delay)
        })
        .map(|group| {
            let mut group = group.clone();
            group.health_check = settings.clone();
            group.attributes.insert("deregistration_delay.timeout_seconds".to_string(), delay.clone());
            Change::Elb(ElbChange::PutTargetGroup(Box::new(group)))
        })
        .collect()
}

/// Removes a route's rules and target groups, and the route.
pub(crate) fn remove_route(route: &RouteRecord) -> Vec<Change> {
    let mut changes = vec![Change::Elb(ElbChange::DeleteRule(route.rule_arn.clone()))];
    if let Some(test_rule) = &route.test_rule_arn {
        changes.push(Change::Elb(ElbChange::DeleteRule(test_rule.clone())));
    }
    changes.push(Change::Elb(ElbChange::DeleteTargetGroup(route.target_group_arn.clone())));
    changes.push(Change::Elb(ElbChange::DeleteTargetGroup(route.alternate_target_group_arn.clone())));
    changes.push(Change::Gateway(GatewayChange::DeleteRoute(route.arn.clone())));
    changes
}

/// The test rules' header condition after UpdateGateway changed `testTrafficRules`. Routes
/// made before the gateway had test rules get none (their services keep working without).
pub(crate) fn retarget_test_rules(state: &State, gateway: &GatewayRecord) -> Vec<Change> {
    let Some(header) = &gateway.configuration.test_traffic_header else { return vec![] };
    let mut changes = Vec::new();
    for route in state.gateways.routes_of(&gateway.arn) {
        let Some(rule) = route.test_rule_arn.as_ref().and_then(|arn| state.elb.rules.get(arn)) else { continue };
        let mut rule = rule.clone();
        rule.conditions = vec![
            Condition::HostHeader(vec![route.host.clone()]),
            Condition::HttpHeader { name: header.name.clone(), values: header.values.clone() },
        ];
        changes.push(Change::Elb(ElbChange::PutRule(Box::new(rule))));
    }
    changes
}
