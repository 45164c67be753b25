//! CreateRule, DescribeRules, ModifyRule, DeleteRule and SetRulePriorities. A listener's
//! default rule is its default actions: it is described with the rules (priority `default`)
//! but cannot be deleted or given a priority.

use super::listeners::{check_actions, listener};
use super::records::{ActionRecord, RuleRecord};
use super::{arns, ElbChange, ElbError, ElbErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_proxy_protocol::Condition;
use berth_types::Tag;

/// ALB's limit of rules per load balancer (not counting default rules).
const MAX_RULES: usize = 100;
/// ALB's limit of condition values in one rule.
const MAX_CONDITION_VALUES: usize = 5;

/// One rule as DescribeRules answers it, the default rule included.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleView {
    pub arn: String,
    /// `None` for the default rule.
    pub priority: Option<u32>,
    pub conditions: Vec<Condition>,
    pub actions: Vec<ActionRecord>,
}

fn rule<'a>(state: &'a State, arn: &str) -> Result<&'a RuleRecord, ElbError> {
    state.elb.rules.get(arn).ok_or_else(|| ElbError::new(ElbErrorKind::RuleNotFound, format!("Rule '{arn}' not found")))
}

fn is_default_rule(state: &State, arn: &str) -> bool {
    state.elb.listeners.values().any(|listener| arns::default_rule(&listener.arn) == arn)
}

fn check_conditions(conditions: &[Condition]) -> Result<(), ElbError> {
    if conditions.is_empty() {
        return Err(ElbError::validation("A rule must have at least one condition"));
    }
    let values: usize = conditions
        .iter()
        .map(|condition| match condition {
            Condition::PathPattern(values) | Condition::HostHeader(values) | Condition::HttpRequestMethod(values) => {
                values.len()
            }
            Condition::HttpHeader { values, .. } => values.len(),
            Condition::QueryString(pairs) => pairs.len(),
            Condition::SourceIp(values) => values.len(),
        })
        .sum();
    if values > MAX_CONDITION_VALUES {
        return Err(ElbError::new(
            ElbErrorKind::TooManyRules,
            format!("A rule can have at most {MAX_CONDITION_VALUES} condition values; this one has {values}"),
        ));
    }
    let kinds: Vec<std::mem::Discriminant<Condition>> = conditions
        .iter()
        .filter(|condition| !matches!(condition, Condition::HttpHeader { .. } | Condition::QueryString(_)))
        .map(std::mem::discriminant)
        .collect();
    if (1..kinds.len()).any(|index| kinds[..index].contains(&kinds[index])) {
        return Err(ElbError::validation(
            "A rule can have each of path-pattern, host-header, http-request-method and source-ip at most once",
        ));
    }
    Ok(())
}

fn priority_taken(state: &State, listener_arn: &str, priority: u32, except: Option<&str>) -> bool {
    state
        .elb
        .rules
        .values()
        .any(|rule| rule.listener_arn == listener_arn && rule.priority == priority && Some(rule.arn.as_str()) != except)
}

