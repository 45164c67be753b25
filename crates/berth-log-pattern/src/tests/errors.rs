use super::error;

/// Asserts the message starts as AWS's does, mentions `what`, and names `offset`.
fn rejects(text: &str, what: &str, offset: usize) {
    let message = error(text);
    assert!(message.starts_with("Invalid filter pattern: "), "{text:?}: {message}");
    assert!(message.contains(what), "{text:?}: expected {what:?} in {message:?}");
    assert!(message.ends_with(&format!("at offset {offset}")), "{text:?}: expected offset {offset} in {message:?}");
}

#[test]
fn unbalanced_quotes() {
    rejects("\"ERROR", "unterminated quoted string", 0);
    rejects("ERROR \"abc", "unterminated quoted string", 6);
    rejects(r#""ends with escape\""#, "unterminated quoted string", 0);
    rejects(r#"{ $.a = "x }"#, "unterminated quoted string", 8);
    rejects(r#"[a = "x]"#, "unterminated quoted string", 5);
    rejects("ab\"cd", "quote inside an unquoted term", 2);
}

#[test]
fn unbalanced_braces_and_brackets() {
    rejects("{ $.a = 1", "missing '}'", 0);
    rejects("  { $.a = 1", "missing '}'", 2);
    rejects("{ $.a = 1 } }", "after the closing '}'", 12);
    rejects("{", "expected a selector", 1);
    rejects("{}", "empty JSON pattern", 0);
    rejects("[a, b", "missing ']'", 0);
    rejects("[a, b] c", "after the closing ']'", 7);
    rejects("[]", "empty space-delimited pattern", 0);
    rejects("[", "expected a field name", 1);
    rejects("{ ($.a = 1 }", "expected ')' to close the '(' at offset 2", 11);
    rejects("{ $.a = 1) }", "expected '&&', '||' or '}'", 9);
}

#[test]
fn unknown_operators() {
    rejects("{ $.a == 1 }", "unknown operator '=='", 6);
    rejects("{ $.a => 1 }", "unknown operator '=>'", 6);
    rejects("{ $.a ! 1 }", "unknown operator '!'", 6);
    rejects("{ $.a LIKE 1 }", "unknown operator 'LIKE'", 6);
    rejects("{ $.a ~ 1 }", "expected an operator", 6);
    rejects("{ $.a }", "expected an operator", 6);
    rejects("[a == 1]", "unknown operator '=='", 3);
    rejects("{ $.a IS MAYBE }", "expected NULL, TRUE or FALSE after IS", 9);
    rejects("{ $.a NOT THERE }", "expected EXISTS after NOT", 10);
}

#[test]
fn ordering_operators_need_numbers() {
    rejects("{ $.a > abc }", "operator '>' needs a number", 6);
    rejects(r#"{ $.a <= "5" }"#, "operator '<=' needs a number", 6);
    rejects("[a < x*]", "operator '<' needs a number", 3);
}

#[test]
fn empty_or_malformed_selectors() {
    rejects("{ = 1 }", "expected a selector", 2);
    rejects("{ $ = 1 }", "empty selector", 2);
    rejects("{ $. = 1 }", "empty property name", 3);
    rejects("{ $.a. = 1 }", "empty property name", 5);
    rejects("{ a = 1 }", "expected a selector", 2);
    rejects("{ $.a[x] = 1 }", "expected an array index", 5);
    rejects("{ $.a[1 = 1 }", "expected an array index", 5);
    rejects("{ $.a[99999999999999999999999] = 1 }", "expected an array index", 5);
}

#[test]
fn missing_values_and_operands() {
    rejects("{ $.a = }", "expected a value after '='", 8);
    rejects("{ $.a = 1 && }", "expected a selector", 13);
    rejects("{ $.a = 1 || || $.b = 2 }", "expected a selector", 13);
    rejects("[a = , b]", "expected a value after '='", 5);
    rejects("[a, , b]", "expected a field name or '...'", 4);
    rejects("[a b]", "expected ',' or ']'", 3);
    rejects("-", "must be followed by a term", 0);
    rejects("ERROR ?", "must be followed by a term", 6);
    rejects("-\"\"", "non-empty term", 0);
}

#[test]
fn delimited_conditions_stay_on_their_own_field() {
    rejects("[a = 1 || b = 2, b]", "condition on 'b' in the slot of field 'a'", 10);
    rejects("[a = 1 || a, b]", "needs a condition", 10);
}

#[test]
fn regular_expression_limits() {
    rejects("%ERROR", "not closed with '%'", 0);
    rejects("%%", "empty regular expression", 0);
    rejects("%(ERROR)%", "parentheses are not supported", 1);
    rejects("%caf\u{e9}%", "multi-byte characters", 4);
    rejects("%[a-%", "invalid regular expression", 0);
    rejects("%ERROR% WARN", "must stand alone", 8);
    rejects("{ $.a = %(x)% }", "parentheses are not supported", 9);
    rejects("{ $.a = %x% && $.b = %y% && $.c = %z% }", "more than 2 regular expressions", 34);
    rejects("[a = %x%, b = %y%, c = %z%]", "more than 2 regular expressions", 23);
}

#[test]
fn deep_parentheses_are_refused_not_overflowed() {
    let text = format!("{{ {}$.a = 1{} }}", "(".repeat(10_000), ")".repeat(10_000));
    let message = error(&text);
    assert!(message.contains("nested more than 32 deep"), "{message}");
}

#[test]
fn offsets_count_characters_not_bytes() {
    rejects("日本 \"abc", "unterminated quoted string", 3);
    rejects("{ $.日本 == 1 }", "unknown operator '=='", 7);
}

#[test]
fn the_error_displays_its_message() {
    let e = crate::FilterPattern::parse("{ $.a == 1 }").err();
    let shown = e.as_ref().map(ToString::to_string);
    assert_eq!(shown.as_deref(), Some("Invalid filter pattern: unknown operator '==' at offset 6"));
    assert_eq!(e.map(|e| e.message), shown);
}
