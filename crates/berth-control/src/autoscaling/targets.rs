//! Scalable targets: RegisterScalableTarget (create or update), DescribeScalableTargets and
//! DeregisterScalableTarget, which takes the target's policies, their alarms and its scheduled
//! actions with it. Also where a request's namespace, resource ID and dimension become a
//! [`TargetKey`], and the paging every Describe shares.

use super::error::{AutoScalingError, AutoScalingErrorKind, AutoScalingResult};
use super::records::{ScalableTargetRecord, SuspendedState, TargetKey, ECS_DESIRED_COUNT, ECS_NAMESPACE};
use super::tags::check_tags;
use super::{AutoScalingChange, AutoScalingState};
use crate::cloudwatch::alarms::AlarmChange;
use crate::services::ServiceStatus;
use crate::state::{Change, State};
use crate::{ControlPlane, ControlResult};
use berth_types::{ClusterName, ServiceName, Timestamp};
use std::collections::BTreeMap;

/// Berth scales ECS services only; any other namespace is refused by name.
pub fn check_namespace(namespace: &str) -> AutoScalingResult<()> {
    if namespace != ECS_NAMESPACE {
        return Err(AutoScalingError::validation(format!(
            "ServiceNamespace {namespace} is not supported: Berth scales ECS services only (ServiceNamespace ecs)."
        )));
    }
    Ok(())
}

pub fn check_dimension(dimension: &str) -> AutoScalingResult<()> {
    if dimension != ECS_DESIRED_COUNT {
        return Err(AutoScalingError::validation(format!(
            "ScalableDimension {dimension} is not supported for ServiceNamespace ecs: it must be {ECS_DESIRED_COUNT}."
        )));
    }
    Ok(())
}

/// `service/<cluster>/<service>`.
pub fn parse_resource_id(resource_id: &str) -> AutoScalingResult<TargetKey> {
    let invalid = || {
        AutoScalingError::validation(format!(
            "ResourceId {resource_id} is not valid for ServiceNamespace ecs: it must be service/<cluster-name>/<service-name>."
        ))
    };
    let rest = resource_id.strip_prefix("service/").ok_or_else(invalid)?;
    let (cluster, service) = rest.split_once('/').ok_or_else(invalid)?;
    Ok(TargetKey {
        cluster: ClusterName::parse(cluster).map_err(|_| invalid())?,
        service: ServiceName::parse(service).map_err(|_| invalid())?,
    })
}

/// The three members that name a scalable target, checked in the order AWS reports them.
pub fn parse_target(namespace: &str, resource_id: &str, dimension: &str) -> AutoScalingResult<TargetKey> {
    check_namespace(namespace)?;
    let key = parse_resource_id(resource_id)?;
    check_dimension(dimension)?;
    Ok(key)
}

pub(crate) fn no_target(key: &TargetKey) -> AutoScalingError {
    AutoScalingError::not_found(format!("No scalable target registered for {}", key.describe()))
}

/// What RegisterScalableTarget asks; `None` keeps the current value of a target.
#[derive(Debug, Clone, Default)]
pub struct RegisterTarget {
    pub min_capacity: Option<i32>,
    pub max_capacity: Option<i32>,
    pub role_arn: Option<String>,
    pub dynamic_in_suspended: Option<bool>,
    pub dynamic_out_suspended: Option<bool>,
    pub scheduled_suspended: Option<bool>,
    pub tags: BTreeMap<String, String>,
}

fn capacity(value: Option<i32>, field: &str) -> AutoScalingResult<Option<u32>> {
    match value {
        Some(value) if value < 0 => {
            Err(AutoScalingError::constraint(field, value, "Member must have value greater than or equal to 0"))
        }
        other => Ok(other.map(|value| value as u32)),
    }
}

