//! JSON patterns: `{ $.eventType = "Update*" && ($.latency > 100 || $.error IS TRUE) }`.
//!
//! Selectors start at `$` and step through `.key`, `[n]`, and the wildcards `.*` and `[*]`
//! (a condition on a wildcard holds if it holds for any value reached). Conditions: `=` and
//! `!=` against strings (quoted or bare, `*` wildcards), numbers or `%regex%`; `<`, `>`, `<=`,
//! `>=` against numbers; `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`. A condition on a
//! property that is absent is false, except `NOT EXISTS`. An event that is not a JSON object or
//! array never matches.

use serde_json::Value;

use crate::expr::{self, Expr};
use crate::lexer::Cursor;
use crate::value::{self, Comparison};
use crate::PatternError;

#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    expr: Expr<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    selector: Vec<Step>,
    test: Test,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
    AnyKey,
    AnyIndex,
}

#[derive(Debug, Clone)]
enum Test {
    Compare(Comparison),
    IsNull,
    Is(bool),
    NotExists,
}

/// Characters that end a property name in a selector.
const KEY_STOPS: &[char] = &['.', '[', ']', '=', '!', '<', '>', '(', ')', '{', '}', '&', '|', '"', '%'];
/// Characters that end a bare value.
const VALUE_STOPS: &[char] = &[')', '}'];

impl JsonPattern {
    pub(crate) fn matches(&self, message: &str) -> bool {
        let Ok(root) = serde_json::from_str::<Value>(message) else { return false };
        if !matches!(root, Value::Object(_) | Value::Array(_)) {
            return false;
        }
        self.expr.eval(&|condition: &Condition| condition.holds(&root))
    }
}

impl Condition {
    fn holds(&self, root: &Value) -> bool {
        let values = resolve(&self.selector, root);
        match &self.test {
            Test::NotExists => values.is_empty(),
            Test::IsNull => values.iter().any(|v| v.is_null()),
            Test::Is(b) => values.iter().any(|v| v.as_bool() == Some(*b)),
            Test::Compare(cmp) => values.iter().any(|v| cmp.test_json(v)),
        }
    }
}

/// Breadth-first so a long selector cannot recurse deeply.
fn resolve<'v>(steps: &[Step], root: &'v Value) -> Vec<&'v Value> {
    let mut current = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match (step, v) {
                (Step::Key(k), Value::Object(map)) => next.extend(map.get(k)),
                (Step::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                (Step::AnyKey, Value::Object(map)) => next.extend(map.values()),
                (Step::AnyIndex | Step::AnyKey, Value::Array(items)) => next.extend(items.iter()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

pub(crate) fn parse(src: &str, start: usize) -> Result<JsonPattern, PatternError> {
    let mut cur = Cursor::new(src, start);
    cur.eat("{");
    cur.skip_ws();
    if cur.peek() == Some('}') {
        return Err(cur.error(start, "empty JSON pattern"));
    }
    let mut regexes = 0;
    let expr = expr::parse(&mut cur, &mut |c: &mut Cursor| condition(c, &mut regexes))?;
    cur.skip_ws();
    if cur.at_end() {
        return Err(cur.error(start, "missing '}' to close the '{'"));
    }
    if !cur.eat("}") {
        return Err(cur.error(cur.pos(), format!("expected '&&', '||' or '}}', found {}", cur.found())));
    }
    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.error(cur.pos(), format!("unexpected {} after the closing '}}'", cur.found())));
    }
    Ok(JsonPattern { expr })
}

fn condition(cur: &mut Cursor, regexes: &mut usize) -> Result<Condition, PatternError> {
    cur.skip_ws();
    let selector = selector(cur)?;
    cur.skip_ws();
    let keyword_at = cur.pos();
    let test = match cur.word() {
        "" => {
            let op_at = cur.pos();
            match value::comparison(cur, VALUE_STOPS, regexes)? {
                Some(cmp) => Test::Compare(cmp),
                None => {
                    return Err(cur.error(
                        op_at,
                        format!("expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS), found {}", cur.found()),
                    ))
                }
            }
        }
        w if w.eq_ignore_ascii_case("IS") => {
            cur.skip_ws();
            let what_at = cur.pos();
            match cur.word().to_ascii_uppercase().as_str() {
                "NULL" => Test::IsNull,
                "TRUE" => Test::Is(true),
                "FALSE" => Test::Is(false),
                _ => return Err(cur.error(what_at, "expected NULL, TRUE or FALSE after IS")),
            }
        }
        w if w.eq_ignore_ascii_case("NOT") => {
            cur.skip_ws();
            let what_at = cur.pos();
            if !cur.word().eq_ignore_ascii_case("EXISTS") {
                return Err(cur.error(what_at, "expected EXISTS after NOT"));
            }
            Test::NotExists
        }
        other => return Err(cur.error(keyword_at, format!("unknown operator '{other}'"))),
    };
    Ok(Condition { selector, test })
}

fn selector(cur: &mut Cursor) -> Result<Vec<Step>, PatternError> {
    let start = cur.pos();
    if !cur.eat("$") {
        return Err(cur.error(start, format!("expected a selector such as $.field, found {}", cur.found())));
    }
    let mut steps = Vec::new();
    loop {
        let step_at = cur.pos();
        if cur.eat(".*") {
            steps.push(Step::AnyKey);
        } else if cur.eat(".") {
            let key = cur.bare(KEY_STOPS);
            if key.is_empty() {
                return Err(cur.error(step_at, "empty property name in selector"));
            }
            steps.push(Step::Key(key.to_string()));
        } else if cur.eat("[*]") {
            steps.push(Step::AnyIndex);
        } else if cur.eat("[") {
            let digits = cur.bare(&[']']);
            let index = digits.parse::<usize>().ok().filter(|_| digits.bytes().all(|b| b.is_ascii_digit()));
            match index {
                Some(i) if cur.eat("]") => steps.push(Step::Index(i)),
                _ => return Err(cur.error(step_at, "expected an array index such as [0] or [*]")),
            }
        } else {
            break;
        }
    }
    if steps.is_empty() {
        return Err(cur.error(start, "empty selector: '$' must be followed by .field or [index]"));
    }
    Ok(steps)
}
