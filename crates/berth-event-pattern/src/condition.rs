//! One condition of a pattern's field and how a value meets it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    Exact(Literal),
    Prefix(Text),
    Suffix(Text),
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(AnythingBut),
    /// Every comparison must hold.
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
    Cidr {
        network: u32,
        mask: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
}

/// A prefix or suffix, compared exactly or ignoring case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text {
    pub value: String,
    pub ignore_case: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnythingBut {
    Literals(Vec<Literal>),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Literal {
    fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (Literal::Text(text), Value::String(other)) => text == other,
            (Literal::Number(number), Value::Number(other)) => other.as_f64() == Some(*number),
            (Literal::Bool(flag), Value::Bool(other)) => flag == other,
            (Literal::Null, Value::Null) => true,
            _ => false,
        }
    }
}

impl Condition {
    /// Whether the condition holds for a field the event does not have.
    pub(crate) fn matches_absent(&self) -> bool {
        matches!(self, Condition::Exists(false))
    }

    /// Whether `value` (one value: an event array's elements are offered one at a time) meets it.
    pub(crate) fn matches(&self, value: &Value) -> bool {
        match self {
            Condition::Exact(literal) => literal.equals(value),
            Condition::Prefix(text) => value.as_str().is_some_and(|value| text.begins(value)),
            Condition::Suffix(text) => value.as_str().is_some_and(|value| text.ends(value)),
            Condition::EqualsIgnoreCase(text) => value.as_str().is_some_and(|value| value.to_lowercase() == *text),
            Condition::Wildcard(glob) => value.as_str().is_some_and(|value| wildcard(glob, value)),
            Condition::AnythingBut(but) => but.matches(value),
            Condition::Numeric(comparisons) => value
                .as_f64()
                .is_some_and(|number| comparisons.iter().all(|(comparison, bound)| comparison.holds(number, *bound))),
            // A field that is there: `exists` is about leaves, so an object is not one.
            Condition::Exists(wanted) => *wanted && !value.is_object(),
            Condition::Cidr { network, mask } => value
                .as_str()
                .and_then(|text| text.parse::<std::net::Ipv4Addr>().ok())
                .is_some_and(|address| u32::from(address) & mask == *network),
        }
    }
}

impl Text {
    fn begins(&self, value: &str) -> bool {
        if self.ignore_case {
            value.to_lowercase().starts_with(&self.value)
        } else {
            value.starts_with(&self.value)
        }
    }

    fn ends(&self, value: &str) -> bool {
        if self.ignore_case {
            value.to_lowercase().ends_with(&self.value)
        } else {
            value.ends_with(&self.value)
        }
    }
}

impl AnythingBut {
    fn matches(&self, value: &Value) -> bool {
        match self {
            AnythingBut::Literals(literals) => !literals.iter().any(|literal| literal.equals(value)),
            AnythingBut::Prefix(prefix) => value.as_str().is_some_and(|value| !value.starts_with(prefix.as_str())),
            AnythingBut::Suffix(suffix) => value.as_str().is_some_and(|value| !value.ends_with(suffix.as_str())),
            AnythingBut::EqualsIgnoreCase(texts) => {
                value.as_str().is_some_and(|value| !texts.contains(&value.to_lowercase()))
            }
            AnythingBut::Wildcard(globs) => {
                value.as_str().is_some_and(|value| !globs.iter().any(|glob| wildcard(glob, value)))
            }
        }
    }
}

impl Comparison {
    fn holds(self, number: f64, bound: f64) -> bool {
        match self {
            Comparison::Less => number < bound,
            Comparison::LessOrEqual => number <= bound,
            Comparison::Equal => number == bound,
            Comparison::GreaterOrEqual => number >= bound,
            Comparison::Greater => number > bound,
        }
    }
}

/// `*` matches any run of characters; `\*` is a star itself and `\\` a backslash.
pub(crate) fn wildcard(glob: &str, text: &str) -> bool {
    let mut pieces: Vec<String> = vec![String::new()];
    let mut characters = glob.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => pieces.last_mut().expect("one piece").push(characters.next().unwrap_or('\\')),
            '*' => pieces.push(String::new()),
            other => pieces.last_mut().expect("one piece").push(other),
        }
    }
    let (first, rest) = pieces.split_first().expect("one piece");
    let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for piece in middle {
        match remaining.find(piece.as_str()) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}
