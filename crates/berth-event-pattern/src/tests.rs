use super::*;
use serde_json::json;

fn task_stopped(exit_code: i64) -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": "ECS Task State Change", "source": "aws.ecs",
        "account": "000000000000", "region": "us-east-1", "resources": ["arn:aws:ecs:us-east-1:000000000000:task/c/1"],
        "detail": {
            "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/c", "lastStatus": "STOPPED",
            "group": "family:worker", "stopCode": "EssentialContainerExited",
            "containers": [{"name": "sidecar", "exitCode": 0}, {"name": "app", "exitCode": exit_code}],
            "cpu": "256", "attachments": [], "overrides": {"containerOverrides": []},
            "startedAt": "2026-12-04T10:00:00Z", "ip": "10.0.3.7"
        }
    })
}

fn matches(pattern: Value, event: &Value) -> bool {
    Pattern::parse(&pattern.to_string()).unwrap().matches(event)
}

#[test]
fn fields_and_and_conditions_or() {
    let event = task_stopped(1);
    assert!(matches(json!({"source": ["aws.ecs"], "detail": {"lastStatus": ["STOPPED", "DEPROVISIONING"]}}), &event));
    assert!(!matches(json!({"source": ["aws.ecs"], "detail": {"lastStatus": ["RUNNING"]}}), &event));
    assert!(!matches(json!({"source": ["aws.ec2"], "detail": {"lastStatus": ["STOPPED"]}}), &event));
}

#[test]
fn arrays_of_objects_match_when_any_element_does() {
    // The clean-up rule: a task that stopped with a container's non-zero exit code.
    let rule = json!({"detail-type": ["ECS Task State Change"], "detail": {"lastStatus": ["STOPPED"],
        "containers": {"exitCode": [{"anything-but": 0}]}}});
    assert!(matches(rule.clone(), &task_stopped(1)));
    assert!(!matches(rule, &task_stopped(0)));
}

#[test]
fn every_match_kind() {
    let event = task_stopped(137);
    let cases = [
        (json!({"detail": {"group": [{"prefix": "family:"}]}}), true),
        (json!({"detail": {"group": [{"prefix": {"equals-ignore-case": "FAMILY:"}}]}}), true),
        (json!({"detail": {"group": [{"suffix": "worker"}]}}), true),
        (json!({"detail": {"group": [{"suffix": {"equals-ignore-case": "WORKER"}}]}}), true),
        (json!({"detail": {"stopCode": [{"equals-ignore-case": "essentialcontainerexited"}]}}), true),
        (json!({"detail": {"group": [{"wildcard": "fam*:w*r"}]}}), true),
        (json!({"detail": {"group": [{"wildcard": "*x*"}]}}), false),
        (json!({"detail": {"lastStatus": [{"anything-but": ["RUNNING", "PENDING"]}]}}), true),
        (json!({"detail": {"group": [{"anything-but": {"prefix": "family:"}}]}}), false),
        (json!({"detail": {"group": [{"anything-but": {"suffix": "x"}}]}}), true),
        (
            json!({"detail": {"stopCode": [{"anything-but": {"equals-ignore-case": ["ESSENTIALCONTAINEREXITED"]}}]}}),
            false,
        ),
        (json!({"detail": {"group": [{"anything-but": {"wildcard": "*work*"}}]}}), false),
        (json!({"detail": {"containers": {"exitCode": [{"numeric": [">", 100, "<=", 137]}]}}}), true),
        (json!({"detail": {"containers": {"exitCode": [{"numeric": ["=", 137.0]}]}}}), true),
        (json!({"detail": {"cpu": [{"numeric": [">", 0]}]}}), false),
        (json!({"detail": {"stoppedReason": [{"exists": false}]}}), true),
        (json!({"detail": {"stopCode": [{"exists": true}]}}), true),
        (json!({"detail": {"overrides": [{"exists": true}]}}), false),
        (json!({"detail": {"missing": {"deeper": [{"exists": false}]}}}), true),
        (json!({"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}), true),
        (json!({"detail": {"ip": [{"cidr": "10.1.0.0/16"}]}}), false),
        (json!({"detail": {"cpu": ["256"]}}), true),
        (json!({"detail": {"cpu": [256]}}), false),
        (json!({"detail": {"attachments": [{"exists": false}]}}), false),
        (json!({"detail": {"$or": [{"lastStatus": ["RUNNING"]}, {"containers": {"exitCode": [137]}}]}}), true),
        (json!({"$or": [{"source": ["x"]}, {"detail-type": ["y"]}]}), false),
    ];
    for (pattern, expected) in cases {
        assert_eq!(matches(pattern.clone(), &event), expected, "{pattern}");
    }
}

#[test]
fn refused_patterns_say_why() {
    for (pattern, reason) in [
        ("[]", "not an object"),
        ("{}", "Empty objects"),
        ("not json", "not valid JSON"),
        (r#"{"source": "aws.ecs"}"#, "Match value must be"),
        (r#"{"source": []}"#, "Empty arrays"),
        (r#"{"source": [{"regex": "x"}]}"#, "Unrecognized match type regex"),
        (r#"{"n": [{"numeric": [">", "a"]}]}"#, "must be numeric"),
        (r#"{"n": [{"numeric": ["~", 1]}]}"#, "Unrecognized numeric range operator"),
        (r#"{"n": [{"exists": "yes"}]}"#, "exists match pattern"),
        (r#"{"n": [{"cidr": "10.0.0.0"}]}"#, "Malformed CIDR"),
        (r#"{"$or": [{"a": ["b"]}]}"#, "at least two"),
        (r#"{"n": [{"prefix": 1}]}"#, "prefix match pattern must be a string"),
    ] {
        let error = Pattern::parse(pattern).unwrap_err();
        assert!(error.to_string().starts_with("Event pattern is not valid. Reason: "), "{error}");
        assert!(error.0.contains(reason), "{pattern}: {error}");
    }
}

#[test]
fn wildcards_escape_their_star() {
    use crate::condition::wildcard;
    assert!(wildcard("a\\*b", "a*b"));
    assert!(!wildcard("a\\*b", "axb"));
    assert!(wildcard("*", ""));
    assert!(wildcard("a*", "abc") && wildcard("*c", "abc") && !wildcard("a*d", "abc"));
    assert!(!wildcard("ab*ba", "aba"), "pieces may not overlap");
}
