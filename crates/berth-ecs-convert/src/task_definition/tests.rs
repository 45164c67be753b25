//! Task-wide rules, the spec a definition becomes, and the document Describe echoes.
//! Container-level rules are tested in `tests_containers.rs`.

use super::*;
use crate::error::ValidationErrorKind;
use berth_types::records::TaskDefinitionRecord;
use berth_types::spec::{DependencyCondition, PortMappingSpec, VolumeSource};
use berth_types::{PortProtocol, TaskDefinitionStatus, Timestamp};
use serde_json::{json, Value};

/// A request from JSON, as the wire decoder would produce it.
pub(super) fn request(body: Value) -> wire::RegisterTaskDefinitionRequest {
    serde_json::from_value(body).expect("test request should decode")
}

/// A minimal valid request with the given container definitions (and extra task members).
pub(super) fn with_containers(containers: Value, extra: Value) -> wire::RegisterTaskDefinitionRequest {
    let mut body = json!({ "family": "web", "containerDefinitions": containers });
    for (key, value) in extra.as_object().expect("extra members are an object") {
        body[key] = value.clone();
    }
    request(body)
}

pub(super) fn parse_ok(request: &wire::RegisterTaskDefinitionRequest) -> ParsedTaskDefinition {
    parse_register_task_definition(request).unwrap_or_else(|error| panic!("should register: {}", error.message))
}

/// The error for `request`, asserting its kind and that its message starts with `field: `.
pub(super) fn rejected(
    request: &wire::RegisterTaskDefinitionRequest,
    kind: ValidationErrorKind,
    field: &str,
) -> String {
    let error = parse_register_task_definition(request).expect_err("should be rejected");
    assert_eq!(error.kind, kind, "{}", error.message);
    assert!(error.message.starts_with(&format!("{field}: ")), "expected field {field}, got {}", error.message);
    error.message
}

fn web() -> Value {
    json!({ "name": "web", "image": "nginx:1.27", "memory": 128 })
}

#[test]
fn minimal_definition_becomes_a_spec_with_ecs_defaults() {
    let parsed = parse_ok(&with_containers(json!([web()]), json!({})));
    assert_eq!(parsed.family.as_str(), "web");
    assert_eq!(parsed.spec.revision, 0);
    assert_eq!(parsed.spec.network_mode, NetworkMode::Bridge);
    assert_eq!((parsed.spec.cpu, parsed.spec.memory), (None, None));
    let container = &parsed.spec.containers[0];
    assert_eq!((container.name.as_str(), container.image.as_str()), ("web", "nginx:1.27"));
    assert_eq!((container.cpu, container.memory, container.memory_reservation), (0, Some(128), None));
    assert!(container.essential);
    assert!(!container.readonly_root_filesystem && !container.init_process_enabled);
    assert_eq!(container.stop_timeout_seconds, None);
    assert!(parsed.tags.is_empty());
}

