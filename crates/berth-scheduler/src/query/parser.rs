//! Reads cluster query text into a [`Node`] tree by recursive descent, reporting the first
//! mistake with its character position and what was expected there.
//!
//! Grammar (precedence `not` > `and` > `or`; keywords and word operators are
//! case-insensitive, subjects are not):
//!
//! ```text
//! or       := and (("||" | "or") and)*
//! and      := unary (("&&" | "and") unary)*
//! unary    := ("!" | "not") unary | "(" or ")" | test
//! test     := subject operator [argument]
//! argument := value | ("[" | "(") value ("," value)* ("]" | ")")
//! value    := 'quoted' | "quoted" | bare
//! ```
//!
//! A bare value runs until whitespace, one of `( ) [ ] , ' "`, or `&&`/`||`; a pattern using
//! those characters must be quoted. Inside quotes `\'` (or `\"`) stands for the quote; every
//! other backslash is kept as written, so patterns such as `'t2\.micro'` mean what they say.
//!
//! Invariant: positions count characters (not bytes) from 0.

use regex::RegexBuilder;

use super::syntax::{Argument, Literal, Node, Operator, Subject, Test};
use super::values::{parse_date, plain_number};
use super::QueryError;

/// ECS's limit on a `memberOf` expression.
pub const MAX_EXPRESSION_CHARACTERS: usize = 2000;

/// ECS's limit on an attribute name.
const MAX_ATTRIBUTE_NAME_CHARACTERS: usize = 128;

const SUBJECTS_EXPECTED: &str = "a subject (agentConnected, agentVersion, attribute:NAME, \
     ec2InstanceId, registeredAt, runningTasksCount, task:group), 'not' or '('";

pub(crate) fn parse(text: &str) -> Result<Node, QueryError> {
    let characters: Vec<char> = text.chars().collect();
    if characters.len() > MAX_EXPRESSION_CHARACTERS {
        return Err(QueryError::new(
            MAX_EXPRESSION_CHARACTERS,
            format!("the expression is longer than {MAX_EXPRESSION_CHARACTERS} characters"),
        ));
    }
    let mut parser = Parser { characters, position: 0 };
    let node = parser.or()?;
    parser.skip_whitespace();
    if parser.position < parser.characters.len() {
        return Err(parser.error_here("expected 'and', 'or', ')' or the end of the expression"));
    }
    Ok(node)
}

struct Parser {
    characters: Vec<char>,
    position: usize,
}

