//! Space-delimited patterns: `[ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]`.
//!
//! The event splits on blank space; a `"…"` or `[…]` group is one field, compared without its
//! quotes or brackets. Each pattern slot is a field name, optionally with conditions on that
//! same field joined by `&&` / `||`, or `...`, which takes any number of fields (including
//! none). Without `...` the field count must equal the slot count. A condition naming a field
//! other than its own slot is rejected: it would make matching depend on every binding at once.

use crate::expr::{self, Expr};
use crate::lexer::Cursor;
use crate::value::{self, Comparison};
use crate::PatternError;

#[derive(Debug, Clone)]
pub(crate) struct DelimitedPattern {
    slots: Vec<Slot>,
}

#[derive(Debug, Clone)]
enum Slot {
    Ellipsis,
    Field { condition: Option<Expr<Comparison>> },
}

/// A condition's field name and where it is written, before it is checked against its slot.
struct NamedComparison {
    name: String,
    at: usize,
    comparison: Option<Comparison>,
}

const VALUE_STOPS: &[char] = &[',', ']', ')'];

impl DelimitedPattern {
    /// One pass over the slots keeps, for each, the set of field positions it can end at, so
    /// any number of `...` costs slots × fields, never a combinatorial search.
    pub(crate) fn matches(&self, message: &str) -> bool {
        let fields = split_fields(message);
        let n = fields.len();
        let mut reach = vec![false; n + 1];
        reach[0] = true;
        for slot in &self.slots {
            let mut next = vec![false; n + 1];
            match slot {
                Slot::Ellipsis => {
                    if let Some(first) = reach.iter().position(|&r| r) {
                        next[first..].iter_mut().for_each(|r| *r = true);
                    }
                }
                Slot::Field { condition } => {
                    for (j, field) in fields.iter().enumerate() {
                        if reach[j]
                            && condition.as_ref().is_none_or(|c| c.eval(&|cmp: &Comparison| cmp.test_text(field)))
                        {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            if !next.contains(&true) {
                return false;
            }
            reach = next;
        }
        reach[n]
    }
}

/// Splits an event into fields. An unclosed quote or bracket runs to the end of the event.
pub(crate) fn split_fields(message: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = message;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else { break };
        let (field, after) = match first {
            '"' => {
                let body = &rest[1..];
                let mut escaped = false;
                let end = body.char_indices().find_map(|(i, c)| {
                    let closes = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    closes.then_some(i)
                });
                match end {
                    Some(i) => (&body[..i], &body[i + 1..]),
                    None => (body, ""),
                }
            }
            '[' => {
                let body = &rest[1..];
                let mut depth = 1usize;
                let end = body.char_indices().find_map(|(i, c)| {
                    match c {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ => {}
                    }
                    (depth == 0).then_some(i)
                });
                match end {
                    Some(i) => (&body[..i], &body[i + 1..]),
                    None => (body, ""),
                }
            }
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        fields.push(field);
        rest = after;
    }
    fields
}

pub(crate) fn parse(src: &str, start: usize) -> Result<DelimitedPattern, PatternError> {
    let mut cur = Cursor::new(src, start);
    cur.eat("[");
    cur.skip_ws();
    if cur.peek() == Some(']') {
        return Err(cur.error(start, "empty space-delimited pattern"));
    }
    let mut regexes = 0;
    let mut slots = Vec::new();
    loop {
        cur.skip_ws();
        if cur.eat("...") {
            slots.push(Slot::Ellipsis);
        } else {
            slots.push(field_slot(&mut cur, &mut regexes)?);
        }
        cur.skip_ws();
        if cur.eat(",") {
            continue;
        }
        if cur.eat("]") {
            break;
        }
        if cur.at_end() {
            return Err(cur.error(start, "missing ']' to close the '['"));
        }
        return Err(cur.error(cur.pos(), format!("expected ',' or ']', found {}", cur.found())));
    }
    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.error(cur.pos(), format!("unexpected {} after the closing ']'", cur.found())));
    }
    Ok(DelimitedPattern { slots })
}

fn field_slot(cur: &mut Cursor, regexes: &mut usize) -> Result<Slot, PatternError> {
    let expr = expr::parse(cur, &mut |c: &mut Cursor| named_comparison(c, regexes))?;
    if let Expr::Leaf(NamedComparison { comparison: None, .. }) = expr {
        return Ok(Slot::Field { condition: None });
    }
    let mut slot_name: Option<String> = None;
    expr.for_each_leaf(&mut |leaf| {
        if slot_name.is_none() {
            slot_name = Some(leaf.name.clone());
        }
    });
    let slot_name = slot_name.unwrap_or_default();
    let condition = expr.try_map(&mut |leaf: NamedComparison| {
        if leaf.name != slot_name {
            return Err(cur.error(
                leaf.at,
                format!(
                    "condition on '{}' in the slot of field '{slot_name}' (conditions apply to their own field)",
                    leaf.name
                ),
            ));
        }
        leaf.comparison.ok_or_else(|| {
            cur.error(leaf.at, format!("field '{}' needs a condition when joined with && or ||", leaf.name))
        })
    })?;
    Ok(Slot::Field { condition: Some(condition) })
}

fn named_comparison(cur: &mut Cursor, regexes: &mut usize) -> Result<NamedComparison, PatternError> {
    cur.skip_ws();
    let at = cur.pos();
    let name = field_name(cur);
    if name.is_empty() {
        return Err(cur.error(at, format!("expected a field name or '...', found {}", cur.found())));
    }
    cur.skip_ws();
    let comparison = value::comparison(cur, VALUE_STOPS, regexes)?;
    Ok(NamedComparison { name: name.to_string(), at, comparison })
}

fn field_name<'a>(cur: &mut Cursor<'a>) -> &'a str {
    let rest = cur.rest();
    let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
    let name = &rest[..len];
    for _ in name.chars() {
        cur.bump();
    }
    name
}