#[test]
fn full_definition_fills_every_spec_field() {
    let parsed = parse_ok(&with_containers(
        json!([{
            "name": "app", "image": "app:1", "cpu": 256, "memory": 512, "memoryReservation": 256, "essential": true,
            "entryPoint": ["/bin/sh", "-c"], "command": ["serve"], "workingDirectory": "/srv", "user": "1000",
            "environment": [{ "name": "MODE", "value": "prod" }, { "name": "EMPTY" }],
            "dockerLabels": { "team": "core" }, "stopTimeout": 300, "readonlyRootFilesystem": true,
            "linuxParameters": { "initProcessEnabled": true },
            "portMappings": [{ "containerPort": 80, "hostPort": 8080 }, { "containerPort": 53, "hostPort": 0, "protocol": "udp" }],
            "healthCheck": { "command": ["CMD-SHELL", "curl -f localhost"] },
            "dependsOn": [{ "containerName": "db", "condition": "HEALTHY" }],
            "mountPoints": [{ "sourceVolume": "data", "containerPath": "/data", "readOnly": true }],
            "ulimits": [{ "name": "nofile", "softLimit": 1024, "hardLimit": 4096 }],
            "logConfiguration": { "logDriver": "json-file", "options": { "max-size": "10m" } }
        }, {
            "name": "db", "image": "postgres:16", "memoryReservation": 256, "essential": false,
            "healthCheck": { "command": ["CMD", "pg_isready"], "interval": 10, "timeout": 3, "retries": 5, "startPeriod": 20 }
        }]),
        json!({ "cpu": "1 vCPU", "memory": "1 GB", "volumes": [
            { "name": "data", "host": { "sourcePath": "/var/data" } },
            { "name": "scratch", "host": {} },
            { "name": "bare" },
            { "name": "cache", "dockerVolumeConfiguration": { "scope": "shared", "autoprovision": true, "driver": "local",
              "driverOpts": { "type": "tmpfs" }, "labels": { "a": "b" } } },
            { "name": "temp", "dockerVolumeConfiguration": {} }
        ], "tags": [{ "key": "team", "value": "core" }] }),
    ));
    let spec = &parsed.spec;
    assert_eq!((spec.cpu, spec.memory), (Some(1024), Some(1024)));
    let app = &spec.containers[0];
    assert_eq!((app.cpu, app.memory, app.memory_reservation), (256, Some(512), Some(256)));
    assert_eq!(app.entry_point.as_deref(), Some(&["/bin/sh".to_string(), "-c".to_string()][..]));
    assert_eq!(app.command.as_deref(), Some(&["serve".to_string()][..]));
    assert_eq!(app.environment, [("MODE".into(), "prod".into()), ("EMPTY".into(), String::new())]);
    assert_eq!((app.working_directory.as_deref(), app.user.as_deref()), (Some("/srv"), Some("1000")));
    assert_eq!(app.docker_labels["team"], "core");
    assert_eq!(app.stop_timeout_seconds, Some(300));
    assert!(app.readonly_root_filesystem && app.init_process_enabled);
    assert_eq!(
        app.port_mappings,
        [
            PortMappingSpec { container_port: 80, host_port: Some(8080), protocol: PortProtocol::Tcp },
            PortMappingSpec { container_port: 53, host_port: None, protocol: PortProtocol::Udp },
        ]
    );
    let health_check = app.health_check.as_ref().unwrap();
    assert_eq!(
        (
            health_check.interval_seconds,
            health_check.timeout_seconds,
            health_check.retries,
            health_check.start_period_seconds
        ),
        (30, 5, 3, 0)
    );
    let db_health_check = spec.containers[1].health_check.as_ref().unwrap();
    assert_eq!(
        (
            db_health_check.interval_seconds,
            db_health_check.timeout_seconds,
            db_health_check.retries,
            db_health_check.start_period_seconds
        ),
        (10, 3, 5, 20)
    );
    assert_eq!(app.depends_on[0].container_name, "db");
    assert_eq!(app.depends_on[0].condition, DependencyCondition::Healthy);
    assert_eq!((app.mount_points[0].source_volume.as_str(), app.mount_points[0].read_only), ("data", true));
    assert_eq!(
        (app.ulimits[0].name.as_str(), app.ulimits[0].soft_limit, app.ulimits[0].hard_limit),
        ("nofile", 1024, 4096)
    );
    let log_configuration = app.log_configuration.as_ref().unwrap();
    assert_eq!(
        (log_configuration.driver.as_str(), log_configuration.options["max-size"].as_str()),
        ("json-file", "10m")
    );
    assert!(!spec.containers[1].essential);

    let sources: Vec<&VolumeSource> = spec.volumes.iter().map(|volume| &volume.source).collect();
    assert_eq!(sources[0], &VolumeSource::HostPath("/var/data".into()));
    assert_eq!(sources[1], &VolumeSource::TaskScratch);
    assert_eq!(sources[2], &VolumeSource::TaskScratch);
    let VolumeSource::DockerVolume { shared, autoprovision, driver, driver_options, labels } = sources[3] else {
        panic!("cache should be a docker volume");
    };
    assert!(*shared && *autoprovision);
    assert_eq!(
        (driver.as_deref(), driver_options["type"].as_str(), labels["a"].as_str()),
        (Some("local"), "tmpfs", "b")
    );
    assert!(matches!(sources[4], VolumeSource::DockerVolume { shared: false, autoprovision: false, driver: None, .. }));
    assert_eq!(parsed.tags, [Tag { key: "team".into(), value: "core".into() }]);
}

