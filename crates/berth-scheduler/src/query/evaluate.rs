//! Evaluates a parsed expression against one container instance.
//!
//! Semantics (where ECS's documentation leaves room, these are Berth's choices):
//! - Each negated operator (`!=`, `!in`, `!~`, `!exists`) is exactly `not` of its positive
//!   form. So an instance *without* the attribute satisfies `attribute:x != a`, and
//!   `task:group != web` means "runs no task of group web" (the same as
//!   `not(task:group == web)`).
//! - `task:group` has one value per group with a task on the instance; a positive test holds
//!   when any of them satisfies it. `task:group exists` means the instance runs a task of
//!   some group.
//! - An attribute registered without a value exists but equals nothing.
//! - `registeredAt` against a day (`2018-06-18`) compares whole days: `== 2018-06-18` is the
//!   whole day, `< 2018-06-18` is before it.
//! - `agentVersion` orders dotted versions by segment; `agentConnected` compares `true`/
//!   `false` case-insensitively; everything else is numeric when both sides are plain
//!   numbers and by string otherwise.
//!
//! Invariant: evaluation is total — the parser rejected everything that could not be judged.

use std::cmp::Ordering;

use super::syntax::{Argument, Literal, Node, Operator, Subject, Test};
use super::values::{compare_values, compare_versions, plain_number, MILLISECONDS_PER_DAY};
use crate::model::InstanceView;

/// An instance as a query sees it, including tasks placed on it earlier in the same
/// placement call (which change `runningTasksCount` and `task:group`).
#[derive(Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub instance: &'a InstanceView,
    pub placed_group: &'a str,
    pub placed_count: u32,
}

impl Facts<'_> {
    fn running_tasks_count(&self) -> u32 {
        self.instance.running_tasks_count + self.placed_count
    }

    fn group_is_present(&self, group: &str) -> bool {
        let existing = self.instance.task_groups.get(group).copied().unwrap_or(0);
        let placed = if group == self.placed_group { self.placed_count } else { 0 };
        existing + placed > 0
    }

    /// The groups with at least one task on the instance.
    fn groups(&self) -> impl Iterator<Item = &str> {
        let placed = (self.placed_count > 0
            && self.instance.task_groups.get(self.placed_group).copied().unwrap_or(0) == 0)
            .then_some(self.placed_group);
        self.instance.task_groups.iter().filter(|(_, count)| **count > 0).map(|(group, _)| group.as_str()).chain(placed)
    }
}

pub(crate) fn evaluate(node: &Node, facts: Facts<'_>) -> bool {
    match node {
        Node::Or(operands) => operands.iter().any(|operand| evaluate(operand, facts)),
        Node::And(operands) => operands.iter().all(|operand| evaluate(operand, facts)),
        Node::Not(operand) => !evaluate(operand, facts),
        Node::Test(test) => match test.operator.negated_form_of() {
            Some(positive) => !positive_test_holds(test, positive, facts),
            None => positive_test_holds(test, test.operator, facts),
        },
    }
}

fn positive_test_holds(test: &Test, operator: Operator, facts: Facts<'_>) -> bool {
    let instance = facts.instance;
    let value_holds = |value: &str| value_satisfies(&test.subject, operator, &test.argument, value);
    match &test.subject {
        Subject::TaskGroup => match operator {
            Operator::Exists => facts.groups().next().is_some(),
            // A direct lookup keeps `task:group == X` cheap on instances with many groups.
            Operator::Equals => match &test.argument {
                Argument::Value(literal) => facts.group_is_present(&literal.text),
                _ => false,
            },
            _ => facts.groups().any(value_holds),
        },
        Subject::Attribute(name) => match instance.attributes.get(name) {
            None => false,
            Some(_) if operator == Operator::Exists => true,
            Some(value) => value.as_deref().is_some_and(value_holds),
        },
        Subject::AgentConnected => value_holds(if instance.agent_connected { "true" } else { "false" }),
        Subject::AgentVersion => instance.agent_version.as_deref().is_some_and(value_holds),
        Subject::Ec2InstanceId => value_holds(&instance.ec2_instance_id),
        Subject::RegisteredAt => match &test.argument {
            Argument::Value(literal) => {
                ordering_holds(operator, compare_registered_at(instance.registered_at_epoch_ms, literal))
            }
            _ => false,
        },
        Subject::RunningTasksCount => match &test.argument {
            Argument::Value(Literal { number: Some(number), .. }) => {
                let count = f64::from(facts.running_tasks_count());
                ordering_holds(operator, count.partial_cmp(number).unwrap_or(Ordering::Less))
            }
            _ => false,
        },
    }
}

fn value_satisfies(subject: &Subject, operator: Operator, argument: &Argument, value: &str) -> bool {
    match (operator, argument) {
        (Operator::Exists, _) => true,
        (Operator::Matches, Argument::Pattern(pattern)) => pattern.is_match(value),
        (Operator::In, Argument::List(literals)) => {
            literals.iter().any(|literal| compare_subject_value(subject, value, literal) == Ordering::Equal)
        }
        (_, Argument::Value(literal)) => ordering_holds(operator, compare_subject_value(subject, value, literal)),
        _ => false,
    }
}

fn compare_subject_value(subject: &Subject, value: &str, literal: &Literal) -> Ordering {
    match subject {
        Subject::AgentVersion => compare_versions(value, &literal.text),
        _ => compare_values(value, plain_number(value), &literal.text, literal.number),
    }
}

fn compare_registered_at(registered_at_epoch_ms: i64, literal: &Literal) -> Ordering {
    match literal.date {
        Some(date) if date.day_only => {
            registered_at_epoch_ms.div_euclid(MILLISECONDS_PER_DAY).cmp(&date.epoch_ms.div_euclid(MILLISECONDS_PER_DAY))
        }
        Some(date) => registered_at_epoch_ms.cmp(&date.epoch_ms),
        None => Ordering::Less,
    }
}

fn ordering_holds(operator: Operator, ordering: Ordering) -> bool {
    match operator {
        Operator::Equals => ordering == Ordering::Equal,
        Operator::GreaterThan => ordering == Ordering::Greater,
        Operator::GreaterThanEqual => ordering != Ordering::Less,
        Operator::LessThan => ordering == Ordering::Less,
        Operator::LessThanEqual => ordering != Ordering::Greater,
        _ => false,
    }
}
