//! Term patterns for unstructured events: `ERROR`, `"ERROR 500"`, `ERROR -Exiting`,
//! `?ERROR ?WARN`.
//!
//! Terms are case-sensitive substrings. Plain terms must all appear; `-term` must not. A `?`
//! starts an alternative, and the plain and `-` terms after it belong to that alternative until
//! the next `?`: `?ERROR MainThread ?WARN Deadlock` is (ERROR and MainThread) or (WARN and
//! Deadlock) — the grouping AWS's CDK `anyTermGroup` renders. Terms before the first `?` form
//! an alternative of their own. AWS asks for quotes around terms with non-alphanumeric
//! characters; bare `ERROR:` or `a.b` are accepted here as literal text all the same.

use crate::lexer::Cursor;
use crate::PatternError;

#[derive(Debug, Clone)]
pub(crate) struct TermPattern {
    alternatives: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
struct Term {
    text: String,
    exclude: bool,
}

impl Term {
    fn holds(&self, message: &str) -> bool {
        if self.exclude {
            !message.contains(&self.text)
        } else {
            // AWS documents `" "` as "match everything": a blank phrase is no constraint.
            self.text.trim().is_empty() || message.contains(&self.text)
        }
    }
}

impl TermPattern {
    pub(crate) fn matches(&self, message: &str) -> bool {
        self.alternatives.iter().any(|terms| terms.iter().all(|t| t.holds(message)))
    }
}

pub(crate) fn parse(src: &str) -> Result<TermPattern, PatternError> {
    let mut cur = Cursor::new(src, 0);
    let mut alternatives: Vec<Vec<Term>> = Vec::new();
    loop {
        cur.skip_ws();
        if cur.at_end() {
            break;
        }
        let start = cur.pos();
        let alternative = cur.eat("?");
        cur.skip_ws();
        let exclude = cur.eat("-");
        cur.skip_ws();
        let text = match cur.peek() {
            Some('"') => unescape(cur.quoted()?),
            _ => {
                let word_at = cur.pos();
                let word = cur.until_blank();
                if let Some(i) = word.find('"') {
                    return Err(cur.error(word_at + i, "quote inside an unquoted term (quote the whole term)"));
                }
                if word.is_empty() {
                    return Err(cur.error(start, "'?' or '-' must be followed by a term"));
                }
                word.to_string()
            }
        };
        if exclude && text.is_empty() {
            return Err(cur.error(start, "'-' must be followed by a non-empty term"));
        }
        if alternative || alternatives.is_empty() {
            alternatives.push(Vec::new());
        }
        if let Some(terms) = alternatives.last_mut() {
            terms.push(Term { text, exclude });
        }
    }
    Ok(TermPattern { alternatives })
}

/// Inside quotes `\"` and `\\` stand for the character; any other backslash is literal, so a
/// quoted Windows path reads as written.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('"' | '\\')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
