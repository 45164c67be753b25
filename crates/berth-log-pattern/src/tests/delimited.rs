use super::{matches, pattern};
use crate::delimited::split_fields;

/// The Apache-style event the AWS space-delimited examples use.
const ACCESS: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
const NOT_FOUND: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /index.html HTTP/1.0" 404 -"#;

#[test]
fn quotes_and_brackets_make_one_field() {
    assert_eq!(
        split_fields(ACCESS),
        ["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /apache_pb.gif HTTP/1.0", "200", "1534"]
    );
    assert_eq!(split_fields("  a   b\tc  "), ["a", "b", "c"]);
    assert_eq!(split_fields(r#""say \"hi\"" x"#), [r#"say \"hi\""#, "x"]);
    assert_eq!(split_fields("[a [b] c] d"), ["a [b] c", "d"]);
    assert_eq!(split_fields("a \"unclosed quote"), ["a", "unclosed quote"]);
    assert_eq!(split_fields("[unclosed"), ["unclosed"]);
    assert!(split_fields("   ").is_empty());
}

#[test]
fn named_fields_must_match_the_field_count() {
    let p = pattern("[ip, user, username, timestamp, request, status_code, bytes]");
    assert!(p.matches(ACCESS));
    assert!(p.matches(NOT_FOUND));
    assert!(!p.matches("too few fields"));
    assert!(!p.matches(&format!("{ACCESS} extra")));
}

#[test]
fn conditions_from_the_docs() {
    let p = pattern("[ip, user, username, timestamp, request, status_code = 404, bytes]");
    assert!(p.matches(NOT_FOUND));
    assert!(!p.matches(ACCESS));
    let p = pattern("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]");
    assert!(p.matches(NOT_FOUND));
    assert!(!p.matches(ACCESS));
    let p = pattern("[ip, user, username, timestamp, request, status_code = 200, bytes > 1000]");
    assert!(p.matches(ACCESS));
    assert!(!p.matches(NOT_FOUND));
    // A bracketed or quoted field compares without its brackets or quotes.
    assert!(matches(r#"[ip, user, username, timestamp = "10/Oct/2000*", request = "GET *", status, bytes]"#, ACCESS));
}

#[test]
fn ellipsis_takes_any_number_of_fields() {
    assert!(matches("[..., status_code, bytes]", ACCESS));
    assert!(matches("[ip, ..., bytes = 1534]", ACCESS));
    assert!(matches("[ip = 127.0.0.1, user, ...]", ACCESS));
    assert!(matches("[..., status_code = 404, bytes]", NOT_FOUND));
    assert!(!matches("[..., status_code = 404, bytes]", ACCESS));
    // ... may take no fields at all.
    assert!(matches("[a, ..., b]", "x y"));
    assert!(matches("[...]", ""));
    assert!(matches("[...]", "anything goes"));
    assert!(!matches("[a, ..., b]", "x"));
    // More than one ... looks for an arrangement that works.
    assert!(matches("[..., w = ERROR, ..., code = 5*, ...]", "t1 t2 ERROR mid mid 503 tail"));
    assert!(!matches("[..., w = ERROR, ..., code = 5*, ...]", "t1 503 ERROR mid"));
}

#[test]
fn or_and_and_within_a_field() {
    let p = pattern("[..., status_code = 4* || status_code = 5*]");
    assert!(p.matches("GET /x 404"));
    assert!(p.matches("GET /x 503"));
    assert!(!p.matches("GET /x 200"));
    let p = pattern("[ip, request = *html* && request != *index*, status]");
    assert!(p.matches("1.2.3.4 /about.html 200"));
    assert!(!p.matches("1.2.3.4 /index.html 200"));
    assert!(!p.matches("1.2.3.4 /img.png 200"));
    let p = pattern("[w1 = ERROR || w1 = WARN, w2]");
    assert!(p.matches("WARN disk"));
    assert!(!p.matches("INFO disk"));
    let p = pattern("[code = 1 || (code > 10 && code < 20)]");
    assert!(p.matches("1"));
    assert!(p.matches("15"));
    assert!(!p.matches("25"));
}

#[test]
fn numeric_comparisons_on_fields() {
    assert!(matches("[a, bytes > 1000]", "x 1534"));
    assert!(!matches("[a, bytes > 1000]", "x 999"));
    assert!(!matches("[a, bytes > 1000]", "x -"));
    assert!(matches("[a, bytes != 1000]", "x -"));
    assert!(matches("[a, n >= 1.5e3]", "x 1500"));
    assert!(matches("[a, n <= -2]", "x -2.0"));
    assert!(matches("[a, n = 404]", "x 404.0"));
    assert!(!matches("[a, n = 404]", "x 4040"));
}

#[test]
fn regex_and_quoted_values_on_fields() {
    assert!(matches("[level = %^E|^W%, msg]", "WARN boom"));
    assert!(!matches("[level = %^E|^W%, msg]", "INFO boom"));
    assert!(matches(r#"[w1 = "a, b", w2]"#, r#""a, b" c"#));
    assert!(matches("[w1 != %x%, w2]", "abc d"));
}

#[test]
fn blank_space_inside_the_pattern_is_free() {
    assert!(matches("[  a ,b=1,   ...  ]", "x 1 y z"));
    assert!(matches("[a,b]", "x y"));
    assert!(matches("[ a=x ]", "x"));
}

#[test]
fn long_events_with_many_ellipses_are_answered() {
    // Matching is proportional to pattern size times field count, so this returns at once
    // rather than trying every split of 20,000 fields.
    let event = vec!["w"; 20_000].join(" ");
    let p = pattern("[..., a = x, ..., b = y, ..., c = z, ...]");
    assert!(!p.matches(&event));
    let found = format!("{event} x w y w z");
    assert!(p.matches(&found));
}
