//! ELBv2 (Application Load Balancers): load balancers, target groups with their registered
//! targets, listeners and rules (`records`), the actions on them (`load_balancers`,
//! `target_groups`, `targets`, `listeners`, `rules`, `tags`), what proxies report of target
//! health (`health`), the document every proxy serves (`document`), the drain reconciler
//! that lets deregistered targets go once their delay has passed (`draining`), and services'
//! tasks as targets (`service_targets`: registered when RUNNING, drained before they stop).
//!
//! Invariant: all ELB state lives in [`ElbState`] and changes only through [`ElbChange`]s
//! inside `ControlPlane::mutate`, so a change is durable before any proxy serves it; every
//! such write moves the proxy document's generation on.
//!
//! Not here: the data plane (`berth-proxy`), the wire (`berth-query-wire`, `berth-api`).

pub mod arns;
pub mod document;
pub mod draining;
pub mod error;
pub mod health;
pub mod listeners;
pub mod load_balancers;
pub mod records;
pub mod rules;
pub mod service_targets;
pub mod tags;
pub mod target_groups;
pub mod targets;
pub mod traffic_shift;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{ListenerRecord, LoadBalancerRecord, RuleRecord, TargetGroupRecord};
use std::collections::BTreeMap;

pub use error::{ElbError, ElbErrorKind};

/// One durable change to ELB state (the `Change::Elb` of a batch).
#[derive(Debug, Clone)]
pub enum ElbChange {
    PutLoadBalancer(Box<LoadBalancerRecord>),
    DeleteLoadBalancer(String),
    PutTargetGroup(Box<TargetGroupRecord>),
    DeleteTargetGroup(String),
    PutListener(Box<ListenerRecord>),
    DeleteListener(String),
    PutRule(Box<RuleRecord>),
    DeleteRule(String),
}

/// Every ELB record by ARN, as the store holds them.
#[derive(Debug, Default)]
pub struct ElbState {
    pub load_balancers: BTreeMap<String, LoadBalancerRecord>,
    pub target_groups: BTreeMap<String, TargetGroupRecord>,
    pub listeners: BTreeMap<String, ListenerRecord>,
    pub rules: BTreeMap<String, RuleRecord>,
}

impl ElbState {
    pub fn load(store: &dyn Store) -> Result<ElbState, StoreError> {
        let mut state = ElbState::default();
        scan(store, Table::ElbLoadBalancers, |record| state.apply(ElbChange::PutLoadBalancer(Box::new(record))))?;
        scan(store, Table::ElbTargetGroups, |record| state.apply(ElbChange::PutTargetGroup(Box::new(record))))?;
        scan(store, Table::ElbListeners, |record| state.apply(ElbChange::PutListener(Box::new(record))))?;
        scan(store, Table::ElbRules, |record| state.apply(ElbChange::PutRule(Box::new(record))))?;
        Ok(state)
    }

    /// Adds the store operations of `change` to `batch`.
    pub fn write(change: &ElbChange, batch: &mut WriteBatch) {
        match change {
            ElbChange::PutLoadBalancer(record) => {
                batch.put(Table::ElbLoadBalancers, record.arn.clone(), encode(record.as_ref()))
            }
            ElbChange::DeleteLoadBalancer(arn) => batch.delete(Table::ElbLoadBalancers, arn.clone()),
            ElbChange::PutTargetGroup(record) => {
                batch.put(Table::ElbTargetGroups, record.arn.clone(), encode(record.as_ref()))
            }
            ElbChange::DeleteTargetGroup(arn) => batch.delete(Table::ElbTargetGroups, arn.clone()),
            ElbChange::PutListener(record) => {
                batch.put(Table::ElbListeners, record.arn.clone(), encode(record.as_ref()))
            }
            ElbChange::DeleteListener(arn) => batch.delete(Table::ElbListeners, arn.clone()),
            ElbChange::PutRule(record) => batch.put(Table::ElbRules, record.arn.clone(), encode(record.as_ref())),
            ElbChange::DeleteRule(arn) => batch.delete(Table::ElbRules, arn.clone()),
        }
    }

    pub fn apply(&mut self, change: ElbChange) {
        match change {
            ElbChange::PutLoadBalancer(record) => {
                self.load_balancers.insert(record.arn.clone(), *record);
            }
            ElbChange::DeleteLoadBalancer(arn) => {
                self.load_balancers.remove(&arn);
            }
            ElbChange::PutTargetGroup(record) => {
                self.target_groups.insert(record.arn.clone(), *record);
            }
            ElbChange::DeleteTargetGroup(arn) => {
                self.target_groups.remove(&arn);
            }
            ElbChange::PutListener(record) => {
                self.listeners.insert(record.arn.clone(), *record);
            }
            ElbChange::DeleteListener(arn) => {
                self.listeners.remove(&arn);
            }
            ElbChange::PutRule(record) => {
                self.rules.insert(record.arn.clone(), *record);
            }
            ElbChange::DeleteRule(arn) => {
                self.rules.remove(&arn);
            }
        }
    }

    /// The listeners of a load balancer.
    pub fn listeners_of<'a>(&'a self, load_balancer_arn: &'a str) -> impl Iterator<Item = &'a ListenerRecord> + 'a {
        self.listeners.values().filter(move |listener| listener.load_balancer_arn == load_balancer_arn)
    }

    /// The rules of a listener (not its default rule), in priority order.
    pub fn rules_of(&self, listener_arn: &str) -> Vec<&RuleRecord> {
        let mut rules: Vec<&RuleRecord> =
            self.rules.values().filter(|rule| rule.listener_arn == listener_arn).collect();
        rules.sort_by_key(|rule| rule.priority);
        rules
    }

    /// The load balancers whose listeners or rules forward to the target group.
    pub fn load_balancers_using(&self, target_group_arn: &str) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        let listeners = self.listeners.values().filter(|listener| {
            listener.default_actions.iter().any(|action| action.target_groups().any(|arn| arn == target_group_arn))
                || self.rules.values().any(|rule| {
                    rule.listener_arn == listener.arn
                        && rule.actions.iter().any(|action| action.target_groups().any(|arn| arn == target_group_arn))
                })
        });
        for listener in listeners {
            if !users.contains(&listener.load_balancer_arn) {
                users.push(listener.load_balancer_arn.clone());
            }
        }
        users.sort();
        users
    }
}
