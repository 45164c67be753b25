use super::{matches, pattern};

/// The event the AWS JSON examples run against.
const EXAMPLE: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [
    {"name": "a", "id": 1},
    {"name": "b", "id": 2}
  ],
  "SomeObject": null,
  "cluster.name": "c1",
  "ThisFlag": true,
  "latency": 500,
  "ratio": 0.25,
  "user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1], [2, 3]]
}"#;

#[test]
fn string_equality_from_the_docs() {
    assert!(matches(r#"{ $.eventType = "UpdateTrail" }"#, EXAMPLE));
    assert!(!matches(r#"{ $.eventType = "CreateTrail" }"#, EXAMPLE));
    assert!(matches(r#"{ $.eventType != "CreateTrail" }"#, EXAMPLE));
    assert!(!matches(r#"{ $.eventType != "UpdateTrail" }"#, EXAMPLE));
    // Bare values need no quotes.
    assert!(matches("{ $.eventType = UpdateTrail }", EXAMPLE));
    assert!(matches("{$.eventType=UpdateTrail}", EXAMPLE));
}

#[test]
fn wildcards_in_string_values() {
    assert!(matches(r#"{ $.eventType = "Update*" }"#, EXAMPLE));
    assert!(matches(r#"{ $.eventType = "*Trail" }"#, EXAMPLE));
    assert!(matches(r#"{ $.eventType = "U*a*l" }"#, EXAMPLE));
    assert!(!matches(r#"{ $.eventType = "Create*" }"#, EXAMPLE));
    // The docs' IP range example.
    assert!(matches("{ $.sourceIPAddress != 123.123.* }", EXAMPLE));
    assert!(!matches("{ $.sourceIPAddress != 111.111.* }", EXAMPLE));
    // An escaped star is a literal star.
    assert!(matches(r#"{ $.k = "a\*b" }"#, r#"{"k": "a*b"}"#));
    assert!(!matches(r#"{ $.k = "a\*b" }"#, r#"{"k": "axxb"}"#));
    assert!(matches(
        r#"{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }"#,
        r#"{"errorCode": "AccessDeniedException"}"#
    ));
}

#[test]
fn star_alone_means_the_property_exists() {
    assert!(matches(r#"{ $.user = "*" }"#, EXAMPLE));
    assert!(matches(r#"{ $.SomeObject = "*" }"#, EXAMPLE));
    assert!(matches(r#"{ $.latency = * }"#, EXAMPLE));
    assert!(!matches(r#"{ $.missing = "*" }"#, EXAMPLE));
}

#[test]
fn numeric_comparisons() {
    assert!(matches("{ $.latency = 500 }", EXAMPLE));
    assert!(matches("{ $.latency != 400 }", EXAMPLE));
    assert!(matches("{ $.latency > 100 }", EXAMPLE));
    assert!(!matches("{ $.latency > 500 }", EXAMPLE));
    assert!(matches("{ $.latency >= 500 }", EXAMPLE));
    assert!(matches("{ $.latency < 501 }", EXAMPLE));
    assert!(matches("{ $.latency <= 500 }", EXAMPLE));
    assert!(!matches("{ $.latency < 500 }", EXAMPLE));
    assert!(matches("{ $.latency = 5e2 }", EXAMPLE));
    assert!(matches("{ $.latency = 500.0 }", EXAMPLE));
    assert!(matches("{ $.latency > -1 }", EXAMPLE));
    assert!(matches("{ $.ratio < 0.3 }", EXAMPLE));
    assert!(matches("{ $.ratio = .25 }", EXAMPLE));
    assert!(matches("{ $.ratio > 2.4E-1 }", EXAMPLE));
    // A string that reads as a number compares as one.
    assert!(matches("{ $.code >= 400 }", r#"{"code": "404"}"#));
    assert!(!matches("{ $.code >= 400 }", r#"{"code": "OK"}"#));
    // A number compared with a quoted string compares as text.
    assert!(matches(r#"{ $.latency = "500" }"#, EXAMPLE));
    assert!(matches(r#"{ $.latency = "5*" }"#, EXAMPLE));
}

#[test]
fn nested_properties_and_array_indexes() {
    assert!(matches("{ $.user.id = 1 }", EXAMPLE));
    assert!(matches(r#"{ $.users[0].email = "John.Doe@example.com" }"#, EXAMPLE));
    assert!(matches(r#"{ $.arrayKey[0] = "value" }"#, EXAMPLE));
    assert!(matches(r#"{ $.arrayKey[1] = "another value" }"#, EXAMPLE));
    assert!(!matches(r#"{ $.arrayKey[2] = "*" }"#, EXAMPLE));
    assert!(matches("{ $.objectList[1].id = 2 }", EXAMPLE));
    assert!(matches("{ $.coordinates[1][0] = 2 }", EXAMPLE));
    assert!(matches("{ $.actions[2] = DELETE }", EXAMPLE));
    // An index on an object or a key on an array reaches nothing.
    assert!(matches("{ $.user[0] NOT EXISTS }", EXAMPLE));
    assert!(matches("{ $.actions.x NOT EXISTS }", EXAMPLE));
    // Property names may carry characters other than letters.
    assert!(matches("{ $.@timestamp > 1 }", r#"{"@timestamp": 5}"#));
    assert!(matches("{ $.user-agent = curl* }", r#"{"user-agent": "curl/8"}"#));
    // A top-level array is reached with an index.
    assert!(matches("{ $[1].a = 2 }", r#"[{"a":1},{"a":2}]"#));
}

#[test]
fn wildcard_selectors_match_any_element() {
    assert!(matches(r#"{ $.actions[*] = "PUT" }"#, EXAMPLE));
    assert!(!matches(r#"{ $.actions[*] = "POST" }"#, EXAMPLE));
    assert!(matches("{ $.objectList[*].id = 2 }", EXAMPLE));
    assert!(matches("{ $.user.* = 1 }", EXAMPLE));
    assert!(matches("{ $.*.email = John.Stiles* }", EXAMPLE));
    assert!(matches("{ $.objectList[*].missing NOT EXISTS }", EXAMPLE));
}

#[test]
fn is_null_is_true_is_false_not_exists() {
    assert!(matches("{ $.SomeObject IS NULL }", EXAMPLE));
    assert!(!matches("{ $.user IS NULL }", EXAMPLE));
    assert!(!matches("{ $.missing IS NULL }", EXAMPLE));
    assert!(matches("{ $.ThisFlag IS TRUE }", EXAMPLE));
    assert!(!matches("{ $.ThisFlag IS FALSE }", EXAMPLE));
    assert!(matches("{ $.off IS FALSE }", r#"{"off": false}"#));
    assert!(!matches("{ $.off IS TRUE }", r#"{"off": "true"}"#));
    assert!(matches("{ $.SomeOtherObject NOT EXISTS }", EXAMPLE));
    assert!(!matches("{ $.SomeObject NOT EXISTS }", EXAMPLE));
    assert!(matches("{ $.SomeObject is null }", EXAMPLE));
}

#[test]
fn absent_properties_fail_every_comparison() {
    assert!(!matches("{ $.missing = 1 }", EXAMPLE));
    assert!(!matches("{ $.missing != 1 }", EXAMPLE));
    assert!(!matches(r#"{ $.missing != "x" }"#, EXAMPLE));
    assert!(!matches("{ $.missing < 1 }", EXAMPLE));
}

#[test]
fn and_or_and_parentheses_from_the_docs() {
    assert!(matches(r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#, EXAMPLE));
    assert!(matches(r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "DELETE" }"#, EXAMPLE));
    assert!(!matches(r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#, EXAMPLE));
    // && binds tighter than ||.
    assert!(matches(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        EXAMPLE
    ));
    assert!(!matches(
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
        EXAMPLE
    ));
    assert!(matches("{ (($.latency > 1) && ($.ratio < 1)) }", EXAMPLE));
}

#[test]
fn regex_values() {
    assert!(matches("{ $.eventType = %Update|Create% }", EXAMPLE));
    assert!(!matches("{ $.eventType = %^Trail% }", EXAMPLE));
    assert!(matches("{ $.eventType != %^Trail% }", EXAMPLE));
    assert!(matches("{ $.latency = %^5[0-9]+$% }", EXAMPLE));
    assert!(matches("{ $.a = %x% || $.b = %y% }", r#"{"b": "y"}"#));
}

#[test]
fn booleans_compare_as_text() {
    assert!(matches("{ $.ThisFlag = true }", EXAMPLE));
    assert!(!matches("{ $.ThisFlag = false }", EXAMPLE));
}

#[test]
fn events_that_are_not_json_objects_never_match() {
    let p = pattern("{ $.missing NOT EXISTS }");
    assert!(p.matches("{}"));
    assert!(p.matches("[]"));
    assert!(!p.matches("not json"));
    assert!(!p.matches(r#"{"a": 1"#));
    assert!(!p.matches("5"));
    assert!(!p.matches(r#""string""#));
    assert!(!p.matches("null"));
    assert!(!p.matches(r#"2024-01-01 {"a": 1}"#));
    // Trailing blank space, as log lines often carry, is fine.
    assert!(p.matches("{\"a\": 1}\n"));
}

#[test]
fn deeply_nested_events_do_not_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(!matches("{ $.a NOT EXISTS }", &deep));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50), "}".repeat(50));
    assert!(matches("{ $.a.a.a = * }", &deep_object));
}
