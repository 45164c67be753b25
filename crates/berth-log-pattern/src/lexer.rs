//! A cursor over the pattern text shared by the term, JSON and space-delimited parsers: quoted
//! strings, `%regex%` values, bare words and comparison operators.

use std::fmt::Display;

use regex::{Regex, RegexBuilder};

use crate::value::Op;
use crate::PatternError;

/// Caps compiled regex size so a pattern cannot make the server allocate without bound.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(crate) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str, pos: usize) -> Self {
        Cursor { src, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// The character offset of a byte position, for messages that name a second place.
    pub(crate) fn offset_of(&self, byte: usize) -> usize {
        crate::char_offset(self.src, byte)
    }

    pub(crate) fn error(&self, at: usize, what: impl Display) -> PatternError {
        PatternError::at(self.src, at, what)
    }

    /// The next character as an error message shows it.
    pub(crate) fn found(&self) -> String {
        match self.peek() {
            None => "the end of the pattern".to_string(),
            Some(c) => format!("'{c}'"),
        }
    }

    /// Reads `"…"` starting at the opening quote and returns the text between the quotes with
    /// escapes left in: what `\*` means depends on whether the caller does wildcards.
    pub(crate) fn quoted(&mut self) -> Result<&'a str, PatternError> {
        let open = self.pos;
        self.bump();
        let start = self.pos;
        loop {
            match self.bump() {
                None => return Err(self.error(open, "unterminated quoted string starting")),
                Some('\\') => {
                    self.bump();
                }
                Some('"') => return Ok(&self.src[start..self.pos - 1]),
                Some(_) => {}
            }
        }
    }

    /// Reads an unquoted word: up to blank space, one of `stops`, or `&&` / `||`.
    pub(crate) fn bare(&mut self, stops: &[char]) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let rest = self.rest();
            if c.is_whitespace() || stops.contains(&c) || rest.starts_with("&&") || rest.starts_with("||") {
                break;
            }
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// Reads up to the next blank: a term, where `&&` and `||` are plain text.
    pub(crate) fn until_blank(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| !c.is_whitespace()) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// Reads a run of ASCII letters (keywords such as `IS`, `NOT`, `NULL`).
    pub(crate) fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// Reads a comparison operator if one starts here. A run of operator characters that is
    /// not one of the six (`==`, `=<`, `!`) is an error rather than a silent misparse.
    pub(crate) fn operator(&mut self) -> Result<Option<Op>, PatternError> {
        let start = self.pos;
        let run: String = self.rest().chars().take_while(|c| matches!(c, '=' | '!' | '<' | '>')).collect();
        if run.is_empty() {
            return Ok(None);
        }
        let op = match run.as_str() {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            ">=" => Op::Ge,
            other => return Err(self.error(start, format!("unknown operator '{other}'"))),
        };
        self.pos += run.len();
        Ok(Some(op))
    }

    /// Reads `%…%` starting at the opening `%`. AWS's regex dialect has no groups and no
    /// multi-byte characters, so those are rejected here with a clear message instead of
    /// meaning something AWS would not accept.
    pub(crate) fn regex(&mut self) -> Result<Regex, PatternError> {
        let open = self.pos;
        self.bump();
        let start = self.pos;
        let Some(len) = self.rest().find('%') else {
            return Err(self.error(open, "regular expression is not closed with '%', starting"));
        };
        let body = &self.src[start..start + len];
        if body.is_empty() {
            return Err(self.error(open, "empty regular expression"));
        }
        for (i, c) in body.char_indices() {
            if c == '(' || c == ')' {
                return Err(self.error(start + i, "parentheses are not supported in regular expressions"));
            }
            if !c.is_ascii() {
                return Err(self.error(start + i, "multi-byte characters are not supported in regular expressions"));
            }
        }
        let regex =
            RegexBuilder::new(body).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).build().map_err(
                |e| {
                    let text = e.to_string();
                    let reason = text.lines().last().unwrap_or("").trim().trim_start_matches("error: ");
                    self.error(open, format!("invalid regular expression ({reason})"))
                },
            )?;
        self.pos = start + len + 1;
        Ok(regex)
    }
}
