//! Values on the right of a comparison (`= "Update*"`, `> 100`, `!= %abc%`) and how they test
//! a space-delimited field or a JSON value. Shared by the JSON and space-delimited patterns.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use crate::lexer::Cursor;
use crate::PatternError;

/// AWS allows at most two regular expressions in one JSON or space-delimited pattern.
pub(crate) const MAX_REGEX_VALUES: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
            Op::Le => ord != Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
        }
    }

    /// `=` and `!=` turn a yes/no match into the answer; the ordering operators never get here
    /// because they only take numbers.
    fn apply(self, matched: bool) -> bool {
        if self == Op::Ne {
            !matched
        } else {
            matched
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Literal {
    Text(Glob),
    Number { value: f64, text: String },
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    op: Op,
    literal: Literal,
}

impl Comparison {
    /// Tests a space-delimited field, or a JSON string. A field that reads as a number is
    /// compared as one, so `status_code = 404` and `{ $.code = 404 }` work on "404".
    pub(crate) fn test_text(&self, s: &str) -> bool {
        match &self.literal {
            Literal::Text(glob) => self.op.apply(glob.matches(s)),
            Literal::Regex(regex) => self.op.apply(regex.is_match(s)),
            Literal::Number { value, text } => match parse_number(s) {
                Some(n) => n.partial_cmp(value).is_some_and(|ord| self.op.holds(ord)),
                None => match self.op {
                    Op::Eq => s == text,
                    Op::Ne => s != text,
                    _ => false,
                },
            },
        }
    }

    /// Tests one JSON value. Objects, arrays and null only satisfy `= "*"`, the spelling AWS's
    /// own CDK uses for "the property exists".
    pub(crate) fn test_json(&self, v: &Value) -> bool {
        match v {
            Value::String(s) => self.test_text(s),
            Value::Number(n) => match &self.literal {
                Literal::Number { value, .. } => {
                    n.as_f64().and_then(|x| x.partial_cmp(value)).is_some_and(|ord| self.op.holds(ord))
                }
                _ => self.test_text(&n.to_string()),
            },
            Value::Bool(b) => self.test_text(if *b { "true" } else { "false" }),
            Value::Null | Value::Array(_) | Value::Object(_) => {
                self.op == Op::Eq && matches!(&self.literal, Literal::Text(glob) if glob.is_match_all())
            }
        }
    }
}

/// Reads `OP VALUE` after a selector or field name; `Ok(None)` when no operator follows.
/// `stops` ends a bare value (`)` and `}` in JSON, `,`, `]` and `)` in space-delimited).
pub(crate) fn comparison(
    cur: &mut Cursor,
    stops: &[char],
    regexes: &mut usize,
) -> Result<Option<Comparison>, PatternError> {
    let op_at = cur.pos();
    let Some(op) = cur.operator()? else { return Ok(None) };
    cur.skip_ws();
    let value_at = cur.pos();
    let literal = match cur.peek() {
        Some('"') => Literal::Text(Glob::parse(cur.quoted()?)),
        Some('%') => {
            *regexes += 1;
            if *regexes > MAX_REGEX_VALUES {
                return Err(cur.error(value_at, format!("more than {MAX_REGEX_VALUES} regular expressions")));
            }
            Literal::Regex(cur.regex()?)
        }
        _ => {
            let word = cur.bare(stops);
            if word.is_empty() {
                return Err(
                    cur.error(value_at, format!("expected a value after '{}', found {}", op.symbol(), cur.found()))
                );
            }
            match parse_number(word) {
                Some(value) => Literal::Number { value, text: word.to_string() },
                None => Literal::Text(Glob::parse(word)),
            }
        }
    };
    if !matches!(op, Op::Eq | Op::Ne) && !matches!(literal, Literal::Number { .. }) {
        return Err(cur.error(op_at, format!("operator '{}' needs a number", op.symbol())));
    }
    Ok(Some(Comparison { op, literal }))
}

/// Numbers as AWS writes them: optional sign, digits with an optional fraction, an optional
/// exponent. Spelled out so that "inf", "NaN" and "0x10" stay strings.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A string with `*` wildcards: the literal pieces between the stars.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    parts: Vec<String>,
}

impl Glob {
    /// `\"`, `\\` and `\*` stand for the character itself; any other backslash is literal, so
    /// Windows paths need no doubling.
    pub(crate) fn parse(raw: &str) -> Glob {
        let mut parts = Vec::new();
        let mut part = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => parts.push(std::mem::take(&mut part)),
                '\\' => match chars.next() {
                    Some(e @ ('"' | '\\' | '*')) => part.push(e),
                    Some(other) => {
                        part.push('\\');
                        part.push(other);
                    }
                    None => part.push('\\'),
                },
                c => part.push(c),
            }
        }
        parts.push(part);
        Glob { parts }
    }

    pub(crate) fn is_match_all(&self) -> bool {
        self.parts.len() > 1 && self.parts.iter().all(String::is_empty)
    }

    /// Leftmost placement of each middle piece is optimal, so one pass decides the match.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else { return s.is_empty() };
        let Some((last, middle)) = rest.split_last() else { return s == first };
        let Some(mut tail) = s.strip_prefix(first.as_str()) else { return false };
        for piece in middle {
            match tail.find(piece.as_str()) {
                Some(i) => tail = &tail[i + piece.len()..],
                None => return false,
            }
        }
        tail.ends_with(last.as_str())
    }
}