#[test]
fn family_must_be_an_ecs_name() {
    let mut bad = with_containers(json!([web()]), json!({}));
    bad.family = Some("web app".into());
    assert!(rejected(&bad, ValidationErrorKind::Client, "family").contains("Family contains invalid characters"));
    bad.family = Some(String::new());
    assert!(rejected(&bad, ValidationErrorKind::Client, "family").contains("Family can not be blank."));
    bad.family = None;
    rejected(&bad, ValidationErrorKind::Client, "family");
    bad.family = Some("f".repeat(256));
    rejected(&bad, ValidationErrorKind::Client, "family");
    bad.family = Some("f".repeat(255));
    parse_ok(&bad);
}

#[test]
fn container_count_is_one_to_ten() {
    let none = with_containers(json!([]), json!({}));
    assert!(rejected(&none, ValidationErrorKind::Client, "containerDefinitions")
        .contains("No Container Definitions provided."));
    let ten: Vec<Value> =
        (0..10).map(|number| json!({ "name": format!("c{number}"), "image": "busybox", "memory": 8 })).collect();
    parse_ok(&with_containers(Value::Array(ten.clone()), json!({})));
    let mut eleven = ten;
    eleven.push(json!({ "name": "c10", "image": "busybox", "memory": 8 }));
    let message = rejected(
        &with_containers(Value::Array(eleven), json!({})),
        ValidationErrorKind::Client,
        "containerDefinitions",
    );
    assert!(message.contains("Too many containers."));
}

#[test]
fn container_names_are_unique_and_one_container_is_essential() {
    let duplicate = with_containers(json!([web(), web()]), json!({}));
    assert!(rejected(&duplicate, ValidationErrorKind::Client, "containerDefinitions[1].name")
        .contains("Duplicate container name 'web'"));
    let none_essential =
        with_containers(json!([{ "name": "a", "image": "busybox", "memory": 8, "essential": false }]), json!({}));
    let message = rejected(&none_essential, ValidationErrorKind::Client, "containerDefinitions");
    assert!(message.contains("must have at least one essential container"));
}

#[test]
fn network_modes_and_compatibilities() {
    let host = parse_ok(&with_containers(json!([web()]), json!({ "networkMode": "host" })));
    assert_eq!(host.spec.network_mode, NetworkMode::Host);
    let none = parse_ok(&with_containers(json!([web()]), json!({ "networkMode": "none" })));
    assert_eq!(none.spec.network_mode, NetworkMode::None);
    let awsvpc = with_containers(json!([web()]), json!({ "networkMode": "awsvpc" }));
    assert!(rejected(&awsvpc, ValidationErrorKind::Client, "networkMode").contains("not supported by Berth yet"));
    parse_ok(&with_containers(json!([web()]), json!({ "requiresCompatibilities": ["EC2", "EXTERNAL"] })));
    let fargate = with_containers(json!([web()]), json!({ "requiresCompatibilities": ["EC2", "FARGATE"] }));
    assert!(rejected(&fargate, ValidationErrorKind::Client, "requiresCompatibilities[1]").contains("FARGATE"));
}

