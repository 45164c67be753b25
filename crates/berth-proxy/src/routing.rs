//! One listener's routing table, compiled from the document once: rules in evaluation order
//! with parsed conditions and actions that point straight at the target groups' live state.
//! A listener swaps its whole table atomically when a document is applied; requests read it
//! without locks.

use crate::access_log::AccessLog;
use crate::matching::{all_match, CompiledCondition, RequestView};
use crate::targets::GroupRuntime;
use berth_proxy_protocol::{Action, ListenerProtocol, Rule};
use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::StatusCode;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub struct ListenerTable {
    /// `app/NAME/ID` for access logs.
    pub elb_name: Arc<str>,
    pub protocol: ListenerProtocol,
    pub idle_timeout: Duration,
    pub rules: Vec<CompiledRule>,
    /// HTTPS listeners only.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub access_log: Option<AccessLog>,
}

pub struct CompiledRule {
    pub priority: Option<u32>,
    pub conditions: Vec<CompiledCondition>,
    pub action: CompiledAction,
}

pub enum CompiledAction {
    Forward(ForwardAction),
    Redirect(RedirectAction),
    FixedResponse { status: StatusCode, content_type: Option<HeaderValue>, body: Bytes },
}

pub struct ForwardAction {
    pub groups: Vec<(Arc<GroupRuntime>, u32)>,
    pub total_weight: u32,
    /// `AWSALBTG` stickiness duration.
    pub stickiness_seconds: Option<u32>,
}

pub struct RedirectAction {
    pub protocol: String,
    pub port: String,
    pub host: String,
    pub path: String,
    pub query: String,
    pub status: StatusCode,
}

impl ListenerTable {
    /// The first rule whose conditions all match.
    pub fn route(&self, request: &RequestView<'_>) -> Option<&CompiledRule> {
        self.rules.iter().find(|rule| all_match(&rule.conditions, request))
    }
}

/// Compiles one rule; target groups missing from the document become empty groups, which answer
/// 503 as a group without registered targets does.
pub fn compile_rule(rule: &Rule, groups: &HashMap<String, Arc<GroupRuntime>>) -> CompiledRule {
    let mut compiled_conditions = Vec::with_capacity(rule.conditions.len());
    let mut never_matches = false;
    for condition in &rule.conditions {
        match CompiledCondition::compile(condition) {
            Some(compiled) => compiled_conditions.push(compiled),
            None => {
                tracing::warn!(rule = %rule.rule_arn, "rule has a malformed condition; it never matches");
                never_matches = true;
            }
        }
    }
    if never_matches {
        // A method list no request has keeps the rule in place without ever matching.
        compiled_conditions.push(CompiledCondition::Method(Vec::new()));
    }
    let action = match &rule.action {
        Action::Forward { target_groups, stickiness_seconds } => {
            let groups: Vec<(Arc<GroupRuntime>, u32)> = target_groups
                .iter()
                .map(|weighted| {
                    let group = groups.get(&weighted.target_group_arn).cloned().unwrap_or_else(|| {
                        Arc::new(GroupRuntime::new(
                            weighted.target_group_arn.clone(),
                            berth_proxy_protocol::Algorithm::RoundRobin,
                            0,
                            None,
                            Vec::new(),
                        ))
                    });
                    (group, weighted.weight)
                })
                .collect();
            let total_weight = groups.iter().map(|(_, weight)| *weight).sum();
            CompiledAction::Forward(ForwardAction {
                groups,
                total_weight,
                stickiness_seconds: stickiness_seconds.filter(|seconds| *seconds > 0),
            })
        }
        Action::Redirect { protocol, port, host, path, query, status_code } => {
            CompiledAction::Redirect(RedirectAction {
                protocol: protocol.clone(),
                port: port.clone(),
                host: host.clone(),
                path: path.clone(),
                query: query.clone(),
                status: if *status_code == 301 { StatusCode::MOVED_PERMANENTLY } else { StatusCode::FOUND },
            })
        }
        Action::FixedResponse { status_code, content_type, message_body } => CompiledAction::FixedResponse {
            status: StatusCode::from_u16(*status_code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            content_type: content_type.as_deref().and_then(|value| HeaderValue::from_str(value).ok()),
            body: Bytes::from(message_body.clone().unwrap_or_default()),
        },
    };
    CompiledRule { priority: rule.priority, conditions: compiled_conditions, action }
}
