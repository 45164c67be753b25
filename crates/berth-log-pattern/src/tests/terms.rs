use super::{matches, pattern};

#[test]
fn a_single_term_is_a_case_sensitive_substring() {
    // The docs' example: ERROR matches both of these, including inside ERRORCODE.
    assert!(matches("ERROR", "[ERROR] A fatal exception has occurred"));
    assert!(matches("ERROR", "Exiting with ERRORCODE: -1"));
    assert!(!matches("ERROR", "[error] lower case"));
    assert!(!matches("ERROR", ""));
}

#[test]
fn several_terms_must_all_appear() {
    let p = pattern("ERROR Exception");
    assert!(p.matches("[ERROR] Caught IllegalArgumentException"));
    assert!(p.matches("[ERROR] Unhandled Exception"));
    assert!(!p.matches("[ERROR] only"));
    assert!(!p.matches("Exception only"));
    // Order does not matter.
    assert!(p.matches("Exception before ERROR"));
    let p = pattern("Failed to process the request");
    assert!(p.matches("[WARN] Failed to process the request"));
    assert!(p.matches("[ERROR] Unable to continue: Failed to process the request"));
    assert!(p.matches("the request Failed to process"));
    assert!(!p.matches("Failed to process"));
}

#[test]
fn a_quoted_phrase_must_appear_exactly() {
    let p = pattern("\"Failed to process the request\"");
    assert!(p.matches("[WARN] Failed to process the request"));
    assert!(!p.matches("the request Failed to process"));
    assert!(matches("\"ERROR 500\"", "got ERROR 500 from upstream"));
    assert!(!matches("\"ERROR 500\"", "got ERROR  500"));
    assert!(matches("\"[ERROR]\"", "[ERROR] something"));
    assert!(matches("\"user=alice;\"", "login user=alice; ok"));
}

#[test]
fn quoted_phrases_take_backslash_escapes() {
    assert!(matches(r#""say \"hi\"""#, r#"they say "hi" loudly"#));
    assert!(matches(r#""back\\slash""#, r"a back\slash here"));
    // Other backslashes are literal, so a Windows path reads as written.
    assert!(matches(r#""C:\temp""#, r"saved to C:\temp\x"));
}

#[test]
fn a_minus_excludes_a_term() {
    // The docs' example: ERROR -Exiting drops the ERRORCODE event.
    let p = pattern("ERROR -Exiting");
    assert!(p.matches("[ERROR] A fatal exception has occurred"));
    assert!(!p.matches("Exiting with ERRORCODE: -1"));
    assert!(matches("-ERROR", "all fine"));
    assert!(!matches("-ERROR", "an ERROR"));
    assert!(matches(r#""ERROR" -"Exiting now""#, "ERROR Exiting later"));
    assert!(!matches(r#""ERROR" -"Exiting now""#, "ERROR Exiting now"));
}

#[test]
fn question_marks_are_alternatives() {
    // The docs' example: ?ERROR ?WARN matches events with either.
    let p = pattern("?ERROR ?WARN");
    assert!(p.matches("[ERROR] Caught IllegalArgumentException"));
    assert!(p.matches("[WARN] Low disk"));
    assert!(!p.matches("[INFO] fine"));
    assert!(matches(r#"?"ERROR 500" ?"WARN 400""#, "WARN 400 here"));
    assert!(!matches(r#"?"ERROR 500" ?"WARN 400""#, "WARN 500 here"));
}

#[test]
fn terms_after_a_question_mark_join_its_alternative() {
    // The grouping AWS's CDK anyTermGroup renders: (ERROR and MainThread) or (WARN and Deadlock).
    let p = pattern(r#"?"ERROR" "MainThread" ?"WARN" "Deadlock""#);
    assert!(p.matches("ERROR in MainThread"));
    assert!(p.matches("WARN Deadlock detected"));
    assert!(!p.matches("ERROR Deadlock"));
    assert!(!p.matches("WARN in MainThread"));
    // Exclusions belong to their alternative too.
    let p = pattern("?ERROR -timeout ?WARN");
    assert!(p.matches("ERROR disk"));
    assert!(!p.matches("ERROR timeout"));
    assert!(p.matches("WARN timeout"));
    // Terms before the first ? are an alternative of their own.
    let p = pattern("ERROR ?WARN");
    assert!(p.matches("ERROR"));
    assert!(p.matches("WARN"));
    assert!(!p.matches("INFO"));
}

#[test]
fn blank_quotes_match_everything() {
    // The docs' "match everything" pattern.
    assert!(matches("\" \"", "anything"));
    assert!(matches("\" \"", ""));
    assert!(matches("\"\"", "x"));
    assert!(matches("\" \" ERROR", "ERROR"));
    assert!(!matches("\" \" ERROR", "WARN"));
}

#[test]
fn bare_terms_with_punctuation_are_literal() {
    assert!(matches("ERROR:", "ERROR: disk"));
    assert!(!matches("ERROR:", "ERROR disk"));
    assert!(matches("a.b", "x a.b y"));
    assert!(!matches("a.b", "axb"));
    assert!(matches("100%", "at 100%"));
    assert!(matches("a&&b x||y", "x||y then a&&b"));
    assert!(!matches("a&&b", "a b"));
    // Only a leading { or [ makes a JSON or space-delimited pattern.
    assert!(matches("x{ y", "x{ y"));
    assert!(matches("x[1]", "x[1]"));
}

#[test]
fn unicode_terms_match() {
    assert!(matches("日本", "ログ 日本語"));
    assert!(matches("\"é à\"", "café à la"));
    assert!(!matches("é", "e"));
}

#[test]
fn prefixes_may_be_followed_by_blanks() {
    assert!(matches("ERROR - Exiting", "ERROR"));
    assert!(!matches("ERROR - Exiting", "ERROR Exiting"));
    assert!(matches("? ERROR ? WARN", "WARN"));
}