#[test]
fn task_cpu_and_memory_bound_the_containers() {
    let fits = parse_ok(&with_containers(
        json!([{ "name": "a", "image": "busybox", "cpu": 128, "memory": 256 }, { "name": "b", "image": "busybox", "cpu": 128 }]),
        json!({ "cpu": "0.25 vCPU", "memory": "0.5GB" }),
    ));
    assert_eq!((fits.spec.cpu, fits.spec.memory), (Some(256), Some(512)));
    assert_eq!(fits.document.cpu.as_deref(), Some("256"));
    assert_eq!(fits.document.memory.as_deref(), Some("512"));

    let too_much_cpu = with_containers(
        json!([{ "name": "a", "image": "busybox", "cpu": 200, "memory": 64 }, { "name": "b", "image": "busybox", "cpu": 100, "memory": 64 }]),
        json!({ "cpu": "256" }),
    );
    assert!(
        rejected(&too_much_cpu, ValidationErrorKind::Client, "cpu").contains("The sum of all container 'cpu' values")
    );
    let container_over_task =
        with_containers(json!([{ "name": "a", "image": "busybox", "memory": 1024 }]), json!({ "memory": "512" }));
    let message = rejected(&container_over_task, ValidationErrorKind::Client, "containerDefinitions[0].memory");
    assert!(message.contains("The 'memory' setting for container 'a' is greater than for the task."));
    let reservations_over_task = with_containers(
        json!([{ "name": "a", "image": "busybox", "memoryReservation": 300 }, { "name": "b", "image": "busybox", "memory": 300 }]),
        json!({ "memory": "512" }),
    );
    assert!(
        rejected(&reservations_over_task, ValidationErrorKind::Client, "memory").contains("'memoryReservation' values")
    );
    rejected(&with_containers(json!([web()]), json!({ "cpu": "64" })), ValidationErrorKind::Client, "cpu");
    rejected(&with_containers(json!([web()]), json!({ "memory": "lots" })), ValidationErrorKind::Client, "memory");
}

#[test]
fn placement_constraints_are_bounded() {
    parse_ok(&with_containers(
        json!([web()]),
        json!({ "placementConstraints": [{ "type": "memberOf", "expression": "attribute:zone == a" }] }),
    ));
    let empty = with_containers(json!([web()]), json!({ "placementConstraints": [{ "type": "memberOf" }] }));
    rejected(&empty, ValidationErrorKind::Client, "placementConstraints[0].expression");
    let eleven: Vec<Value> =
        (0..11).map(|_| json!({ "type": "memberOf", "expression": "agentConnected == true" })).collect();
    rejected(
        &with_containers(json!([web()]), json!({ "placementConstraints": eleven })),
        ValidationErrorKind::Client,
        "placementConstraints",
    );
}

#[test]
fn oversized_definitions_are_refused() {
    let huge_environment: Vec<Value> =
        (0..70).map(|number| json!({ "name": format!("VARIABLE_{number}"), "value": "x".repeat(1000) })).collect();
    let huge = with_containers(
        json!([{ "name": "a", "image": "busybox", "memory": 8, "environment": huge_environment }]),
        json!({}),
    );
    assert!(rejected(&huge, ValidationErrorKind::Client, "taskDefinition").contains("64 KiB"));
}

#[test]
fn tags_are_validated_with_the_definition() {
    let reserved = with_containers(json!([web()]), json!({ "tags": [{ "key": "aws:owner", "value": "x" }] }));
    rejected(&reserved, ValidationErrorKind::InvalidParameter, "tags[0].key");
}

