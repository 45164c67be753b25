//! Application Auto Scaling for ECS services: scalable targets (`targets`), scaling policies
//! (`policies`, with target tracking's owned CloudWatch alarms in `tracking_alarms`), scheduled
//! actions (`scheduled_actions`, their `schedule` expressions), scaling activities and tags;
//! the pure decisions (`step`: which step of a step policy applies and what it asks for;
//! `tracking`: target tracking's new capacity; `decide`: cooldowns and suspension); and
//! `engine`, which carries a decision out: clamped to the target's bounds, recorded as an
//! activity, and applied through UpdateService's own path, so deployments, the circuit breaker
//! and task protection hold as for a user's change.
//!
//! Decisions come from two places: the alarm evaluator hands over every alarm in ALARM whose
//! actions name a scaling policy (`engine::run_alarm_actions`, each evaluation while the alarm
//! stays in ALARM, as CloudWatch repeats the action), and [`run_scheduled_actions`] runs the
//! scheduled actions that are due.
//!
//! Invariant: records change only through [`AutoScalingChange`]s inside `ControlPlane::mutate`;
//! a target's policies, their owned alarms and its scheduled actions are written and deleted
//! in one batch with it.

pub mod decide;
pub mod engine;
pub mod error;
pub mod policies;
pub mod records;
pub mod schedule;
pub mod scheduled_actions;
pub mod step;
pub mod tags;
pub mod targets;
pub mod tracking;
pub mod tracking_alarms;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{ActivityRecord, ScalableTargetRecord, ScalingPolicyRecord, ScheduledActionRecord};
use std::collections::BTreeMap;

pub use engine::run_scheduled_actions;
pub use error::{AutoScalingError, AutoScalingErrorKind, AutoScalingResult};

/// One durable change to Application Auto Scaling's records (the `Change::AutoScaling` of a
/// batch).
#[derive(Debug, Clone)]
pub enum AutoScalingChange {
    PutTarget(Box<ScalableTargetRecord>),
    /// By store key.
    DeleteTarget(String),
    PutPolicy(Box<ScalingPolicyRecord>),
    DeletePolicy(String),
    PutScheduledAction(Box<ScheduledActionRecord>),
    DeleteScheduledAction(String),
    PutActivity(Box<ActivityRecord>),
    DeleteActivity(String),
}

/// Every record by its store key (targets by resource ID; the rest by resource ID and name, so
/// a target's records are one range).
#[derive(Debug, Default)]
pub struct AutoScalingState {
    pub targets: BTreeMap<String, ScalableTargetRecord>,
    pub policies: BTreeMap<String, ScalingPolicyRecord>,
    pub scheduled_actions: BTreeMap<String, ScheduledActionRecord>,
    pub activities: BTreeMap<String, ActivityRecord>,
}

impl AutoScalingState {
    pub fn load(store: &dyn Store) -> Result<AutoScalingState, StoreError> {
        let mut state = AutoScalingState::default();
        scan(store, Table::ScalableTargets, |record| state.apply(AutoScalingChange::PutTarget(Box::new(record))))?;
        scan(store, Table::ScalingPolicies, |record| state.apply(AutoScalingChange::PutPolicy(Box::new(record))))?;
        scan(store, Table::ScheduledActions, |record| {
            state.apply(AutoScalingChange::PutScheduledAction(Box::new(record)))
        })?;
        scan(store, Table::ScalingActivities, |record| state.apply(AutoScalingChange::PutActivity(Box::new(record))))?;
        Ok(state)
    }

    pub fn write(change: &AutoScalingChange, batch: &mut WriteBatch) {
        match change {
            AutoScalingChange::PutTarget(record) => {
                batch.put(Table::ScalableTargets, record.key.store_key(), encode(record.as_ref()))
            }
            AutoScalingChange::DeleteTarget(key) => batch.delete(Table::ScalableTargets, key.clone()),
            AutoScalingChange::PutPolicy(record) => {
                batch.put(Table::ScalingPolicies, record.store_key(), encode(record.as_ref()))
            }
            AutoScalingChange::DeletePolicy(key) => batch.delete(Table::ScalingPolicies, key.clone()),
            AutoScalingChange::PutScheduledAction(record) => {
                batch.put(Table::ScheduledActions, record.store_key(), encode(record.as_ref()))
            }
            AutoScalingChange::DeleteScheduledAction(key) => batch.delete(Table::ScheduledActions, key.clone()),
            AutoScalingChange::PutActivity(record) => {
                batch.put(Table::ScalingActivities, record.store_key(), encode(record.as_ref()))
            }
            AutoScalingChange::DeleteActivity(key) => batch.delete(Table::ScalingActivities, key.clone()),
        }
    }

    pub fn apply(&mut self, change: AutoScalingChange) {
        match change {
            AutoScalingChange::PutTarget(record) => {
                self.targets.insert(record.key.store_key(), *record);
            }
            AutoScalingChange::DeleteTarget(key) => {
                self.targets.remove(&key);
            }
            AutoScalingChange::PutPolicy(record) => {
                self.policies.insert(record.store_key(), *record);
            }
            AutoScalingChange::DeletePolicy(key) => {
                self.policies.remove(&key);
            }
            AutoScalingChange::PutScheduledAction(record) => {
                self.scheduled_actions.insert(record.store_key(), *record);
            }
            AutoScalingChange::DeleteScheduledAction(key) => {
                self.scheduled_actions.remove(&key);
            }
            AutoScalingChange::PutActivity(record) => {
                self.activities.insert(record.store_key(), *record);
            }
            AutoScalingChange::DeleteActivity(key) => {
                self.activities.remove(&key);
            }
        }
    }

    /// The records of one target in `map` (keyed `RESOURCE-ID\0NAME`).
    pub fn of_target<'a, T>(map: &'a BTreeMap<String, T>, target: &records::TargetKey) -> impl Iterator<Item = &'a T> {
        let prefix = format!("{}\u{0}", target.store_key());
        map.range(prefix.clone()..).take_while(move |(key, _)| key.starts_with(&prefix)).map(|(_, record)| record)
    }
}

/// Serialises the engine's decisions (alarm actions and scheduled actions run in different
/// tasks), so two never read the same desired count and both write theirs.
#[derive(Default)]
pub struct AutoScalingRuntime {
    pub(crate) decisions: tokio::sync::Mutex<()>,
}
