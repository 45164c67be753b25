//! EventBridge event patterns: a pattern is parsed once ([`Pattern::parse`], which refuses
//! what EventBridge refuses, with its reason) and then matched against many events.
//!
//! The rules, as EventBridge documents them:
//! - a pattern is a JSON object; every field it names must match (and), and a field's array
//!   lists the conditions of which one must match (or);
//! - a field whose event value is an array matches when any element does;
//! - `$or` takes patterns of which at least one must match, beside the other fields;
//! - conditions: literals (strings exactly, numbers by value, `null`, booleans), `prefix`,
//!   `suffix` and `equals-ignore-case` (the first two also with `equals-ignore-case` inside),
//!   `wildcard` (`*`, `\*` for a star), `anything-but` (a literal, a list, or a `prefix`,
//!   `suffix`, `equals-ignore-case` or `wildcard` inside), `numeric` (one or two comparisons),
//!   `exists` (true: the field is there and not an object; false: it is not there), and `cidr`
//!   (an IPv4 address in a range);
//! - a field the event lacks matches only `exists: false`.

mod condition;
mod parse;

use condition::Condition;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Event pattern is not valid. Reason: {0}")]
pub struct PatternError(pub String);

/// A parsed event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

/// One object level of a pattern.
#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    fields: Vec<(String, Field)>,
    /// Each `$or` of this level: its alternatives.
    any_of: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    Conditions(Vec<Condition>),
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        parse::pattern(text)
    }

    /// Whether `event` (the whole event: `source`, `detail-type`, `detail`, …) matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.matches(event)
    }
}

static EMPTY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(Default::default()));

impl Node {
    fn matches(&self, value: &Value) -> bool {
        let object = match value {
            Value::Object(object) => object,
            Value::Array(items) => return items.iter().any(|item| self.matches(item)),
            _ => return false,
        };
        self.fields.iter().all(|(name, field)| match (field, object.get(name)) {
            (Field::Nested(node), Some(inner)) => node.matches(inner),
            // Inside a field the event lacks, only `exists: false` can hold.
            (Field::Nested(node), None) => node.matches(&EMPTY),
            (Field::Conditions(conditions), None) => conditions.iter().any(Condition::matches_absent),
            (Field::Conditions(conditions), Some(Value::Array(items))) => {
                items.iter().any(|item| conditions.iter().any(|condition| condition.matches(item)))
            }
            (Field::Conditions(conditions), Some(inner)) => conditions.iter().any(|condition| condition.matches(inner)),
        }) && self.any_of.iter().all(|alternatives| alternatives.iter().any(|node| node.matches(value)))
    }
}

#[cfg(test)]
mod tests;