impl ControlPlane {
    pub async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: Vec<Condition>,
        actions: Vec<ActionRecord>,
        tags: Vec<Tag>,
    ) -> ControlResult<RuleRecord> {
        check_conditions(&conditions)?;
        self.mutate(|state| {
            let listener = listener(state, listener_arn)?;
            if priority_taken(state, listener_arn, priority, None) {
                return Err(ElbError::new(
                    ElbErrorKind::PriorityInUse,
                    format!("Priority '{priority}' is currently in use"),
                )
                .into());
            }
            let rules_of_load_balancer = state
                .elb
                .rules
                .values()
                .filter(|rule| {
                    state.elb.listeners.get(&rule.listener_arn).map(|l| &l.load_balancer_arn)
                        == Some(&listener.load_balancer_arn)
                })
                .count();
            if rules_of_load_balancer >= MAX_RULES {
                return Err(ElbError::new(
                    ElbErrorKind::TooManyRules,
                    format!("You've reached the limit on the number of rules per load balancer ({MAX_RULES})"),
                )
                .into());
            }
            check_actions(state, &listener.load_balancer_arn, &actions)?;
            super::tags::check_tags(&tags, &[])?;
            let record = RuleRecord {
                arn: arns::rule(listener_arn, &arns::new_id()),
                listener_arn: listener_arn.to_string(),
                priority,
                conditions,
                actions,
                tags,
            };
            Ok((vec![Change::Elb(ElbChange::PutRule(Box::new(record.clone())))], record))
        })
        .await
    }

    /// A listener's rules in priority order with its default rule last, or the named rules.
    pub fn describe_rules(&self, listener_arn: Option<&str>, rule_arns: &[String]) -> ControlResult<Vec<RuleView>> {
        let state = self.read();
        let default_view = |listener_arn: &str| -> Result<RuleView, ElbError> {
            let listener = listener(&state, listener_arn)?;
            Ok(RuleView {
                arn: arns::default_rule(&listener.arn),
                priority: None,
                conditions: vec![],
                actions: listener.default_actions.clone(),
            })
        };
        let view = |rule: &RuleRecord| RuleView {
            arn: rule.arn.clone(),
            priority: Some(rule.priority),
            conditions: rule.conditions.clone(),
            actions: rule.actions.clone(),
        };
        let mut found = Vec::new();
        for arn in rule_arns {
            match state.elb.listeners.values().find(|listener| &arns::default_rule(&listener.arn) == arn) {
                Some(listener) => found.push(default_view(&listener.arn)?),
                None => found.push(view(rule(&state, arn)?)),
            }
        }
        if let Some(listener_arn) = listener_arn {
            listener(&state, listener_arn)?;
            found.extend(state.elb.rules_of(listener_arn).into_iter().map(view));
            found.push(default_view(listener_arn)?);
        }
        Ok(found)
    }

    /// Replaces the rule's conditions and/or actions; the default rule's actions are its
    /// listener's default actions.
    pub async fn modify_rule(
        &self,
        arn: &str,
        conditions: Option<Vec<Condition>>,
        actions: Option<Vec<ActionRecord>>,
    ) -> ControlResult<RuleView> {
        if let Some(conditions) = &conditions {
            check_conditions(conditions)?;
        }
        self.mutate(|state| {
            if let Some(listener) =
                state.elb.listeners.values().find(|listener| arns::default_rule(&listener.arn) == arn)
            {
                if conditions.is_some() {
                    return Err(ElbError::new(
                        ElbErrorKind::OperationNotPermitted,
                        "The default rule has no conditions",
                    )
                    .into());
                }
                let mut listener = listener.clone();
                if let Some(actions) = actions {
                    check_actions(state, &listener.load_balancer_arn, &actions)?;
                    listener.default_actions = actions;
                }
                let view = RuleView {
                    arn: arn.to_string(),
                    priority: None,
                    conditions: vec![],
                    actions: listener.default_actions.clone(),
                };
                return Ok((vec![Change::Elb(ElbChange::PutListener(Box::new(listener)))], view));
            }
            let mut record = rule(state, arn)?.clone();
            if let Some(conditions) = conditions {
                record.conditions = conditions;
            }
            if let Some(actions) = actions {
                let load_balancer_arn = listener(state, &record.listener_arn)?.load_balancer_arn.clone();
                check_actions(state, &load_balancer_arn, &actions)?;
                record.actions = actions;
            }
            let view = RuleView {
                arn: record.arn.clone(),
                priority: Some(record.priority),
                conditions: record.conditions.clone(),
                actions: record.actions.clone(),
            };
            Ok((vec![Change::Elb(ElbChange::PutRule(Box::new(record)))], view))
        })
        .await
    }

    pub async fn delete_rule(&self, arn: &str) -> ControlResult<()> {
        self.mutate(|state| {
            if is_default_rule(state, arn) {
                return Err(ElbError::new(ElbErrorKind::OperationNotPermitted, "Default rule cannot be deleted").into());
            }
            rule(state, arn)?;
            Ok((vec![Change::Elb(ElbChange::DeleteRule(arn.to_string()))], ()))
        })
        .await
    }

    /// Gives the rules their new priorities at once (so two rules may swap).
    pub async fn set_rule_priorities(&self, priorities: Vec<(String, u32)>) -> ControlResult<Vec<RuleView>> {
        self.mutate(|state| {
            let mut updated: Vec<RuleRecord> = Vec::new();
            for (arn, priority) in &priorities {
                if is_default_rule(state, arn) {
                    return Err(ElbError::new(
                        ElbErrorKind::OperationNotPermitted,
                        "The priority of the default rule cannot be changed",
                    )
                    .into());
                }
                let mut record = rule(state, arn)?.clone();
                record.priority = *priority;
                updated.push(record);
            }
            for record in &updated {
                let clash_in_request = updated.iter().any(|other| {
                    other.arn != record.arn
                        && other.listener_arn == record.listener_arn
                        && other.priority == record.priority
                });
                let clash_in_store = state.elb.rules.values().any(|other| {
                    other.listener_arn == record.listener_arn
                        && other.priority == record.priority
                        && !updated.iter().any(|moved| moved.arn == other.arn)
                });
                if clash_in_request || clash_in_store {
                    return Err(ElbError::new(
                        ElbErrorKind::PriorityInUse,
                        format!("Priority '{}' is currently in use", record.priority),
                    )
                    .into());
                }
            }
            let views = updated
                .iter()
                .map(|record| RuleView {
                    arn: record.arn.clone(),
                    priority: Some(record.priority),
                    conditions: record.conditions.clone(),
                    actions: record.actions.clone(),
                })
                .collect();
            let changes = updated.into_iter().map(|record| Change::Elb(ElbChange::PutRule(Box::new(record)))).collect();
            Ok((changes, views))
        })
        .await
    }
}
