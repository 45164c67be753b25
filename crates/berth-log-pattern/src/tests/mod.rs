//! Behaviour tests: the AWS documentation's own examples first, then edge cases and errors.

mod delimited;
mod errors;
mod fuzz;
mod json;
mod terms;
mod values;

use crate::{FilterPattern, PatternError};

/// Parses a pattern the test expects to be valid.
fn pattern(text: &str) -> FilterPattern {
    match FilterPattern::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

fn matches(text: &str, message: &str) -> bool {
    pattern(text).matches(message)
}

/// Parses a pattern the test expects to be rejected and returns the message.
fn error(text: &str) -> String {
    match FilterPattern::parse(text) {
        Ok(p) => panic!("{text:?} should not parse, got {p:?}"),
        Err(PatternError { message }) => message,
    }
}

#[test]
fn the_empty_and_blank_patterns_match_everything() {
    for text in ["", " ", "\t \n"] {
        let p = pattern(text);
        assert!(p.matches_everything());
        assert!(p.matches(""));
        assert!(p.matches("anything at all"));
    }
    assert!(!pattern("ERROR").matches_everything());
}

#[test]
fn a_pattern_is_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<FilterPattern>();
    let p = pattern("{ $.a = 1 }");
    let copy = p.clone();
    assert!(copy.matches(r#"{"a": 1}"#));
    let handle = std::thread::spawn(move || p.matches(r#"{"a": 2}"#));
    assert_eq!(handle.join().ok(), Some(false));
}

#[test]
fn leading_blanks_do_not_change_the_kind() {
    assert!(matches("   { $.a = 1 }", r#"{"a":1}"#));
    assert!(matches("\t[a, b]", "x y"));
    assert!(matches("  %ab+c%", "xabbbc"));
    assert!(matches("  ERROR", "an ERROR"));
}

#[test]
fn standalone_regex_follows_the_docs() {
    // The docs' %AUTHORIZED% matches both of these events.
    assert!(matches("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST"));
    assert!(matches("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST"));
    assert!(!matches("%AUTHORIZED%", "[SUCCESS 200] authorized request"));
    assert!(matches("%ERROR|WARN%", "a WARN here"));
    assert!(matches("%ERROR|WARN%", "ERROR there"));
    assert!(!matches("%ERROR|WARN%", "INFO only"));
    assert!(matches("%colou?r%", "the color"));
    assert!(matches("%colou?r%", "the colour"));
    assert!(matches(r"%10\.10\.0\.1%", "from 10.10.0.1"));
    assert!(!matches(r"%10\.10\.0\.1%", "from 10x10x0x1"));
    assert!(matches("%^ERROR%", "ERROR first"));
    assert!(!matches("%^ERROR%", "not ERROR first"));
    assert!(matches("%[0-9]{3}$%", "status 404"));
}