/// A filter and a page of a Describe: items in key order, the token names the next item.
pub fn page<T: Clone>(
    items: Vec<(String, T)>,
    next_token: Option<&str>,
    max_results: Option<i32>,
) -> AutoScalingResult<(Vec<T>, Option<String>)> {
    let limit = match max_results {
        None => 50,
        Some(limit) if (1..=50).contains(&limit) => limit as usize,
        Some(limit) => {
            return Err(AutoScalingError::constraint("maxResults", limit, "Member must have value between 1 and 50"))
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(token) => {
            let key = decode_token(token).ok_or_else(|| {
                AutoScalingError::new(AutoScalingErrorKind::InvalidNextToken, "The next token supplied was invalid.")
            })?;
            items.iter().position(|(item_key, _)| *item_key >= key).unwrap_or(items.len())
        }
    };
    let rest = &items[start.min(items.len())..];
    let next = rest.get(limit).map(|(key, _)| encode_token(key));
    Ok((rest.iter().take(limit).map(|(_, item)| item.clone()).collect(), next))
}

fn encode_token(key: &str) -> String {
    key.bytes().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_token(token: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|at| u8::from_str_radix(token.get(at..at + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// The changes that remove a target's policies (and the alarms they own) and scheduled actions.
pub(crate) fn target_dependents(state: &State, key: &TargetKey) -> Vec<Change> {
    let mut changes = Vec::new();
    for policy in AutoScalingState::of_target(&state.autoscaling.policies, key) {
        changes.extend(owned_alarm_deletions(state, &policy.owned_alarms));
        changes.push(Change::AutoScaling(AutoScalingChange::DeletePolicy(policy.store_key())));
    }
    for action in AutoScalingState::of_target(&state.autoscaling.scheduled_actions, key) {
        changes.push(Change::AutoScaling(AutoScalingChange::DeleteScheduledAction(action.store_key())));
    }
    changes
}

/// Deletions of the owned alarms that still exist (a user may have deleted one).
pub(crate) fn owned_alarm_deletions(state: &State, alarms: &[super::records::PolicyAlarm]) -> Vec<Change> {
    alarms
        .iter()
        .filter(|alarm| state.alarms.alarms.contains_key(&alarm.name))
        .map(|alarm| Change::Alarm(AlarmChange::Delete(alarm.name.clone())))
        .collect()
}

impl ControlPlane {
    /// RegisterScalableTarget: a new target needs both bounds and an ACTIVE service; a second
    /// call changes what it gives. Afterwards a desired count outside the bounds is brought to
    /// the nearer bound.
    pub async fn register_scalable_target(&self, key: TargetKey, request: RegisterTarget) -> ControlResult<String> {
        let min = capacity(request.min_capacity, "minCapacity")?;
        let max = capacity(request.max_capacity, "maxCapacity")?;
        check_tags(&request.tags)?;
        let context = self.arn_context().clone();
        let (arn, bounds_changed) = self
            .mutate(|state| {
                crate::services::live_service(state, &key.cluster, &key.service)
                    .filter(|service| service.status == ServiceStatus::Active)
                    .ok_or_else(|| {
                        AutoScalingError::validation(format!("ECS service doesn't exist: {}", key.resource_id()))
                    })?;
                let existing = state.autoscaling.targets.get(&key.store_key());
                let mut record = match existing {
                    Some(existing) => {
                        let mut record = existing.clone();
                        record.min_capacity = min.unwrap_or(record.min_capacity);
                        record.max_capacity = max.unwrap_or(record.max_capacity);
                        if let Some(role) = &request.role_arn {
                            record.role_arn = role.clone();
                        }
                        record.tags.extend(request.tags.clone());
                        record
                    }
                    None => {
                        let (Some(min), Some(max)) = (min, max) else {
                            return Err(AutoScalingError::validation(
                                "MinCapacity and MaxCapacity are required to register a new scalable target.",
                            )
                            .into());
                        };
                        ScalableTargetRecord {
                            key: key.clone(),
                            arn: format!(
                                "arn:aws:application-autoscaling:{}:{}:scalable-target/0ec{}",
                                context.region,
                                context.account,
                                uuid::Uuid::new_v4().simple()
                            ),
                            min_capacity: min,
                            max_capacity: max,
                            role_arn: request.role_arn.clone().unwrap_or_else(|| {
                                format!(
                                    "arn:aws:iam::{}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
                                    context.account
                                )
                            }),
                            suspended: SuspendedState::default(),
                            created_ms: Timestamp::now().0,
                            tags: request.tags.clone(),
                        }
                    }
                };
                if record.min_capacity > record.max_capacity {
                    return Err(AutoScalingError::validation(format!(
                        "MinCapacity ({}) cannot be greater than MaxCapacity ({}).",
                        record.min_capacity, record.max_capacity
                    ))
                    .into());
                }
                if record.tags.len() > super::tags::MAX_TAGS {
                    return Err(super::tags::too_many(&record.arn).into());
                }
                let suspended = &mut record.suspended;
                suspended.dynamic_in = request.dynamic_in_suspended.unwrap_or(suspended.dynamic_in);
                suspended.dynamic_out = request.dynamic_out_suspended.unwrap_or(suspended.dynamic_out);
                suspended.scheduled = request.scheduled_suspended.unwrap_or(suspended.scheduled);
                let bounds_changed = existing
                    .is_none_or(|existing| (existing.min_capacity, existing.max_capacity) != (record.min_capacity, record.max_capacity));
                let arn = record.arn.clone();
                Ok((vec![Change::AutoScaling(AutoScalingChange::PutTarget(Box::new(record)))], (arn, bounds_changed)))
            })
            .await?;
        if bounds_changed {
            self.bring_within_bounds_now(&key).await?;
        }
        Ok(arn)
    }

    /// DescribeScalableTargets: every target, or those named by `resource_ids`.
    pub fn describe_scalable_targets(&self, resource_ids: &[TargetKey]) -> Vec<(String, ScalableTargetRecord)> {
        let state = self.read();
        state
            .autoscaling
            .targets
            .iter()
            .filter(|(_, target)| resource_ids.is_empty() || resource_ids.contains(&target.key))
            .map(|(key, target)| (key.clone(), target.clone()))
            .collect()
    }

    /// DeregisterScalableTarget, with the target's policies, their alarms and its scheduled
    /// actions, in one write.
    pub async fn deregister_scalable_target(&self, key: TargetKey) -> ControlResult<()> {
        self.mutate(|state| {
            if !state.autoscaling.targets.contains_key(&key.store_key()) {
                return Err(no_target(&key).into());
            }
            let mut changes = target_dependents(state, &key);
            changes.push(Change::AutoScaling(AutoScalingChange::DeleteTarget(key.store_key())));
            Ok((changes, ()))
        })
        .await
    }
}
