//! The stored ELBv2 resources. Rule conditions and actions are kept in the proxy protocol's
//! own terms (`berth_proxy_protocol::{Condition, Action}`): they are already the validated
//! domain, and the document a proxy serves is then a projection, not a translation.

use berth_proxy_protocol::{Action, Condition};
use berth_types::{Tag, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerRecord {
    pub arn: String,
    pub name: String,
    /// `internet-facing` or `internal`: echoed; every listener binds the proxy's address.
    pub scheme: String,
    pub ip_address_type: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub dns_name: String,
    pub created_at: Timestamp,
    /// ALB attributes by key, every key present (the defaults filled in at creation).
    pub attributes: BTreeMap<String, String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupRecord {
    pub arn: String,
    pub name: String,
    /// HTTP or HTTPS.
    pub protocol: String,
    pub protocol_version: String,
    pub port: u16,
    pub vpc_id: Option<String>,
    /// `instance` or `ip`.
    pub target_type: String,
    pub ip_address_type: String,
    pub health_check: HealthCheckSettings,
    pub attributes: BTreeMap<String, String>,
    pub tags: Vec<Tag>,
    pub targets: Vec<RegisteredTarget>,
}

impl TargetGroupRecord {
    /// `deregistration_delay.timeout_seconds` (ALB's default, 300 s, if unreadable).
    pub fn deregistration_delay(&self) -> std::time::Duration {
        let seconds = self
            .attributes
            .get("deregistration_delay.timeout_seconds")
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(300);
        std::time::Duration::from_secs(seconds)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckSettings {
    pub enabled: bool,
    pub protocol: String,
    /// `traffic-port` or a port number, as ELBv2 echoes it.
    pub port: String,
    pub path: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// ALB's HttpCode matcher.
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredTarget {
    pub id: String,
    pub port: u16,
    pub availability_zone: Option<String>,
    pub registered_at: Timestamp,
    /// Set by DeregisterTargets: the target drains until the group's deregistration delay has
    /// passed, then leaves the group.
    pub draining_since: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRecord {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: u16,
    /// HTTP or HTTPS.
    pub protocol: String,
    pub ssl_policy: Option<String>,
    /// HTTPS: the default certificate (ELBv2's `Certificates` of the listener).
    pub default_certificate: Option<String>,
    /// Added with AddListenerCertificates, for SNI.
    pub extra_certificates: Vec<String>,
    pub alpn_policy: Vec<String>,
    pub default_actions: Vec<ActionRecord>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub arn: String,
    pub listener_arn: String,
    pub priority: u32,
    pub conditions: Vec<Condition>,
    pub actions: Vec<ActionRecord>,
    pub tags: Vec<Tag>,
}

/// One action of a rule, with the `Order` ELBv2 echoes. Only the last action of a rule may be
/// terminal, and Berth serves only terminal actions, so a rule holds exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub order: Option<u32>,
    pub action: Action,
    /// A forward action given as a bare `TargetGroupArn` is echoed with it (and its
    /// ForwardConfig), as ELBv2 does.
    pub single_target_group: bool,
    /// The `TargetGroupStickinessConfig` of a forward action as given (`Enabled` may be false
    /// with a duration).
    pub stickiness_enabled: bool,
}

impl ActionRecord {
    /// The target groups this action forwards to.
    pub fn target_groups(&self) -> impl Iterator<Item = &str> {
        let groups = match &self.action {
            Action::Forward { target_groups, .. } => target_groups.as_slice(),
            _ => &[],
        };
        groups.iter().map(|group| group.target_group_arn.as_str())
    }
}

/// Everything a load balancer's ARN path holds: `app/NAME/ID`.
pub fn load_balancer_path(arn: &str) -> Option<&str> {
    arn.split_once(":loadbalancer/").map(|(_, path)| path)
}
