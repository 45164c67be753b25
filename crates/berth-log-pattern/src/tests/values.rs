use crate::value::{parse_number, Glob};

#[test]
fn globs_match_pieces_in_order() {
    let g = |p: &str, s: &str| Glob::parse(p).matches(s);
    assert!(g("abc", "abc"));
    assert!(!g("abc", "abcd"));
    assert!(g("a*", "a"));
    assert!(g("*c", "abc"));
    assert!(g("a*b*c", "aXbYc"));
    assert!(!g("a*b*c", "aXcYb"));
    // The last piece may not reuse characters a middle piece took.
    assert!(!g("*ab*ba", "aba"));
    assert!(g("*ab*ba", "abba"));
    assert!(g("**", ""));
    assert!(g("", ""));
    assert!(!g("", "x"));
    assert!(g(r"a\*b", "a*b"));
    assert!(!g(r"a\*b", "axb"));
    assert!(g(r"C:\temp", r"C:\temp"));
    assert!(Glob::parse("*").is_match_all());
    assert!(Glob::parse("***").is_match_all());
    assert!(!Glob::parse("a*").is_match_all());
    assert!(!Glob::parse("").is_match_all());
}

#[test]
fn numbers_are_decimal_with_optional_exponent() {
    assert_eq!(parse_number("404"), Some(404.0));
    assert_eq!(parse_number("-2.5"), Some(-2.5));
    assert_eq!(parse_number("+7"), Some(7.0));
    assert_eq!(parse_number(".5"), Some(0.5));
    assert_eq!(parse_number("5."), Some(5.0));
    assert_eq!(parse_number("1e3"), Some(1000.0));
    assert_eq!(parse_number("1E-2"), Some(0.01));
    for not_a_number in ["", "-", ".", "1e", "1e+", "inf", "NaN", "0x10", "1_000", "4*", " 1", "1 ", "1e999"] {
        assert_eq!(parse_number(not_a_number), None, "{not_a_number:?}");
    }
}
