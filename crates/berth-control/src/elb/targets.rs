//! RegisterTargets, DeregisterTargets and DescribeTargetHealth. A deregistered target drains
//! (the proxy sends it no new requests) until the group's deregistration delay has passed;
//! the drain reconciler (`draining`) then removes it.

use super::health::{HealthBook, TargetHealthView};
use super::records::{RegisteredTarget, TargetGroupRecord};
use super::target_groups::target_group;
use super::{ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::Timestamp;

/// A target as RegisterTargets and DeregisterTargets name it; `port` `None` is the group's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    pub id: String,
    pub port: Option<u16>,
    pub availability_zone: Option<String>,
}

/// ELBv2's limit of targets per target group (1,000 for ALB).
const MAX_TARGETS: usize = 1000;

/// Whether `id` may be a target of a group of `target_type`.
fn check_target(state: &State, group: &TargetGroupRecord, id: &str) -> Result<(), ElbError> {
    match group.target_type.as_str() {
        "ip" => id.parse::<std::net::IpAddr>().map(|_| ()).map_err(|_| {
            ElbError::new(
                ElbErrorKind::InvalidTarget,
                format!("The IP address '{id}' is not a valid IPv4 or IPv6 address"),
            )
        }),
        _ => {
            let known = state.instances.values().any(|instance| instance.ec2_instance_id == id);
            if known {
                Ok(())
            } else {
                Err(ElbError::new(
                    ElbErrorKind::InvalidTarget,
                    format!("The following targets are not valid instances: '{id}' (no registered container instance has this EC2 instance ID)"),
                ))
            }
        }
    }
}

impl ControlPlane {
    pub async fn register_targets(&self, arn: &str, targets: Vec<TargetRef>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut group = target_group(state, arn)?.clone();
            let now = Timestamp::now();
            for target in &targets {
                check_target(state, &group, &target.id)?;
                let port = target.port.unwrap_or(group.port);
                match group.targets.iter_mut().find(|existing| existing.id == target.id && existing.port == port) {
                    // Registering a draining target again puts it back in rotation.
                    Some(existing) => existing.draining_since = None,
                    None => group.targets.push(RegisteredTarget {
                        id: target.id.clone(),
                        port,
                        availability_zone: target.availability_zone.clone(),
                        registered_at: now,
                        draining_since: None,
                    }),
                }
            }
            if group.targets.len() > MAX_TARGETS {
                return Err(ElbError::new(
                    ElbErrorKind::TooManyTargets,
                    format!("You've reached the limit on the number of targets per target group ({MAX_TARGETS})"),
                )
                .into());
            }
            Ok((vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(group)))], ()))
        })
        .await
    }

    /// Starts draining the targets. Naming one the group does not hold is an error.
    pub async fn deregister_targets(&self, arn: &str, targets: Vec<TargetRef>) -> ControlResult<()> {
        self.mutate(|state| {
            let mut group = target_group(state, arn)?.clone();
            let now = Timestamp::now();
            let delay_is_zero = group.deregistration_delay().is_zero();
            for target in &targets {
                let port = target.port.unwrap_or(group.port);
                let Some(index) =
                    group.targets.iter().position(|existing| existing.id == target.id && existing.port == port)
                else {
                    return Err(ElbError::new(
                        ElbErrorKind::InvalidTarget,
                        format!(
                            "The following targets are not registered in target group '{arn}': 'Id={},Port={port}'",
                            target.id
                        ),
                    )
                    .into());
                };
                if delay_is_zero {
                    group.targets.remove(index);
                } else if group.targets[index].draining_since.is_none() {
                    group.targets[index].draining_since = Some(now);
                }
            }
            Ok((vec![Change::Elb(ElbChange::PutTargetGroup(Box::new(group)))], ()))
        })
        .await
    }

    /// The health of the named targets (all registered ones when `targets` is empty).
    pub fn describe_target_health(&self, arn: &str, targets: &[TargetRef]) -> ControlResult<Vec<TargetHealthView>> {
        let state = self.read();
        let group = target_group(&state, arn)?;
        let in_use = !state.elb.load_balancers_using(arn).is_empty();
        let book = self.elb_health().lock();
        let view = |id: &str, port: u16| HealthBook::view(&book, group, in_use, id, port);
        if targets.is_empty() {
            return Ok(group.targets.iter().map(|target| view(&target.id, target.port)).collect());
        }
        Ok(targets.iter().map(|target| view(&target.id, target.port.unwrap_or(group.port))).collect())
    }
}
