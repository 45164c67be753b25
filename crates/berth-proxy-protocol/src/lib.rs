//! What the control plane tells a proxy, and what a proxy tells back.
//!
//! A proxy is a data plane: it serves every listener of every load balancer from one
//! [`ProxyDocument`], which it receives whole, tagged with a generation, by long-polling
//! `GET /proxy/v1/document?after=N` (the answer is the whole document once its generation is
//! greater than `N`). A restarted proxy serves the last document it kept on disk at once, even
//! while the control plane is away. The proxy checks its targets' health itself and posts what
//! changed as a [`HealthReport`] to `POST /proxy/v1/health`; the control plane owns what
//! DescribeTargetHealth and ECS deployments make of it.
//!
//! Everything here is already validated by the control plane: names, ARNs, priorities and
//! patterns are as ELBv2 accepts them, rules are in evaluation order, and a listener's
//! certificates exist in `certificates`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The proxy's whole configuration at one generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyDocument {
    /// Grows with every change to anything below; a proxy ignores a document whose generation
    /// is not greater than the one it serves.
    pub generation: u64,
    pub listeners: Vec<Listener>,
    pub target_groups: Vec<TargetGroup>,
    /// Certificates of HTTPS listeners, by ARN. `private_key_pem` is secret: never log it.
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub listener_arn: String,
    pub load_balancer_arn: String,
    /// The socket the listener accepts on (the load balancer's address and the listener port).
    pub bind: SocketAddr,
    pub protocol: ListenerProtocol,
    /// HTTPS only: the default certificate first, then those added for SNI. The proxy picks by
    /// the client's server name (exact, then wildcard `*.example.com`), else the first.
    pub certificate_arns: Vec<String>,
    /// The load balancer's `idle_timeout.timeout_seconds` (1–4000, 60 by default): a
    /// connection with no data in either direction for this long is closed.
    pub idle_timeout_seconds: u32,
    /// The load balancer's `routing.http2.enabled` (true by default): offer h2 through ALPN on
    /// HTTPS listeners.
    pub http2: bool,
    /// In evaluation order: ascending priority, the default rule (`priority: None`) last. The
    /// first rule whose conditions all match decides.
    pub rules: Vec<Rule>,
    /// Where the access log of this listener's load balancer goes, when access logs are on:
    /// one line per request appended to this file. `None`: access logs off.
    pub access_log: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListenerProtocol {
    Http,
    Https,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub rule_arn: String,
    /// `None` for the listener's default rule.
    pub priority: Option<u32>,
    /// All must match (ALB: conditions of a rule are ANDed; the values inside one condition are
    /// ORed). Empty for the default rule.
    pub conditions: Vec<Condition>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// Case-sensitive match of the path (without the query string); `*` matches any run of
    /// characters, `?` exactly one.
    PathPattern(Vec<String>),
    /// Case-insensitive match of the Host header without its port; `*` and `?` as above.
    HostHeader(Vec<String>),
    /// Case-insensitive match of the named header's value; `*` and `?` as above.
    HttpHeader { name: String, values: Vec<String> },
    /// Exact, case-sensitive method names.
    HttpRequestMethod(Vec<String>),
    /// Any of the pairs matches a query parameter; a `None` key matches any key's value.
    /// Case-insensitive; `*` and `?` as above.
    QueryString(Vec<QueryStringPair>),
    /// CIDR blocks (IPv4 or IPv6) of the client's address (the TCP peer, not X-Forwarded-For).
    SourceIp(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStringPair {
    pub key: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Weighted forwarding (weights 0–999; one group is weight 1). `stickiness_seconds`: when
    /// set, a client that was sent to a group keeps going to it for that long (ALB's
    /// target-group stickiness, the `AWSALBTG` cookie).
    Forward {
        target_groups: Vec<WeightedTargetGroup>,
        stickiness_seconds: Option<u32>,
    },
    /// ALB's redirect: each part may use `#{protocol}`, `#{host}`, `#{port}`, `#{path}`,
    /// `#{query}` (the defaults keep the request's own part).
    Redirect {
        protocol: String,
        port: String,
        host: String,
        path: String,
        query: String,
        /// 301 or 302.
        status_code: u16,
    },
    FixedResponse {
        status_code: u16,
        content_type: Option<String>,
        message_body: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedTargetGroup {
    pub target_group_arn: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub target_group_arn: String,
    pub name: String,
    /// How the proxy speaks to targets.
    pub protocol: TargetProtocol,
    pub health_check: HealthCheck,
    pub algorithm: Algorithm,
    /// `slow_start.duration_seconds` (0 = off, else 30–900): a target that just turned healthy
    /// gets a linearly growing share of new requests over this time.
    pub slow_start_seconds: u32,
    /// `stickiness.enabled` with type `lb_cookie`: the `AWSALB` cookie keeps a client on one
    /// target for this many seconds. `None`: off.
    pub stickiness_seconds: Option<u32>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetProtocol {
    Http,
    /// TLS to the target without verifying its certificate (ALB does not verify targets).
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    RoundRobin,
    LeastOutstandingRequests,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// `false`: every target counts as healthy for routing (ALB: health checks disabled).
    pub enabled: bool,
    pub protocol: TargetProtocol,
    /// `None`: the target's own (traffic) port.
    pub port: Option<u16>,
    pub path: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// ALB's HttpCode matcher: "200", "200,202", "200-299".
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The registered target's ID as ELBv2 shows it (an instance ID or an IP address) with its
    /// port: together they name the target in health reports.
    pub id: String,
    pub port: u16,
    /// Where the proxy connects.
    pub address: SocketAddr,
    pub state: TargetState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetState {
    /// Gets new requests while healthy.
    Active,
    /// Deregistered: no new requests, in-flight ones finish; the control plane removes the
    /// target from the document when the deregistration delay has passed.
    Draining,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub certificate_arn: String,
    /// The leaf first, then its chain.
    pub certificate_chain_pem: String,
    pub private_key_pem: String,
}

/// Prints the key as `<redacted>`, so a document can be debug-printed without leaking it.
impl std::fmt::Debug for Certificate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Certificate")
            .field("certificate_arn", &self.certificate_arn)
            .field("certificate_chain_pem", &self.certificate_chain_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// What a proxy posts when a target's health changed (and, whole, after it starts, so the
/// control plane learns the state of every target it checks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Identifies the proxy (several may check the same targets; the control plane keeps each
    /// one's view).
    pub proxy_id: String,
    /// The document generation the proxy was serving.
    pub generation: u64,
    /// `true` when `targets` holds every target the proxy checks (targets not listed have no
    /// result yet); `false` when it holds only those that changed.
    pub complete: bool,
    pub targets: Vec<TargetHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    pub target_group_arn: String,
    pub target_id: String,
    pub port: u16,
    pub state: HealthState,
    /// ALB's reason code when not healthy: `Target.ResponseCodeMismatch`, `Target.Timeout`,
    /// `Target.FailedHealthChecks`.
    pub reason: Option<String>,
    /// ALB's description, e.g. "Health checks failed with these codes: [500]".
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthState {
    /// Not yet `healthy_threshold` consecutive successes since the proxy began checking it.
    Initial,
    Healthy,
    Unhealthy,
}