#[test]
fn document_echoes_with_ecs_defaults() {
    let parsed = parse_ok(&with_containers(
        json!([{ "name": "web", "image": "nginx", "memory": 128, "portMappings": [{ "containerPort": 80 }],
                 "healthCheck": { "command": ["CMD", "true"] }, "logConfiguration": { "logDriver": "awslogs" } }]),
        json!({ "networkMode": "host", "requiresCompatibilities": ["EC2"], "taskRoleArn": "arn:aws:iam::1:role/r",
                "executionRoleArn": "arn:aws:iam::1:role/e" }),
    ));
    let value = document_to_value(&parsed.document);
    assert_eq!(value["family"], "web");
    assert_eq!(value["networkMode"], "host");
    assert_eq!(value["compatibilities"], json!(["EXTERNAL", "EC2"]));
    assert_eq!(value["requiresCompatibilities"], json!(["EC2"]));
    assert_eq!(value["volumes"], json!([]));
    assert_eq!(value["placementConstraints"], json!([]));
    for absent in ["taskDefinitionArn", "revision", "status", "registeredAt", "registeredBy", "deregisteredAt"] {
        assert!(value.get(absent).is_none(), "{absent} should be filled at render time");
    }
    let container = &value["containerDefinitions"][0];
    assert_eq!(container["essential"], true);
    assert_eq!(container["cpu"], 0);
    assert_eq!(container["portMappings"], json!([{ "containerPort": 80, "hostPort": 80, "protocol": "tcp" }]));
    for empty in ["mountPoints", "volumesFrom", "environment", "systemControls"] {
        assert_eq!(container[empty], json!([]), "{empty}");
    }
    assert_eq!(
        container["healthCheck"],
        json!({ "command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3 })
    );
    let attributes: Vec<&str> = value["requiresAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attribute| attribute["name"].as_str().unwrap())
        .collect();
    for expected in [
        "com.amazonaws.ecs.capability.task-iam-role",
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "com.amazonaws.ecs.capability.docker-remote-api.1.18",
        "com.amazonaws.ecs.capability.docker-remote-api.1.19",
        "ecs.capability.execution-role-awslogs",
        "ecs.capability.container-health-check",
    ] {
        assert!(attributes.contains(&expected), "missing {expected} in {attributes:?}");
    }
}

#[test]
fn bridge_document_keeps_dynamic_ports_and_defaults_network_mode() {
    let parsed = parse_ok(&with_containers(
        json!([{ "name": "web", "image": "nginx", "memory": 128, "portMappings": [{ "containerPort": 80 }] }]),
        json!({}),
    ));
    let value = document_to_value(&parsed.document);
    assert_eq!(value["networkMode"], "bridge");
    assert_eq!(value["containerDefinitions"][0]["portMappings"], json!([{ "containerPort": 80, "protocol": "tcp" }]));
    assert_eq!(value["requiresAttributes"], json!([]));
    assert!(value.get("requiresCompatibilities").is_none());
}

#[test]
fn render_fills_registration_facts() {
    let parsed = parse_ok(&with_containers(json!([web()]), json!({})));
    let record = TaskDefinitionRecord {
        family: parsed.family.clone(),
        revision: 7,
        status: TaskDefinitionStatus::Inactive,
        spec: parsed.spec.clone(),
        document: document_to_value(&parsed.document),
        tags: vec![],
        registered_at: Timestamp(1_700_000_000_500),
        deregistered_at: Some(Timestamp(1_700_000_100_000)),
    };
    let arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:7".to_string();
    let rendered = render_task_definition(&record, arn.clone());
    assert_eq!(rendered.task_definition_arn, Some(arn));
    assert_eq!(rendered.revision, Some(7));
    assert_eq!(rendered.status, Some(wire::TaskDefinitionStatus::Inactive));
    assert_eq!(rendered.registered_at, Some(1_700_000_000.5));
    assert_eq!(rendered.deregistered_at, Some(1_700_000_100.0));
    assert_eq!(rendered.container_definitions, parsed.document.container_definitions);

    let corrupt = TaskDefinitionRecord { document: json!("not a document"), deregistered_at: None, ..record };
    let rendered = render_task_definition(&corrupt, "arn".into());
    assert_eq!(rendered.family.as_deref(), Some("web"));
    assert_eq!(rendered.deregistered_at, None);
}

#[test]
fn runtime_platform_becomes_the_instance_attributes_placement_requires() {
    let arm = parse_ok(&with_containers(
        json!([web()]),
        json!({ "runtimePlatform": { "cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX" } }),
    ));
    assert_eq!(
        arm.spec.platform_attributes,
        vec![
            ("ecs.cpu-architecture".to_string(), "arm64".to_string()),
            ("ecs.os-type".to_string(), "linux".to_string())
        ]
    );
    let echoed = arm.document.runtime_platform.as_ref().and_then(|platform| platform.cpu_architecture);
    assert_eq!(echoed, Some(wire::CPUArchitecture::Arm64), "echoed as registered");
    let windows = parse_ok(&with_containers(
        json!([web()]),
        json!({ "runtimePlatform": { "operatingSystemFamily": "WINDOWS_SERVER_2022_CORE" } }),
    ));
    assert_eq!(windows.spec.platform_attributes, vec![("ecs.os-type".to_string(), "windows".to_string())]);
    assert!(parse_ok(&with_containers(json!([web()]), json!({}))).spec.platform_attributes.is_empty());
}
