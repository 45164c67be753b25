//! Metric math's syntax: numbers, strings, query ids, `+ - * / ^`, unary minus, parentheses
//! and function calls (`SUM(METRICS())`, `FILL(m1, REPEAT)`), with the usual precedence.

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Text(String),
    /// A query id (`m1`, `e2`) or a bare keyword (`REPEAT`, `LINEAR`).
    Name(String),
    Negate(Box<Expr>),
    Binary(Operator, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Name(String),
    Symbol(char),
}

/// Parses `source`, or says what is wrong and where.
pub fn parse(source: &str) -> Result<Expr, String> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.sum()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("unexpected {} after a complete expression", describe(token))),
    }
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(at + 1).is_some_and(char::is_ascii_digit)) {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_digit() || chars[at] == '.') {
                at += 1;
            }
            let text: String = chars[start..at].iter().collect();
            tokens.push(Token::Number(text.parse().map_err(|_| format!("{text} is not a number"))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '_') {
                at += 1;
            }
            tokens.push(Token::Name(chars[start..at].iter().collect()));
        } else if c == '"' || c == '\'' {
            let end = chars[at + 1..].iter().position(|&other| other == c).ok_or("a string is not closed")?;
            tokens.push(Token::Text(chars[at + 1..at + 1 + end].iter().collect()));
            at += end + 2;
        } else if "+-*/^(),".contains(c) {
            tokens.push(Token::Symbol(c));
            at += 1;
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(tokens)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Number(number) => format!("number {number}"),
        Token::Text(text) => format!("string {text:?}"),
        Token::Name(name) => format!("name {name}"),
        Token::Symbol(symbol) => format!("{symbol:?}"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_symbol(&self) -> Option<char> {
        match self.tokens.get(self.at) {
            Some(Token::Symbol(symbol)) => Some(*symbol),
            _ => None,
        }
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        match self.tokens.get(self.at) {
            Some(Token::Symbol(found)) if *found == symbol => {
                self.at += 1;
                Ok(())
            }
            Some(other) => Err(format!("expected {symbol:?}, found {}", describe(other))),
            None => Err(format!("expected {symbol:?} before the end")),
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(symbol @ ('+' | '-')) = self.peek_symbol() {
            self.at += 1;
            let operator = if symbol == '+' { Operator::Add } else { Operator::Subtract };
            left = Expr::Binary(operator, Box::new(left), Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(symbol @ ('*' | '/')) = self.peek_symbol() {
            self.at += 1;
            let operator = if symbol == '*' { Operator::Multiply } else { Operator::Divide };
            left = Expr::Binary(operator, Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_symbol() == Some('-') {
            self.at += 1;
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        let base = self.primary()?;
        if self.peek_symbol() == Some('^') {
            self.at += 1;
            return Ok(Expr::Binary(Operator::Power, Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("the expression ends too early")?;
        self.at += 1;
        match token {
            Token::Number(number) => Ok(Expr::Number(number)),
            Token::Text(text) => Ok(Expr::Text(text)),
            Token::Symbol('(') => {
                let inner = self.sum()?;
                self.expect(')')?;
                Ok(inner)
            }
            Token::Name(name) if self.peek_symbol() == Some('(') => {
                self.at += 1;
                let mut arguments = Vec::new();
                if self.peek_symbol() != Some(')') {
                    arguments.push(self.sum()?);
                    while self.peek_symbol() == Some(',') {
                        self.at += 1;
                        arguments.push(self.sum()?);
                    }
                }
                self.expect(')')?;
                Ok(Expr::Call(name.to_ascii_uppercase(), arguments))
            }
            Token::Name(name) => Ok(Expr::Name(name)),
            other => Err(format!("unexpected {}", describe(&other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Box<Expr> {
        Box::new(Expr::Name(text.into()))
    }

    #[test]
    fn precedence_and_calls() {
        assert_eq!(
            parse("m1 + m2 * 2").unwrap(),
            Expr::Binary(
                Operator::Add,
                name("m1"),
                Box::new(Expr::Binary(Operator::Multiply, name("m2"), Box::new(Expr::Number(2.0))))
            )
        );
        assert_eq!(
            parse("(m1 - m2) / 100").unwrap(),
            Expr::Binary(
                Operator::Divide,
                Box::new(Expr::Binary(Operator::Subtract, name("m1"), name("m2"))),
                Box::new(Expr::Number(100.0))
            )
        );
        assert_eq!(
            parse("sum(METRICS(\"cpu\"))").unwrap(),
            Expr::Call("SUM".into(), vec![Expr::Call("METRICS".into(), vec![Expr::Text("cpu".into())])])
        );
        assert_eq!(
            parse("FILL(m1, REPEAT)").unwrap(),
            Expr::Call("FILL".into(), vec![Expr::Name("m1".into()), Expr::Name("REPEAT".into())])
        );
        assert_eq!(parse("-m1").unwrap(), Expr::Negate(name("m1")));
    }

    #[test]
    fn mistakes_are_described() {
        assert!(parse("m1 +").unwrap_err().contains("ends too early"));
        assert!(parse("SUM(m1").unwrap_err().contains("')'"));
        assert!(parse("m1 m2").unwrap_err().contains("m2"));
        assert!(parse("m1 # 2").unwrap_err().contains('#'));
    }
}