impl Parser {
    fn error_here(&self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.position, message)
    }

    fn peek(&self) -> Option<char> {
        self.characters.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.characters.get(self.position + offset).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.position += 1;
        }
    }

    fn starts_with(&self, symbol: &str) -> bool {
        symbol.chars().enumerate().all(|(offset, character)| self.peek_at(offset) == Some(character))
    }

    /// Consumes `word` (case-insensitively) when it stands alone: not followed by a character
    /// that could continue a word.
    fn eat_keyword(&mut self, word: &str) -> bool {
        let matches_word = word.chars().enumerate().all(|(offset, character)| {
            self.peek_at(offset).is_some_and(|found| found.eq_ignore_ascii_case(&character))
        });
        let length = word.chars().count();
        let boundary = !self.peek_at(length).is_some_and(|next| next.is_alphanumeric() || "_:.-".contains(next));
        if matches_word && boundary {
            self.position += length;
            true
        } else {
            false
        }
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if self.starts_with(symbol) {
            self.position += symbol.chars().count();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        let mut operands = vec![self.and()?];
        loop {
            self.skip_whitespace();
            if self.eat_symbol("||") || self.eat_keyword("or") {
                operands.push(self.and()?);
            } else {
                break;
            }
        }
        Ok(if operands.len() == 1 { operands.remove(0) } else { Node::Or(operands) })
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        let mut operands = vec![self.unary()?];
        loop {
            self.skip_whitespace();
            if self.eat_symbol("&&") || self.eat_keyword("and") {
                operands.push(self.unary()?);
            } else {
                break;
            }
        }
        Ok(if operands.len() == 1 { operands.remove(0) } else { Node::And(operands) })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        self.skip_whitespace();
        if self.peek().is_none() {
            return Err(self.error_here(format!("expected {SUBJECTS_EXPECTED}")));
        }
        if self.eat_symbol("!") || self.eat_keyword("not") {
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        if self.eat_symbol("(") {
            let inner = self.or()?;
            self.skip_whitespace();
            if !self.eat_symbol(")") {
                return Err(self.error_here("expected ')', 'and' or 'or'"));
            }
            return Ok(inner);
        }
        self.test().map(Node::Test)
    }

    fn test(&mut self) -> Result<Test, QueryError> {
        let subject = self.subject()?;
        let subject_name = subject.name();
        self.skip_whitespace();
        let operator_start = self.position;
        let operator = self
            .operator()
            .ok_or_else(|| QueryError::new(operator_start, format!("expected an operator after {subject_name}")))?;
        if !subject.supports(operator) {
            return Err(QueryError::new(
                operator_start,
                format!("the operator {} is not supported for {subject_name}", operator.symbol()),
            ));
        }
        let argument = match operator {
            Operator::Exists | Operator::NotExists => Argument::None,
            Operator::In | Operator::NotIn => Argument::List(self.list(&subject, operator)?),
            Operator::Matches | Operator::NotMatches => self.pattern(operator)?,
            _ => Argument::Value(self.literal(&subject, operator)?),
        };
        Ok(Test { subject, operator, argument })
    }

    fn subject(&mut self) -> Result<Subject, QueryError> {
        let start = self.position;
        while self.peek().is_some_and(|character| !character.is_whitespace() && !"()[],'\"=!<>~&|".contains(character))
        {
            self.position += 1;
        }
        let word: String = self.characters[start..self.position].iter().collect();
        let subject = match word.as_str() {
            "agentConnected" => Subject::AgentConnected,
            "agentVersion" => Subject::AgentVersion,
            "ec2InstanceId" => Subject::Ec2InstanceId,
            "registeredAt" => Subject::RegisteredAt,
            "runningTasksCount" => Subject::RunningTasksCount,
            "task:group" => Subject::TaskGroup,
            _ => match word.strip_prefix("attribute:") {
                Some(name) => Subject::Attribute(attribute_name(name, start + "attribute:".len())?),
                None => return Err(QueryError::new(start, format!("expected {SUBJECTS_EXPECTED}"))),
            },
        };
        Ok(subject)
    }

    fn operator(&mut self) -> Option<Operator> {
        const SYMBOLS: [(&str, Operator); 8] = [
            ("==", Operator::Equals),
            ("!=", Operator::NotEquals),
            (">=", Operator::GreaterThanEqual),
            ("<=", Operator::LessThanEqual),
            ("=~", Operator::Matches),
            ("!~", Operator::NotMatches),
            (">", Operator::GreaterThan),
            ("<", Operator::LessThan),
        ];
        const WORDS: [(&str, Operator); 14] = [
            ("!exists", Operator::NotExists),
            ("!in", Operator::NotIn),
            ("equals", Operator::Equals),
            ("not_equals", Operator::NotEquals),
            ("greater_than_equal", Operator::GreaterThanEqual),
            ("greater_than", Operator::GreaterThan),
            ("less_than_equal", Operator::LessThanEqual),
            ("less_than", Operator::LessThan),
            ("exists", Operator::Exists),
            ("not_exists", Operator::NotExists),
            ("in", Operator::In),
            ("not_in", Operator::NotIn),
            ("matches", Operator::Matches),
            ("not_matches", Operator::NotMatches),
        ];
        // Words first, so `!in` and `!exists` are not read as a lone `!`.
        for (word, operator) in WORDS {
            if self.eat_keyword(word) {
                return Some(operator);
            }
        }
        for (symbol, operator) in SYMBOLS {
            if self.eat_symbol(symbol) {
                return Some(operator);
            }
        }
        None
    }

    /// A quoted or bare value; `None` when there is none here.
    fn raw_value(&mut self) -> Result<Option<(usize, String)>, QueryError> {
        self.skip_whitespace();
        let start = self.position;
        match self.peek() {
            Some(quote @ ('\'' | '"')) => {
                self.position += 1;
                let mut text = String::new();
                loop {
                    match self.peek() {
                        None => {
                            return Err(QueryError::new(
                                start,
                                format!("unterminated quoted value: expected a closing {quote}"),
                            ))
                        }
                        Some('\\') if self.peek_at(1) == Some(quote) => {
                            text.push(quote);
                            self.position += 2;
                        }
                        Some(character) if character == quote => {
                            self.position += 1;
                            return Ok(Some((start, text)));
                        }
                        Some(character) => {
                            text.push(character);
                            self.position += 1;
                        }
                    }
                }
            }
            _ => {
                while let Some(character) = self.peek() {
                    let ends = character.is_whitespace()
                        || "()[],'\"".contains(character)
                        || self.starts_with("&&")
                        || self.starts_with("||");
                    if ends {
                        break;
                    }
                    self.position += 1;
                }
                if self.position == start {
                    return Ok(None);
                }
                Ok(Some((start, self.characters[start..self.position].iter().collect())))
            }
        }
    }

    fn literal(&mut self, subject: &Subject, operator: Operator) -> Result<Literal, QueryError> {
        let (start, text) = self
            .raw_value()?
            .ok_or_else(|| self.error_here(format!("expected a value after {}", operator.symbol())))?;
        typed_literal(subject, start, text)
    }

    fn list(&mut self, subject: &Subject, operator: Operator) -> Result<Vec<Literal>, QueryError> {
        self.skip_whitespace();
        let closing = if self.eat_symbol("[") {
            ']'
        } else if self.eat_symbol("(") {
            ')'
        } else {
            return Err(self.error_here(format!("expected a list such as [a, b] after {}", operator.symbol())));
        };
        let mut values = Vec::new();
        loop {
            let (start, text) = self.raw_value()?.ok_or_else(|| self.error_here("expected a value in the list"))?;
            values.push(typed_literal(subject, start, text)?);
            self.skip_whitespace();
            if self.eat_symbol(",") {
                continue;
            }
            if self.peek() == Some(closing) {
                self.position += 1;
                return Ok(values);
            }
            return Err(self.error_here(format!("expected ',' or '{closing}' in the list")));
        }
    }

    fn pattern(&mut self, operator: Operator) -> Result<Argument, QueryError> {
        let (start, text) = self
            .raw_value()?
            .ok_or_else(|| self.error_here(format!("expected a regular expression after {}", operator.symbol())))?;
        let build = |pattern: &str| RegexBuilder::new(pattern).size_limit(1 << 20).build();
        // The pattern must stand on its own before it is anchored: inside `^(?:...)$` an
        // unbalanced `)` would close the anchoring group, so `p)|(x` would compile and match
        // any value that merely starts with `p`.
        let regex = build(&text).and_then(|_| build(&format!("^(?:{text})$"))).map_err(|error| {
            let detail = error.to_string();
            let last_line = detail.lines().last().unwrap_or("invalid").trim().to_string();
            QueryError::new(start, format!("invalid regular expression: {last_line}"))
        })?;
        Ok(Argument::Pattern(regex))
    }
}

fn attribute_name(name: &str, start: usize) -> Result<String, QueryError> {
    if name.is_empty() {
        return Err(QueryError::new(start, "expected an attribute name after attribute:"));
    }
    if let Some((offset, character)) = name
        .chars()
        .enumerate()
        .find(|(_, character)| !(character.is_ascii_alphanumeric() || "-_./\\@:".contains(*character)))
    {
        return Err(QueryError::new(
            start + offset,
            format!("unexpected character '{character}' in an attribute name"),
        ));
    }
    if name.chars().count() > MAX_ATTRIBUTE_NAME_CHARACTERS {
        return Err(QueryError::new(
            start,
            format!("an attribute name has at most {MAX_ATTRIBUTE_NAME_CHARACTERS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// Checks a value against what the subject holds and decides its interpretations once.
fn typed_literal(subject: &Subject, start: usize, text: String) -> Result<Literal, QueryError> {
    let number = plain_number(&text);
    let mut date = None;
    match subject {
        Subject::RegisteredAt => {
            date = Some(parse_date(&text).ok_or_else(|| {
                QueryError::new(
                    start,
                    format!("expected a date such as 2018-06-18T22:28:28Z or 2018-06-18, found {text}"),
                )
            })?);
        }
        Subject::RunningTasksCount if number.is_none() => {
            return Err(QueryError::new(start, format!("expected a number, found {text}")));
        }
        Subject::AgentConnected if !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") => {
            return Err(QueryError::new(start, format!("expected true or false, found {text}")));
        }
        // Kept lower-case so evaluation compares `true`/`false` without allocating.
        Subject::AgentConnected => {
            return Ok(Literal { text: text.to_ascii_lowercase(), number, date });
        }
        _ => {}
    }
    Ok(Literal { text, number, date })
}
