//! Parser and evaluator tests: every operator in symbol and word form, precedence,
//! parentheses, quoting, malformed input with positions, and each subject's semantics.

use std::collections::BTreeMap;

use berth_types::{ContainerInstanceStatus, Resources};

use super::{Expression, QueryError};
use crate::model::InstanceView;

fn instance() -> InstanceView {
    InstanceView {
        id: "ci-1".into(),
        status: ContainerInstanceStatus::Active,
        agent_connected: true,
        remaining: Resources::default(),
        attributes: BTreeMap::from([
            ("ecs.instance-type".to_string(), Some("t2.micro".to_string())),
            ("ecs.availability-zone".to_string(), Some("us-east-1a".to_string())),
            ("ecs.os-type".to_string(), Some("linux".to_string())),
            ("stack".to_string(), Some("prod".to_string())),
            ("cores".to_string(), Some("16".to_string())),
            ("gpu".to_string(), None),
        ]),
        ec2_instance_id: "i-abcd1234".into(),
        agent_version: Some("1.10.0".into()),
        // 2018-06-18T22:28:28Z
        registered_at_epoch_ms: 1_529_360_908_000,
        running_tasks_count: 3,
        task_groups: BTreeMap::from([("service:web".to_string(), 2), ("family:batch".to_string(), 1)]),
        capacity_provider: None,
    }
}

fn holds(text: &str) -> bool {
    Expression::parse(text).unwrap_or_else(|error| panic!("{text}: {error}")).matches(&instance())
}

fn error(text: &str) -> QueryError {
    match Expression::parse(text) {
        Ok(_) => panic!("{text} parsed"),
        Err(error) => error,
    }
}

#[test]
fn every_operator_in_symbol_and_word_form() {
    let pairs = [
        ("attribute:stack == prod", "attribute:stack equals prod", true),
        ("attribute:stack != prod", "attribute:stack not_equals prod", false),
        ("attribute:cores > 8", "attribute:cores greater_than 8", true),
        ("attribute:cores >= 16", "attribute:cores greater_than_equal 16", true),
        ("attribute:cores < 16", "attribute:cores less_than 16", false),
        ("attribute:cores <= 16", "attribute:cores less_than_equal 16", true),
        ("attribute:gpu exists", "attribute:gpu EXISTS", true),
        ("attribute:fpga !exists", "attribute:fpga not_exists", true),
        ("attribute:stack in [dev, prod]", "attribute:stack IN (dev,prod)", true),
        ("attribute:stack !in [dev, prod]", "attribute:stack NOT_IN [dev, prod]", false),
        ("attribute:ecs.instance-type =~ t2.*", "attribute:ecs.instance-type matches t2.*", true),
        ("attribute:ecs.instance-type !~ t2.*", "attribute:ecs.instance-type not_matches t2.*", false),
    ];
    for (symbol, word, expected) in pairs {
        assert_eq!(holds(symbol), expected, "{symbol}");
        assert_eq!(holds(word), expected, "{word}");
    }
}

#[test]
fn operators_need_no_spaces() {
    assert!(holds("attribute:stack==prod"));
    assert!(holds("attribute:cores>=16&&attribute:stack!=dev"));
    assert!(holds("attribute:stack!in[dev,test]"));
}

#[test]
fn precedence_is_not_then_and_then_or() {
    // or binds loosest: true || (false && false)
    assert!(holds("attribute:stack == prod or attribute:stack == dev and attribute:cores == 1"));
    // parentheses change it: (true || false) && false
    assert!(!holds("(attribute:stack == prod or attribute:stack == dev) and attribute:cores == 1"));
    // not binds tighter than and: (not false) && true
    assert!(holds("not attribute:stack == dev and attribute:cores == 16"));
    assert!(holds("!(attribute:stack == dev) && attribute:cores == 16"));
    assert!(!holds("not(attribute:stack == dev and attribute:cores == 16) and attribute:stack == dev"));
    assert!(holds("not not attribute:stack == prod"));
    assert!(holds("((attribute:stack == prod))"));
    assert!(holds("attribute:stack == dev || attribute:stack == test OR attribute:stack == prod"));
    assert!(!holds("attribute:stack == prod AND attribute:stack == dev"));
}

