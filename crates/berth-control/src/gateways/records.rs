//! The stored gateway, its cluster associations and its routes.

use berth_types::{ClusterName, ServiceName, Tag, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GatewayStatus {
    Active,
    UpdateInProgress,
    UpdateComplete,
    UpdateFailed,
    Deleted,
}

impl GatewayStatus {
    pub const ALL: [GatewayStatus; 5] = [
        GatewayStatus::Active,
        GatewayStatus::UpdateInProgress,
        GatewayStatus::UpdateComplete,
        GatewayStatus::UpdateFailed,
        GatewayStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GatewayStatus::Active => "ACTIVE",
            GatewayStatus::UpdateInProgress => "UPDATE_IN_PROGRESS",
            GatewayStatus::UpdateComplete => "UPDATE_COMPLETE",
            GatewayStatus::UpdateFailed => "UPDATE_FAILED",
            GatewayStatus::Deleted => "DELETED",
        }
    }
}

/// `PUBLIC` for an internet-facing gateway, `PRIVATE` for an internal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessType {
    Public,
    Private,
}

impl AccessType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::Public => "PUBLIC",
            AccessType::Private => "PRIVATE",
        }
    }
}

/// The header whose values send a request to the new revision during a progressive
/// deployment (`testTrafficRules.header`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestTrafficHeader {
    pub name: String,
    pub values: Vec<String>,
}

/// `hostSharedAlb`: one Application Load Balancer whose listener routes by host name, a
/// host per route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSharedAlb {
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub ip_address_type: String,
    pub subnets: Vec<String>,
    pub inbound_security_group: Option<String>,
    pub web_acl_arn: Option<String>,
    /// `accessLogs.destination.s3`: bucket and prefix, kept and echoed.
    pub access_logs: Option<(String, Option<String>)>,
    /// The listener's port: 443 unless the gateway was created with another (a self-hosted
    /// machine may not let Berth bind 443).
    pub port: u16,
    /// HTTPS (the default) or HTTP.
    pub protocol: String,
    pub max_alb_count: u32,
    /// `monitor`, `defensive` or `strictest`: the load balancer's desync mitigation mode.
    pub http_desync: String,
    pub test_traffic_header: Option<TestTrafficHeader>,
}

impl HostSharedAlb {
    pub fn access_type(&self) -> AccessType {
        if self.scheme == "internal" {
            AccessType::Private
        } else {
            AccessType::Public
        }
    }
}

/// The ELBv2 resources a gateway has created so far (none until a service first uses it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedLoadBalancer {
    pub load_balancer_arn: String,
    pub listener_arn: String,
    /// HTTPS: the certificate the gateway issued for `*.`[`GatewayRecord::domain`].
    pub certificate_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayRecord {
    pub arn: String,
    pub name: String,
    pub status: GatewayStatus,
    pub infrastructure_role_arn: String,
    pub deletion_protection: bool,
    pub configuration: HostSharedAlb,
    pub tags: Vec<Tag>,
    /// `NONE` or `GATEWAY`.
    pub propagate_tags: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// CreateGateway's client token and a fingerprint of its other parameters.
    pub client_token: Option<(String, String)>,
    /// A short unique label: the gateway's host names are `SERVICE-ID.LABEL.gateway.localhost`.
    pub label: String,
    pub managed: Option<ManagedLoadBalancer>,
}

impl GatewayRecord {
    /// The domain under which the gateway names its routes' hosts. `*.localhost` resolves to
    /// loopback, where Berth's proxy listens on a single machine; elsewhere, point the domain
    /// at the proxies' hosts.
    pub fn domain(&self) -> String {
        format!("{}.gateway.localhost", self.label)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssociationStatus {
    Active,
    Disassociating,
}

impl AssociationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AssociationStatus::Active => "ACTIVE",
            AssociationStatus::Disassociating => "DISASSOCIATING",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssociationRecord {
    pub gateway_arn: String,
    pub cluster: ClusterName,
    pub status: AssociationStatus,
    pub created_at: Timestamp,
}

impl AssociationRecord {
    pub fn key(&self) -> String {
        association_key(&self.gateway_arn, &self.cluster)
    }
}

pub fn association_key(gateway_arn: &str, cluster: &ClusterName) -> String {
    format!("{gateway_arn}\u{0}{cluster}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteStatus {
    Active,
    DeleteInProgress,
}

impl RouteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteStatus::Active => "ACTIVE",
            RouteStatus::DeleteInProgress => "DELETE_IN_PROGRESS",
        }
    }
}

/// One service's ingress through one gateway: its host, the rules that match it and the
/// target groups its tasks register in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRecord {
    pub arn: String,
    pub gateway_arn: String,
    pub cluster: ClusterName,
    pub service: ServiceName,
    pub port_name: String,
    pub status: RouteStatus,
    /// The host name the listener rule matches.
    pub host: String,
    pub target_group_arn: String,
    pub alternate_target_group_arn: String,
    pub rule_arn: String,
    /// Only when the gateway has `testTrafficRules`.
    pub test_rule_arn: Option<String>,
    pub created_at: Timestamp,
}
