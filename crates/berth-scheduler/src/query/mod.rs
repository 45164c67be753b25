//! ECS's cluster query language, used by `memberOf` placement constraints and by
//! ListContainerInstances' `filter`: `subject operator [argument]` joined with `and`/`or`/
//! `not` and parentheses.
//!
//! Owns parsing ([`Expression::parse`], errors with a character position and what was
//! expected) and evaluation against an [`InstanceView`](crate::model::InstanceView).
//!
//! Regular expressions use the `regex` crate, not Java's engine. They match the whole value
//! (as Java's `String.matches` does). Differences from Java: no backreferences, no
//! look-around, no possessive quantifiers or atomic groups — such patterns are rejected at
//! parse time with the position of the pattern, never silently misread.
//!
//! Not here: placement itself; evaluation rules are documented in `evaluate`.

mod evaluate;
mod parser;
mod syntax;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use crate::model::InstanceView;
pub(crate) use evaluate::Facts;
pub use parser::MAX_EXPRESSION_CHARACTERS;
use syntax::{Node, Test};

/// A malformed expression: where (0-based character position) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {message}")]
pub struct QueryError {
    pub position: usize,
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        QueryError { position, message: message.into() }
    }
}

/// A parsed, checked cluster query. Two expressions are equal when their text is.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    root: Node,
    depends_on_placed_tasks: bool,
}

impl Expression {
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let root = parser::parse(text)?;
        let depends_on_placed_tasks = any_test(&root, &|test| test.subject.changes_with_placement());
        Ok(Expression { source: text.to_string(), root, depends_on_placed_tasks })
    }

    /// The text the expression was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the instance is a member of the group the expression describes.
    pub fn matches(&self, instance: &InstanceView) -> bool {
        self.matches_facts(Facts { instance, placed_group: "", placed_count: 0 })
    }

    /// Whether the answer can change when tasks are placed (it reads `runningTasksCount` or
    /// `task:group`); placement evaluates the others once per instance.
    pub fn depends_on_placed_tasks(&self) -> bool {
        self.depends_on_placed_tasks
    }

    pub(crate) fn matches_facts(&self, facts: Facts<'_>) -> bool {
        evaluate::evaluate(&self.root, facts)
    }
}

fn any_test(node: &Node, predicate: &dyn Fn(&Test) -> bool) -> bool {
    match node {
        Node::Or(operands) | Node::And(operands) => operands.iter().any(|operand| any_test(operand, predicate)),
        Node::Not(operand) => any_test(operand, predicate),
        Node::Test(test) => predicate(test),
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expression {}

impl fmt::Display for Expression {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.source)
    }
}

impl FromStr for Expression {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Expression::parse(text)
    }
}
