//! CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer and the load balancer's
//! attributes. Berth serves Application Load Balancers: every listener of every load balancer
//! is bound by the proxy on its one address, so the DNS name is a loopback name.

use super::records::LoadBalancerRecord;
use super::{arns, ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::{Tag, Timestamp};
use std::collections::BTreeMap;

/// What CreateLoadBalancer asks for, checked against the model already.
#[derive(Debug, Clone, Default)]
pub struct NewLoadBalancer {
    pub name: String,
    /// `application` (the default); `network` and `gateway` are refused.
    pub load_balancer_type: Option<String>,
    pub scheme: Option<String>,
    pub ip_address_type: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub tags: Vec<Tag>,
}

/// ALB's attributes and their defaults (DescribeLoadBalancerAttributes lists every one).
pub const DEFAULT_ATTRIBUTES: &[(&str, &str)] = &[
    ("access_logs.s3.enabled", "false"),
    ("access_logs.s3.bucket", ""),
    ("access_logs.s3.prefix", ""),
    ("client_keep_alive.seconds", "3600"),
    ("connection_logs.s3.enabled", "false"),
    ("connection_logs.s3.bucket", ""),
    ("connection_logs.s3.prefix", ""),
    ("deletion_protection.enabled", "false"),
    ("idle_timeout.timeout_seconds", "60"),
    ("routing.http.desync_mitigation_mode", "defensive"),
    ("routing.http.drop_invalid_header_fields.enabled", "false"),
    ("routing.http.preserve_host_header.enabled", "false"),
    ("routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"),
    ("routing.http.xff_client_port.enabled", "false"),
    ("routing.http.xff_header_processing.mode", "append"),
    ("routing.http2.enabled", "true"),
    ("waf.fail_open.enabled", "false"),
    ("zonal_shift.config.enabled", "false"),
];

/// ELBv2's naming rule for load balancers and target groups: 1–32 letters, digits and
/// hyphens, not beginning or ending with a hyphen.
pub fn check_name(kind: &str, name: &str) -> Result<(), ElbError> {
    if name.is_empty() || name.len() > 32 {
        return Err(ElbError::validation(format!("{kind} name '{name}' cannot be longer than '32' characters")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ElbError::validation(format!(
            "{kind} name '{name}' can only contain characters that are alphanumeric characters or hyphens(-)"
        )));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(ElbError::validation(format!("{kind} name '{name}' cannot begin or end with '-' character")));
    }
    Ok(())
}

fn check_attribute(key: &str, value: &str) -> Result<(), ElbError> {
    let boolean = || matches!(value, "true" | "false");
    let number_in = |low: u64, high: u64| value.parse::<u64>().is_ok_and(|number| (low..=high).contains(&number));
    let valid = match key {
        "idle_timeout.timeout_seconds" => number_in(1, 4000),
        "client_keep_alive.seconds" => number_in(60, 604_800),
        "routing.http.desync_mitigation_mode" => matches!(value, "monitor" | "defensive" | "strictest"),
        "routing.http.xff_header_processing.mode" => matches!(value, "append" | "preserve" | "remove"),
        "access_logs.s3.bucket"
        | "access_logs.s3.prefix"
        | "connection_logs.s3.bucket"
        | "connection_logs.s3.prefix" => value.len() <= 1024,
        known if DEFAULT_ATTRIBUTES.iter().any(|(name, _)| *name == known) => boolean(),
        _ => {
            return Err(ElbError::invalid_configuration(format!(
                "Load balancer attribute key '{key}' is not recognized"
            )))
        }
    };
    if valid {
        Ok(())
    } else {
        Err(ElbError::invalid_configuration(format!(
            "'{value}' is not a valid value for load balancer attribute '{key}'"
        )))
    }
}

pub(crate) fn load_balancer<'a>(state: &'a State, arn: &str) -> Result<&'a LoadBalancerRecord, ElbError> {
    state
        .elb
        .load_balancers
        .get(arn)
        .ok_or_else(|| ElbError::new(ElbErrorKind::LoadBalancerNotFound, format!("Load balancer '{arn}' not found")))
}

