//! CreateListener, DescribeListeners, ModifyListener, DeleteListener and the listener's
//! certificates. Every listener of every load balancer is bound on the proxy's one address,
//! so a port is taken once across all load balancers.

use super::load_balancers::load_balancer;
use super::records::{ActionRecord, ListenerRecord};
use super::{arns, ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_proxy_protocol::Action;
use berth_types::Tag;

#[derive(Debug, Clone, Default)]
pub struct NewListener {
    pub load_balancer_arn: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub ssl_policy: Option<String>,
    pub certificate: Option<String>,
    pub default_actions: Vec<ActionRecord>,
    pub alpn_policy: Vec<String>,
    pub tags: Vec<Tag>,
}

/// ModifyListener: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ListenerChange {
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub ssl_policy: Option<String>,
    pub certificate: Option<String>,
    pub default_actions: Option<Vec<ActionRecord>>,
    pub alpn_policy: Option<Vec<String>>,
}

/// The security policy HTTPS listeners get when none is named (ELBv2's default).
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-2016-08";
/// ALB's limit of listeners per load balancer.
const MAX_LISTENERS: usize = 50;

pub(crate) fn listener<'a>(state: &'a State, arn: &str) -> Result<&'a ListenerRecord, ElbError> {
    state
        .elb
        .listeners
        .get(arn)
        .ok_or_else(|| ElbError::new(ElbErrorKind::ListenerNotFound, format!("Listener '{arn}' not found")))
}