#[test]
fn quoted_values() {
    assert!(holds("attribute:stack == 'prod'"));
    assert!(holds("attribute:stack == \"prod\""));
    assert!(holds("ec2InstanceId in ['i-abcd1234', 'i-wxyz4567']"));
    assert!(!holds("attribute:stack == 'prod '"));
    assert!(holds("attribute:ecs.instance-type =~ 't2\\.(micro|small)'"));
    assert!(!holds("attribute:ecs.instance-type =~ 't2\\.xmicro'"));
    assert!(!holds("attribute:ecs.instance-type =~ 't2\\.micr.\\d'"));
    assert!(holds("attribute:stack != 'a \\' quote'"));
    assert!(holds("attribute:stack != 'a && b || c'"));
}

#[test]
fn malformed_expressions_say_where_and_what() {
    let cases: [(&str, usize, &str); 16] = [
        ("", 0, "expected a subject"),
        ("   ", 3, "expected a subject"),
        ("attribute:ecs.instance-type t2.micro", 28, "expected an operator after attribute:ecs.instance-type"),
        ("color == red", 0, "expected a subject"),
        ("attribute: == x", 10, "expected an attribute name"),
        ("attribute:stack ==", 18, "expected a value after =="),
        ("attribute:stack == prod and", 27, "expected a subject"),
        ("attribute:stack == prod extra", 24, "expected 'and', 'or', ')' or the end"),
        ("(attribute:stack == prod", 24, "expected ')'"),
        ("attribute:stack == 'prod", 19, "unterminated quoted value"),
        ("attribute:stack in prod", 19, "expected a list such as [a, b] after in"),
        ("attribute:stack in [a b]", 22, "expected ',' or ']'"),
        ("attribute:stack =~ 'a(b'", 19, "invalid regular expression"),
        ("registeredAt > yesterday", 15, "expected a date"),
        ("runningTasksCount exists", 18, "the operator exists is not supported for runningTasksCount"),
        ("agentConnected == maybe", 18, "expected true or false"),
    ];
    for (text, position, expected) in cases {
        let error = error(text);
        assert_eq!(error.position, position, "{text}: {error}");
        assert!(error.message.contains(expected), "{text}: {error}");
    }
    assert_eq!(
        error("attribute:ecs.instance-type t2.micro").to_string(),
        "position 28: expected an operator after attribute:ecs.instance-type"
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_eq!(error("attribute:stack == 'é' )").position, 23);
}

#[test]
fn unsupported_regex_features_are_rejected_not_misread() {
    assert!(error("attribute:stack =~ '(a)\\1'").message.contains("invalid regular expression"));
    assert!(error("attribute:stack =~ '(?=a)a'").message.contains("invalid regular expression"));
}

#[test]
fn unbalanced_patterns_cannot_escape_the_whole_value_anchor() {
    // Wrapped as `^(?:p)|(x)$`, this once matched any value starting with `p`.
    let unbalanced = error("attribute:stack =~ 'p)|(x'");
    assert_eq!(unbalanced.position, 19, "{unbalanced}");
    assert!(unbalanced.message.contains("invalid regular expression"), "{unbalanced}");
    assert!(error("attribute:stack =~ '.*)|(?:q'").message.contains("invalid regular expression"));
    assert!(holds("attribute:stack =~ '(p)(r)od'"));
}

#[test]
fn length_limit_is_2000_characters() {
    let value = "x".repeat(2000 - "attribute:stack == ".len());
    assert!(Expression::parse(&format!("attribute:stack == {value}")).is_ok());
    let error = error(&format!("attribute:stack == {value}x"));
    assert_eq!(error.position, 2000);
    assert!(error.message.contains("longer than 2000"));
}

#[test]
fn attribute_names_may_hold_dots_hyphens_slashes() {
    let mut with_slash = instance();
    with_slash.attributes.insert("com.example/team-name_1".into(), Some("blue".into()));
    let expression = Expression::parse("attribute:com.example/team-name_1 == blue").unwrap();
    assert!(expression.matches(&with_slash));
    assert_eq!(error("attribute:a$b == c").position, 11);
}

#[test]
fn attribute_subject() {
    assert!(holds("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"));
    // A valueless attribute exists but equals nothing; a missing one satisfies only negations.
    assert!(!holds("attribute:gpu == ''"));
    assert!(holds("attribute:gpu != anything"));
    assert!(!holds("attribute:missing == x"));
    assert!(holds("attribute:missing != x"));
    assert!(!holds("attribute:missing > 1"));
    // Numeric when both sides are numbers, string otherwise.
    assert!(holds("attribute:cores > 9"));
    assert!(holds("attribute:cores == 16.0"));
    assert!(holds("attribute:stack > alpha"));
    // The whole value must match the pattern, as with Java's String.matches.
    assert!(!holds("attribute:ecs.instance-type =~ t2"));
    assert!(holds("attribute:ecs.instance-type =~ .*micro"));
}

#[test]
fn agent_connected_subject() {
    assert!(holds("agentConnected == true"));
    assert!(holds("agentConnected != FALSE"));
    assert!(holds("agentConnected in [true]"));
    assert!(holds("agentConnected =~ t.*"));
    let mut disconnected = instance();
    disconnected.agent_connected = false;
    assert!(Expression::parse("agentConnected == false").unwrap().matches(&disconnected));
    assert!(error("agentConnected > true").message.contains("not supported"));
}

#[test]
fn agent_version_subject() {
    assert!(holds("agentVersion >= 1.9.2"));
    assert!(holds("agentVersion > 1.9"));
    assert!(holds("agentVersion == 1.10.0"));
    assert!(holds("agentVersion < 1.10.1"));
    assert!(error("agentVersion in [1.0]").message.contains("not supported"));
    let mut unknown = instance();
    unknown.agent_version = None;
    assert!(!Expression::parse("agentVersion >= 0").unwrap().matches(&unknown));
}

#[test]
fn ec2_instance_id_subject() {
    assert!(holds("ec2InstanceId == i-abcd1234"));
    assert!(holds("ec2InstanceId in ['i-abcd1234', 'i-wxyz4567']"));
    assert!(holds("ec2InstanceId !in [i-wxyz4567]"));
    assert!(holds("ec2InstanceId =~ i-abcd.*"));
    assert!(error("ec2InstanceId exists").message.contains("not supported"));
}

#[test]
fn registered_at_subject() {
    assert!(holds("registeredAt == 2018-06-18T22:28:28Z"));
    assert!(holds("registeredAt == 2018-06-18T22:28:28+00:00"));
    assert!(holds("registeredAt == 2018-06-18T22:28:28"));
    assert!(holds("registeredAt > 2018-06-18T22:28:27Z"));
    assert!(holds("registeredAt < 2018-06-19T00:28:29+02:00"));
    // A bare day compares whole days.
    assert!(holds("registeredAt == 2018-06-18"));
    assert!(holds("registeredAt >= 2018-06-18"));
    assert!(holds("registeredAt < 2018-06-19"));
    assert!(!holds("registeredAt > 2018-06-18"));
    assert!(holds("registeredAt != 2018-06-17"));
    assert!(error("registeredAt =~ 2018.*").message.contains("not supported"));
}

#[test]
fn running_tasks_count_subject() {
    assert!(holds("runningTasksCount == 3"));
    assert!(holds("runningTasksCount > 2"));
    assert!(holds("runningTasksCount <= 3"));
    assert!(!holds("runningTasksCount < 3"));
    assert!(error("runningTasksCount == many").message.contains("expected a number"));
}

#[test]
fn task_group_subject() {
    assert!(holds("task:group == service:web"));
    assert!(holds("task:group == 'service:web'"));
    assert!(!holds("task:group == service:db"));
    // Negations mean "no task of that group here".
    assert!(!holds("task:group != service:web"));
    assert!(holds("task:group != service:db"));
    assert!(holds("not(task:group == service:db)"));
    assert!(holds("task:group in [service:db, family:batch]"));
    assert!(holds("task:group !in [service:db]"));
    assert!(holds("task:group =~ service:.*"));
    assert!(holds("task:group !~ service:d.*"));
    assert!(holds("task:group exists"));
    assert!(!holds("task:group !exists"));
    let mut empty = instance();
    empty.task_groups.clear();
    assert!(Expression::parse("task:group !exists").unwrap().matches(&empty));
    assert!(Expression::parse("task:group != service:web").unwrap().matches(&empty));
}

#[test]
fn expressions_compare_and_print_as_written() {
    let text = "attribute:stack == prod and not(task:group == db)";
    let expression: Expression = text.parse().unwrap();
    assert_eq!(expression.to_string(), text);
    assert_eq!(expression, Expression::parse(text).unwrap());
    assert!(expression.depends_on_placed_tasks());
    assert!(!Expression::parse("attribute:stack == prod").unwrap().depends_on_placed_tasks());
}