impl ControlPlane {
    /// Creates the load balancer, or answers the existing one when one of that name exists with
    /// the same settings (CreateLoadBalancer is idempotent).
    pub async fn create_load_balancer(&self, spec: NewLoadBalancer) -> ControlResult<LoadBalancerRecord> {
        check_name("Load balancer", &spec.name)?;
        if spec.name.starts_with("internal-") {
            return Err(ElbError::validation("Load balancer names cannot start with 'internal-'").into());
        }
        match spec.load_balancer_type.as_deref().unwrap_or("application") {
            "application" => {}
            other => {
                return Err(ElbError::invalid_configuration(format!(
                    "Load balancer type '{other}' is not supported: Berth serves Application Load Balancers"
                ))
                .into())
            }
        }
        let scheme = spec.scheme.clone().unwrap_or_else(|| "internet-facing".to_string());
        let ip_address_type = spec.ip_address_type.clone().unwrap_or_else(|| "ipv4".to_string());
        let context = self.arn_context().clone();
        self.mutate(move |state| {
            if let Some(existing) = state.elb.load_balancers.values().find(|record| record.name == spec.name) {
                let same = existing.scheme == scheme
                    && existing.ip_address_type == ip_address_type
                    && (spec.subnets.is_empty() || existing.subnets == spec.subnets)
                    && (spec.security_groups.is_empty() || existing.security_groups == spec.security_groups);
                if same {
                    return Ok((vec![], existing.clone()));
                }
                return Err(ElbError::new(
                    ElbErrorKind::DuplicateLoadBalancerName,
                    format!("A load balancer with the same name '{}' exists, but with different settings", spec.name),
                )
                .into());
            }
            super::tags::check_tags(&spec.tags, &[])?;
            let id = arns::new_id();
            let record = LoadBalancerRecord {
                arn: arns::load_balancer(&context, &spec.name, &id),
                dns_name: arns::dns_name(&context, &spec.name, &scheme),
                name: spec.name,
                scheme,
                ip_address_type,
                subnets: spec.subnets,
                security_groups: spec.security_groups,
                created_at: Timestamp::now(),
                attributes: DEFAULT_ATTRIBUTES
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
                tags: spec.tags,
            };
            Ok((vec![Change::Elb(ElbChange::PutLoadBalancer(Box::new(record.clone())))], record))
        })
        .await
    }

    /// The load balancers named by ARN or by name (all of them when both are empty), in
    /// creation order. Any that does not exist fails the call, as ELBv2 does.
    pub fn describe_load_balancers(&self, arns: &[String], names: &[String]) -> ControlResult<Vec<LoadBalancerRecord>> {
        let state = self.read();
        let mut found: Vec<LoadBalancerRecord> = Vec::new();
        for arn in arns {
            found.push(load_balancer(&state, arn)?.clone());
        }
        for name in names {
            let record = state.elb.load_balancers.values().find(|record| &record.name == name).ok_or_else(|| {
                ElbError::new(ElbErrorKind::LoadBalancerNotFound, format!("Load balancers '[{name}]' not found"))
            })?;
            found.push(record.clone());
        }
        if arns.is_empty() && names.is_empty() {
            found = state.elb.load_balancers.values().cloned().collect();
        }
        found.sort_by(|a, b| (a.created_at, &a.arn).cmp(&(b.created_at, &b.arn)));
        Ok(found)
    }

    /// Deletes the load balancer with its listeners and their rules; its target groups stay
    /// (their targets stop receiving traffic). Deletion protection refuses it.
    pub async fn delete_load_balancer(&self, arn: &str) -> ControlResult<()> {
        self.mutate(|state| {
            let record = load_balancer(state, arn)?;
            if record.attributes.get("deletion_protection.enabled").map(String::as_str) == Some("true") {
                return Err(ElbError::new(
                    ElbErrorKind::OperationNotPermitted,
                    format!("Load balancer '{arn}' cannot be deleted because deletion protection is enabled"),
                )
                .into());
            }
            let mut changes = Vec::new();
            for listener in state.elb.listeners_of(arn) {
                changes.extend(super::listeners::delete_listener_changes(state, &listener.arn));
            }
            changes.push(Change::Elb(ElbChange::DeleteLoadBalancer(arn.to_string())));
            Ok((changes, ()))
        })
        .await
    }

    pub fn load_balancer_attributes(&self, arn: &str) -> ControlResult<BTreeMap<String, String>> {
        Ok(load_balancer(&self.read(), arn)?.attributes.clone())
    }

    /// Sets the given attributes (each checked; none is set when one is invalid) and answers
    /// them all.
    pub async fn modify_load_balancer_attributes(
        &self,
        arn: &str,
        attributes: Vec<(String, String)>,
    ) -> ControlResult<BTreeMap<String, String>> {
        for (key, value) in &attributes {
            check_attribute(key, value)?;
        }
        self.mutate(|state| {
            let mut record = load_balancer(state, arn)?.clone();
            record.attributes.extend(attributes);
            let answer = record.attributes.clone();
            Ok((vec![Change::Elb(ElbChange::PutLoadBalancer(Box::new(record)))], answer))
        })
        .await
    }

    /// SetSecurityGroups: kept and echoed (Berth's listeners are not filtered by them).
    pub async fn set_load_balancer_security_groups(
        &self,
        arn: &str,
        groups: Vec<String>,
    ) -> ControlResult<Vec<String>> {
        self.mutate(|state| {
            let mut record = load_balancer(state, arn)?.clone();
            record.security_groups = groups.clone();
            Ok((vec![Change::Elb(ElbChange::PutLoadBalancer(Box::new(record)))], groups))
        })
        .await
    }
}
