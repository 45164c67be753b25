//! CloudWatch Logs filter patterns, as FilterLogEvents' `filterPattern`, StartLiveTail and metric
//! and subscription filters take them: parse once with [`FilterPattern::parse`], then test each
//! log event's message with [`FilterPattern::matches`].
//!
//! The pattern's first non-blank character picks its kind:
//!
//! - `{` — a JSON pattern (`json`): `{ $.level = "ERROR" && $.latency > 100 }`.
//! - `[` — a space-delimited pattern (`delimited`): `[ip, user, ..., status_code = 4*, bytes]`.
//! - `%` — a regular expression standing alone: `%ERROR|WARN%`.
//! - anything else — terms (`terms`): `ERROR -Exiting`, `"ERROR 500"`, `?ERROR ?WARN`.
//! - nothing (empty or all blanks) — every event matches.
//!
//! Invariants: a parsed pattern is immutable, `Send + Sync` and cheap to share; neither
//! [`FilterPattern::parse`] nor [`FilterPattern::matches`] panics on any input, and matching
//! time is bounded by (pattern size × message size) — no backtracking blow-ups. Matching is
//! case sensitive everywhere, as in CloudWatch Logs. Errors read like AWS's
//! InvalidParameterException ("Invalid filter pattern…") and name a character offset.

mod delimited;
mod expr;
mod json;
mod lexer;
mod terms;
mod value;

#[cfg(test)]
mod tests;

use std::fmt::Display;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms(terms::TermPattern),
    Regex(regex::Regex),
    Json(json::JsonPattern),
    Delimited(delimited::DelimitedPattern),
}

/// Why a pattern does not parse. The message starts with "Invalid filter pattern", the words
/// AWS answers with, then says what is wrong and at which character offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    pub message: String,
}

impl PatternError {
    /// `byte` is a byte index into `src`; callers see a character offset, which is what a
    /// person counting along the pattern expects.
    pub(crate) fn at(src: &str, byte: usize, what: impl Display) -> Self {
        PatternError { message: format!("Invalid filter pattern: {what} at offset {}", char_offset(src, byte)) }
    }
}

pub(crate) fn char_offset(src: &str, byte: usize) -> usize {
    src.get(..byte).map_or(0, |before| before.chars().count())
}

impl FilterPattern {
    /// Parses a pattern; the empty or all-whitespace pattern matches everything.
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        let start = text.len() - text.trim_start().len();
        let kind = match text[start..].chars().next() {
            None => Kind::All,
            Some('{') => Kind::Json(json::parse(text, start)?),
            Some('[') => Kind::Delimited(delimited::parse(text, start)?),
            Some('%') => Kind::Regex(standalone_regex(text, start)?),
            Some(_) => Kind::Terms(terms::parse(text)?),
        };
        Ok(FilterPattern { kind })
    }

    /// Whether one log event's message matches.
    pub fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(terms) => terms.matches(message),
            Kind::Regex(regex) => regex.is_match(message),
            Kind::Json(json) => json.matches(message),
            Kind::Delimited(delimited) => delimited.matches(message),
        }
    }

    /// Whether this pattern lets every event through (the empty pattern), so a caller can skip
    /// matching altogether.
    pub fn matches_everything(&self) -> bool {
        matches!(self.kind, Kind::All)
    }
}

/// AWS documents regular expressions as standalone term patterns (or as values inside JSON and
/// space-delimited patterns), not mixed with other terms, so anything after the closing `%` is
/// an error rather than a guess.
fn standalone_regex(text: &str, start: usize) -> Result<regex::Regex, PatternError> {
    let mut cur = lexer::Cursor::new(text, start);
    let regex = cur.regex()?;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(
            cur.error(cur.pos(), format!("a regular expression must stand alone, but found {} after it", cur.found()))
        );
    }
    Ok(regex)
}