/// The checks every set of actions passes (a listener's default actions, a rule's actions):
/// exactly one terminal action; forwarded target groups exist and belong to no other load
/// balancer.
pub(crate) fn check_actions(state: &State, load_balancer_arn: &str, actions: &[ActionRecord]) -> Result<(), ElbError> {
    if actions.len() != 1 {
        return Err(ElbError::new(
            ElbErrorKind::InvalidLoadBalancerAction,
            "Exactly one action of type forward, redirect or fixed-response must be specified",
        ));
    }
    for action in actions {
        if let Action::Forward { target_groups, .. } = &action.action {
            if target_groups.is_empty() || target_groups.len() > 5 {
                return Err(ElbError::validation("A forward action must name between 1 and 5 target groups"));
            }
            for group in target_groups {
                super::target_groups::target_group(state, &group.target_group_arn)?;
                let others: Vec<String> = state
                    .elb
                    .load_balancers_using(&group.target_group_arn)
                    .into_iter()
                    .filter(|arn| arn != load_balancer_arn)
                    .collect();
                if !others.is_empty() {
                    return Err(ElbError::new(
                        ElbErrorKind::TargetGroupAssociationLimit,
                        format!(
                            "The following target groups cannot be associated with more than one load balancer: {}",
                            group.target_group_arn
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The port taken by another listener on the proxy's address, if any.
pub(crate) fn port_taken<'a>(state: &'a State, port: u16, except: Option<&str>) -> Option<&'a ListenerRecord> {
    state.elb.listeners.values().find(|listener| listener.port == port && Some(listener.arn.as_str()) != except)
}

fn check_protocol_and_certificate(protocol: &str, certificate: Option<&str>) -> Result<(), ElbError> {
    match (protocol, certificate) {
        ("HTTP", _) | ("HTTPS", Some(_)) => Ok(()),
        ("HTTPS", None) => Err(ElbError::validation("A certificate must be specified for HTTPS listeners")),
        (other, _) => Err(ElbError::new(
            ElbErrorKind::UnsupportedProtocol,
            format!("Protocol '{other}' is not supported by Application Load Balancers' listeners"),
        )),
    }
}

/// Every certificate a listener names must be imported into Berth's ACM.
fn check_certificates_exist<'a>(state: &State, arns: impl IntoIterator<Item = &'a String>) -> Result<(), ElbError> {
    for arn in arns {
        if !state.acm.certificates.contains_key(arn) {
            return Err(ElbError::new(ElbErrorKind::CertificateNotFound, format!("Certificate '{arn}' not found")));
        }
    }
    Ok(())
}

/// The changes that delete a listener and its rules.
pub(crate) fn delete_listener_changes(state: &State, arn: &str) -> Vec<Change> {
    let mut changes: Vec<Change> =
        state.elb.rules_of(arn).into_iter().map(|rule| Change::Elb(ElbChange::DeleteRule(rule.arn.clone()))).collect();
    changes.push(Change::Elb(ElbChange::DeleteListener(arn.to_string())));
    changes
}

impl ControlPlane {
    pub async fn create_listener(&self, spec: NewListener) -> ControlResult<ListenerRecord> {
        let protocol = spec.protocol.clone().unwrap_or_else(|| "HTTP".to_string());
        check_protocol_and_certificate(&protocol, spec.certificate.as_deref())?;
        let port = spec.port.ok_or_else(|| ElbError::validation("A port must be specified for the listener"))?;
        self.mutate(move |state| {
            load_balancer(state, &spec.load_balancer_arn)?;
            check_certificates_exist(state, &spec.certificate)?;
            if let Some(existing) = port_taken(state, port, None) {
                let message = if existing.load_balancer_arn == spec.load_balancer_arn {
                    "A listener already exists on this port for this load balancer".to_string()
                } else {
                    format!(
                        "A listener already exists on port {port} for load balancer '{}': Berth binds every load balancer's listeners on one address",
                        existing.load_balancer_arn
                    )
                };
                return Err(ElbError::new(ElbErrorKind::DuplicateListener, message).into());
            }
            if state.elb.listeners_of(&spec.load_balancer_arn).count() >= MAX_LISTENERS {
                return Err(ElbError::new(
                    ElbErrorKind::TooManyListeners,
                    format!("You've reached the limit on the number of listeners per load balancer ({MAX_LISTENERS})"),
                )
                .into());
            }
            check_actions(state, &spec.load_balancer_arn, &spec.default_actions)?;
            super::tags::check_tags(&spec.tags, &[])?;
            let https = protocol == "HTTPS";
            let record = ListenerRecord {
                arn: arns::listener(&spec.load_balancer_arn, &arns::new_id()),
                load_balancer_arn: spec.load_balancer_arn,
                port,
                ssl_policy: https.then(|| spec.ssl_policy.unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string())),
                default_certificate: spec.certificate,
                extra_certificates: vec![],
                alpn_policy: spec.alpn_policy,
                protocol,
                default_actions: spec.default_actions,
                tags: spec.tags,
            };
            Ok((vec![Change::Elb(ElbChange::PutListener(Box::new(record.clone())))], record))
        })
        .await
    }

    /// A load balancer's listeners, or the named ones.
    pub fn describe_listeners(
        &self,
        load_balancer_arn: Option<&str>,
        arns: &[String],
    ) -> ControlResult<Vec<ListenerRecord>> {
        let state = self.read();
        let mut found = Vec::new();
        for arn in arns {
            found.push(listener(&state, arn)?.clone());
        }
        if let Some(load_balancer_arn) = load_balancer_arn {
            load_balancer(&state, load_balancer_arn)?;
            found.extend(state.elb.listeners_of(load_balancer_arn).cloned());
        }
        found.sort_by_key(|listener| listener.port);
        Ok(found)
    }

    pub async fn modify_listener(&self, arn: &str, change: ListenerChange) -> ControlResult<ListenerRecord> {
        self.mutate(|state| {
            let mut record = listener(state, arn)?.clone();
            if let Some(port) = change.port {
                if let Some(existing) = port_taken(state, port, Some(arn)) {
                    return Err(ElbError::new(
                        ElbErrorKind::DuplicateListener,
                        format!("A listener already exists on port {port} ({})", existing.arn),
                    )
                    .into());
                }
                record.port = port;
            }
            if let Some(protocol) = change.protocol {
                record.protocol = protocol;
            }
            if change.certificate.is_some() {
                record.default_certificate = change.certificate;
            }
            check_protocol_and_certificate(&record.protocol, record.default_certificate.as_deref())?;
            check_certificates_exist(state, &record.default_certificate)?;
            if record.protocol == "HTTPS" {
                record.ssl_policy =
                    change.ssl_policy.or(record.ssl_policy).or_else(|| Some(DEFAULT_SSL_POLICY.to_string()));
            } else {
                record.ssl_policy = None;
                record.default_certificate = None;
                record.extra_certificates.clear();
            }
            if let Some(actions) = change.default_actions {
                check_actions(state, &record.load_balancer_arn, &actions)?;
                record.default_actions = actions;
            }
            if let Some(alpn) = change.alpn_policy {
                record.alpn_policy = alpn;
            }
            Ok((vec![Change::Elb(ElbChange::PutListener(Box::new(record.clone())))], record))
        })
        .await
    }

    pub async fn delete_listener(&self, arn: &str) -> ControlResult<()> {
        self.mutate(|state| {
            listener(state, arn)?;
            Ok((delete_listener_changes(state, arn), ()))
        })
        .await
    }

    /// AddListenerCertificates: certificates for SNI beside the default one. Answers the
    /// listener's certificates after the change (default first).
    pub async fn change_listener_certificates(
        &self,
        arn: &str,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> ControlResult<ListenerRecord> {
        self.mutate(|state| {
            let mut record = listener(state, arn)?.clone();
            if record.protocol != "HTTPS" {
                return Err(ElbError::new(
                    ElbErrorKind::OperationNotPermitted,
                    "Certificates can be added only to HTTPS listeners",
                )
                .into());
            }
            if remove.iter().any(|certificate| Some(certificate) == record.default_certificate.as_ref()) {
                return Err(ElbError::new(
                    ElbErrorKind::OperationNotPermitted,
                    "The default certificate of a listener cannot be removed; use ModifyListener to replace it",
                )
                .into());
            }
            check_certificates_exist(state, &add)?;
            record.extra_certificates.retain(|certificate| !remove.contains(certificate));
            for certificate in add {
                if !record.extra_certificates.contains(&certificate)
                    && Some(&certificate) != record.default_certificate.as_ref()
                {
                    record.extra_certificates.push(certificate);
                }
            }
            if record.extra_certificates.len() > 25 {
                return Err(ElbError::new(
                    ElbErrorKind::TooManyCertificates,
                    "You've reached the limit on the number of certificates per listener (25)",
                )
                .into());
            }
            Ok((vec![Change::Elb(ElbChange::PutListener(Box::new(record.clone())))], record))
        })
        .await
    }
}
