//! The parsed form of a cluster query expression: a tree of `and`/`or`/`not` over tests of
//! the form `subject operator [argument]`.
//!
//! Invariant: every node here was checked by the parser — the operator is one ECS allows for
//! the subject, arguments of `registeredAt` are dates and of `runningTasksCount` numbers, and
//! patterns are compiled — so evaluation never fails. Nothing here knows how to read text.

use regex::Regex;

/// A boolean combination of tests.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Test(Test),
}

/// `subject operator [argument]`.
#[derive(Debug, Clone)]
pub(crate) struct Test {
    pub subject: Subject,
    pub operator: Operator,
    pub argument: Argument,
}

/// What a test looks at on a container instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    AgentConnected,
    AgentVersion,
    Attribute(String),
    Ec2InstanceId,
    RegisteredAt,
    RunningTasksCount,
    TaskGroup,
}

impl Subject {
    /// Whether the subject's value can change when a task is placed on the instance, which
    /// decides whether placement may evaluate a constraint once or must re-evaluate it.
    pub fn changes_with_placement(&self) -> bool {
        matches!(self, Subject::RunningTasksCount | Subject::TaskGroup)
    }

    pub fn name(&self) -> String {
        match self {
            Subject::AgentConnected => "agentConnected".to_string(),
            Subject::AgentVersion => "agentVersion".to_string(),
            Subject::Attribute(name) => format!("attribute:{name}"),
            Subject::Ec2InstanceId => "ec2InstanceId".to_string(),
            Subject::RegisteredAt => "registeredAt".to_string(),
            Subject::RunningTasksCount => "runningTasksCount".to_string(),
            Subject::TaskGroup => "task:group".to_string(),
        }
    }

    /// The operators ECS documents for the subject (cluster query language reference).
    /// `exists`/`!exists` are also accepted for `task:group`, since a group is present or not.
    pub fn supports(&self, operator: Operator) -> bool {
        use Operator::*;
        let ordering = [Equals, NotEquals, GreaterThan, GreaterThanEqual, LessThan, LessThanEqual];
        let membership = [Equals, NotEquals, In, NotIn, Matches, NotMatches];
        match self {
            Subject::Attribute(_) => true,
            Subject::AgentConnected | Subject::Ec2InstanceId => membership.contains(&operator),
            Subject::TaskGroup => membership.contains(&operator) || matches!(operator, Exists | NotExists),
            Subject::AgentVersion | Subject::RegisteredAt | Subject::RunningTasksCount => ordering.contains(&operator),
        }
    }
}

/// A comparison operator. Each negated operator is exactly `not` of its positive form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Equals,
    NotEquals,
    GreaterThan,
    GreaterThanEqual,
    LessThan,
    LessThanEqual,
    Exists,
    NotExists,
    In,
    NotIn,
    Matches,
    NotMatches,
}

impl Operator {
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equals => "==",
            Operator::NotEquals => "!=",
            Operator::GreaterThan => ">",
            Operator::GreaterThanEqual => ">=",
            Operator::LessThan => "<",
            Operator::LessThanEqual => "<=",
            Operator::Exists => "exists",
            Operator::NotExists => "!exists",
            Operator::In => "in",
            Operator::NotIn => "!in",
            Operator::Matches => "=~",
            Operator::NotMatches => "!~",
        }
    }

    /// The positive operator this one negates, if it is a negation.
    pub fn negated_form_of(self) -> Option<Operator> {
        match self {
            Operator::NotEquals => Some(Operator::Equals),
            Operator::NotExists => Some(Operator::Exists),
            Operator::NotIn => Some(Operator::In),
            Operator::NotMatches => Some(Operator::Matches),
            _ => None,
        }
    }
}

/// The right-hand side of a test.
#[derive(Debug, Clone)]
pub(crate) enum Argument {
    None,
    Value(Literal),
    List(Vec<Literal>),
    /// Anchored at both ends: `=~` matches the whole value, like Java's `String.matches`.
    Pattern(Regex),
}

/// A value as written, with the interpretations decided once at parse time.
#[derive(Debug, Clone)]
pub(crate) struct Literal {
    pub text: String,
    /// Set when the text is a plain decimal number.
    pub number: Option<f64>,
    /// Set for `registeredAt` arguments.
    pub date: Option<DateLiteral>,
}

/// A date argument: milliseconds since the epoch, and whether only a day was written (then
/// the comparison is made by whole days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateLiteral {
    pub epoch_ms: i64,
    pub day_only: bool,
}
