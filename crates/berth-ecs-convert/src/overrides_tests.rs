//! Override merging, validation and the echoed `Task.overrides` document.

use super::*;
use crate::error::ValidationErrorKind;
use crate::task_definition::parse_register_task_definition;
use serde_json::json;

fn spec() -> TaskSpec {
    let request = serde_json::from_value(json!({
        "family": "web",
        "containerDefinitions": [
            { "name": "web", "image": "nginx", "cpu": 128, "memory": 256, "command": ["serve"],
              "environment": [{ "name": "MODE", "value": "prod" }, { "name": "LEVEL", "value": "info" }] },
            { "name": "sidecar", "image": "busybox", "memoryReservation": 64 }
        ]
    }))
    .unwrap();
    parse_register_task_definition(&request).unwrap().spec
}

fn overrides(body: Value) -> wire::TaskOverride {
    serde_json::from_value(body).unwrap()
}

fn rejected(body: Value, kind: ValidationErrorKind, field: &str) -> String {
    let error = apply_overrides(&spec(), Some(&overrides(body))).expect_err("should be rejected");
    assert_eq!(error.kind, kind, "{}", error.message);
    assert!(error.message.starts_with(&format!("{field}: ")), "expected {field}, got {}", error.message);
    error.message
}

#[test]
fn no_overrides_keeps_the_spec_and_echoes_each_container_by_name() {
    let (applied, document) = apply_overrides(&spec(), None).unwrap();
    assert_eq!(applied, spec());
    assert_eq!(
        document,
        json!({ "containerOverrides": [{ "name": "web" }, { "name": "sidecar" }], "inferenceAcceleratorOverrides": [] })
    );
}

#[test]
fn container_overrides_replace_and_merge() {
    let given = overrides(json!({
        "containerOverrides": [{
            "name": "web", "command": ["migrate"], "cpu": 64, "memory": 512, "memoryReservation": 128,
            "environment": [{ "name": "LEVEL", "value": "debug" }, { "name": "EXTRA", "value": "1" }]
        }]
    }));
    let (applied, document) = apply_overrides(&spec(), Some(&given)).unwrap();
    let web = &applied.containers[0];
    assert_eq!(web.command.as_deref(), Some(&["migrate".to_string()][..]));
    assert_eq!((web.cpu, web.memory, web.memory_reservation), (64, Some(512), Some(128)));
    assert_eq!(
        web.environment,
        [("MODE".into(), "prod".into()), ("LEVEL".into(), "debug".into()), ("EXTRA".into(), "1".into())]
    );
    assert_eq!(applied.containers[1], spec().containers[1]);
    assert_eq!(document["containerOverrides"][0]["command"], json!(["migrate"]));
    assert_eq!(document["containerOverrides"][0]["cpu"], 64);
    assert_eq!(document["containerOverrides"][1], json!({ "name": "sidecar" }));
    assert_eq!(document["inferenceAcceleratorOverrides"], json!([]));
}

#[test]
fn task_level_cpu_and_memory_use_ecs_units() {
    let given = overrides(json!({ "cpu": "0.5 vcpu", "memory": "1GB" }));
    let (applied, document) = apply_overrides(&spec(), Some(&given)).unwrap();
    assert_eq!((applied.cpu, applied.memory), (Some(512), Some(1024)));
    assert_eq!(document["cpu"], "0.5 vcpu");
    assert_eq!(document["memory"], "1GB");
    rejected(json!({ "cpu": "one" }), ValidationErrorKind::Client, "overrides.cpu");
    rejected(json!({ "memory": "0" }), ValidationErrorKind::Client, "overrides.memory");
}

#[test]
fn unknown_or_repeated_container_names_are_refused() {
    let message = rejected(
        json!({ "containerOverrides": [{ "name": "db" }] }),
        ValidationErrorKind::InvalidParameter,
        "overrides.containerOverrides[0].name",
    );
    assert!(message.contains("Override for container named db is not a container in the TaskDefinition."));
    rejected(
        json!({ "containerOverrides": [{ "name": "web" }, { "name": "web" }] }),
        ValidationErrorKind::InvalidParameter,
        "overrides.containerOverrides[1].name",
    );
}

#[test]
fn overridden_resources_are_checked_like_a_registration() {
    let message = rejected(
        json!({ "containerOverrides": [{ "name": "web", "memoryReservation": 512 }] }),
        ValidationErrorKind::Client,
        "overrides.containerOverrides[0].memoryReservation",
    );
    assert!(message.contains("less than or equal to its 'memory' setting"));
    rejected(
        json!({ "containerOverrides": [{ "name": "web", "memory": 3 }] }),
        ValidationErrorKind::Client,
        "overrides.containerOverrides[0].memory",
    );
    rejected(
        json!({ "containerOverrides": [{ "name": "web", "cpu": -5 }] }),
        ValidationErrorKind::Client,
        "overrides.containerOverrides[0].cpu",
    );
    // A smaller task memory than a container's hard limit, on a container that was not overridden.
    let message = rejected(json!({ "memory": "128" }), ValidationErrorKind::Client, "overrides.memory");
    assert!(message.contains("container 'web' is greater than for the task"));
    let message = rejected(
        json!({ "cpu": "128", "containerOverrides": [{ "name": "sidecar", "cpu": 64 }] }),
        ValidationErrorKind::Client,
        "overrides.cpu",
    );
    assert!(message.contains("The sum of all container 'cpu' values"));
    rejected(
        json!({ "containerOverrides": [{ "name": "web", "environment": [{ "value": "x" }] }] }),
        ValidationErrorKind::Client,
        "overrides.containerOverrides[0].environment[0].name",
    );
    rejected(
        json!({ "containerOverrides": [{ "name": "web", "environmentFiles": [{ "value": "arn:aws:s3:::b/e", "type": "s3" }] }] }),
        ValidationErrorKind::InvalidParameter,
        "overrides.containerOverrides[0].environmentFiles",
    );
}

#[test]
fn container_overrides_are_limited_to_8192_characters() {
    let long_command: Vec<String> = (0..100).map(|_| "x".repeat(90)).collect();
    let message = rejected(
        json!({ "containerOverrides": [{ "name": "web", "command": long_command }] }),
        ValidationErrorKind::InvalidParameter,
        "overrides.containerOverrides",
    );
    assert!(message.contains("Container Overrides length must be at most 8192"));
    let fits: Vec<String> = (0..80).map(|_| "x".repeat(90)).collect();
    assert!(apply_overrides(
        &spec(),
        Some(&overrides(json!({ "containerOverrides": [{ "name": "web", "command": fits }] })))
    )
    .is_ok());
}
