//! Per-container rules: names, images, memory, ports, health checks, dependencies, volumes,
//! ulimits and the rest. Each failure must name its field.

use super::tests::{parse_ok, rejected, with_containers};
use crate::error::ValidationErrorKind::{Client, InvalidParameter};
use serde_json::{json, Value};

/// One container: `busybox` with 64 MiB plus `members`.
fn container(name: &str, members: Value) -> Value {
    let mut container = json!({ "name": name, "image": "busybox", "memory": 64 });
    for (key, value) in members.as_object().expect("members are an object") {
        container[key] = value.clone();
    }
    container
}

fn rejects_one(members: Value, field: &str) -> String {
    rejected(&with_containers(json!([container("web", members)]), json!({})), Client, field)
}

#[test]
fn container_name_and_image_are_required_and_well_formed() {
    let missing_name = with_containers(json!([{ "image": "busybox", "memory": 64 }]), json!({}));
    assert!(rejected(&missing_name, Client, "containerDefinitions[0].name")
        .contains("Container.name should not be null or empty."));
    let bad_name = with_containers(json!([container("web.1", json!({}))]), json!({}));
    assert!(rejected(&bad_name, Client, "containerDefinitions[0].name")
        .contains("Container.name contains invalid characters"));
    assert!(rejects_one(json!({ "image": "" }), "containerDefinitions[0].image")
        .contains("Container.image should not be null or empty."));
    assert!(
        rejects_one(json!({ "image": null }), "containerDefinitions[0].image").contains("should not be null or empty")
    );
    rejects_one(json!({ "image": "x".repeat(256) }), "containerDefinitions[0].image");
    rejects_one(json!({ "image": "bad image" }), "containerDefinitions[0].image");
    parse_ok(&with_containers(
        json!([container("web", json!({ "image": "registry.example.com:5000/team/app@sha256:abc" }))]),
        json!({}),
    ));
}

#[test]
fn memory_rules_follow_ecs() {
    let neither = with_containers(json!([{ "name": "web", "image": "busybox" }]), json!({}));
    let message = rejected(&neither, Client, "containerDefinitions[0].memory");
    assert!(message.contains(
        "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified."
    ));
    parse_ok(&with_containers(json!([{ "name": "web", "image": "busybox" }]), json!({ "memory": "512" })));
    parse_ok(&with_containers(json!([{ "name": "web", "image": "busybox", "memoryReservation": 64 }]), json!({})));
    assert!(rejects_one(json!({ "memory": 0 }), "containerDefinitions[0].memory")
        .contains("Invalid 'memory' setting for container 'web'."));
    assert!(rejects_one(json!({ "memory": 5 }), "containerDefinitions[0].memory").contains("must be at least 6 MiB"));
    parse_ok(&with_containers(json!([container("web", json!({ "memory": 6 }))]), json!({})));
    let message =
        rejects_one(json!({ "memory": 64, "memoryReservation": 128 }), "containerDefinitions[0].memoryReservation");
    assert!(message.contains("must be less than or equal to its 'memory' setting"));
    parse_ok(&with_containers(json!([container("web", json!({ "memoryReservation": 64 }))]), json!({})));
    assert!(rejects_one(json!({ "cpu": -1 }), "containerDefinitions[0].cpu")
        .contains("Invalid 'cpu' setting for container 'web'."));
}

#[test]
fn port_mappings_in_bridge_mode() {
    let parsed = parse_ok(&with_containers(
        json!([container(
            "web",
            json!({ "portMappings": [{ "containerPort": 80, "hostPort": 0 }, { "containerPort": 443 }] })
        )]),
        json!({}),
    ));
    assert!(parsed.spec.containers[0].port_mappings.iter().all(|mapping| mapping.host_port.is_none()));
    let message = rejects_one(
        json!({ "portMappings": [{ "hostPort": 80 }] }),
        "containerDefinitions[0].portMappings[0].containerPort",
    );
    assert!(message.contains("Invalid 'containerPort' setting for container 'web'."));
    rejects_one(
        json!({ "portMappings": [{ "containerPort": 70000 }] }),
        "containerDefinitions[0].portMappings[0].containerPort",
    );
    rejects_one(
        json!({ "portMappings": [{ "containerPort": 80, "hostPort": -1 }] }),
        "containerDefinitions[0].portMappings[0].hostPort",
    );
    rejects_one(
        json!({ "portMappings": [{ "containerPortRange": "8000-8010" }] }),
        "containerDefinitions[0].portMappings[0].containerPortRange",
    );
    // The same port over TCP and UDP is two different mappings.
    parse_ok(&with_containers(
        json!([container(
            "dns",
            json!({ "portMappings": [{ "containerPort": 53, "protocol": "tcp" }, { "containerPort": 53, "protocol": "udp" }] })
        )]),
        json!({}),
    ));
    let twice = with_containers(
        json!([container(
            "web",
            json!({ "portMappings": [{ "containerPort": 80 }, { "containerPort": 80, "hostPort": 8080 }] })
        )]),
        json!({}),
    );
    let message = rejected(&twice, InvalidParameter, "containerDefinitions[0].portMappings[1].containerPort");
    assert!(message.contains("Container port 80 is used in more than one port mapping for container web."));
}

#[test]
fn static_host_ports_are_unique_within_the_task() {
    let clash = with_containers(
        json!([
            container("a", json!({ "portMappings": [{ "containerPort": 80, "hostPort": 8080 }] })),
            container("b", json!({ "portMappings": [{ "containerPort": 81, "hostPort": 8080 }] })),
        ]),
        json!({}),
    );
    let message = rejected(&clash, Client, "containerDefinitions[1].portMappings[0].hostPort");
    assert!(message.contains("TCP host port '8080' is mapped multiple times in task"), "{message}");
    assert!(message.contains("'a'") && message.contains("'b'"), "{message}");
    // Dynamic ports never clash, and UDP is separate from TCP.
    parse_ok(&with_containers(
        json!([
            container(
                "a",
                json!({ "portMappings": [{ "containerPort": 80 }, { "containerPort": 53, "hostPort": 53, "protocol": "udp" }] })
            ),
            container(
                "b",
                json!({ "portMappings": [{ "containerPort": 80 }, { "containerPort": 53, "hostPort": 53 }] })
            ),
        ]),
        json!({}),
    ));
}

#[test]
fn host_and_none_network_modes_constrain_ports() {
    let host = parse_ok(&with_containers(
        json!([container(
            "web",
            json!({ "portMappings": [{ "containerPort": 80 }, { "containerPort": 443, "hostPort": 443 }] })
        )]),
        json!({ "networkMode": "host" }),
    ));
    let host_ports: Vec<_> = host.spec.containers[0].port_mappings.iter().map(|mapping| mapping.host_port).collect();
    assert_eq!(host_ports, [Some(80), Some(443)]);
    let mismatch = with_containers(
        json!([container("web", json!({ "portMappings": [{ "containerPort": 80, "hostPort": 8080 }] }))]),
        json!({ "networkMode": "host" }),
    );
    assert!(rejected(&mismatch, Client, "containerDefinitions[0].portMappings[0].hostPort").contains("must match"));
    let clash = with_containers(
        json!([
            container("a", json!({ "portMappings": [{ "containerPort": 80 }] })),
            container("b", json!({ "portMappings": [{ "containerPort": 80 }] })),
        ]),
        json!({ "networkMode": "host" }),
    );
    rejected(&clash, Client, "containerDefinitions[1].portMappings[0].hostPort");
    let none = with_containers(
        json!([container("web", json!({ "portMappings": [{ "containerPort": 80 }] }))]),
        json!({ "networkMode": "none" }),
    );
    rejected(&none, Client, "containerDefinitions[0].portMappings");
}

#[test]
fn depends_on_must_reference_real_containers_without_cycles() {
    let missing = with_containers(
        json!([container("web", json!({ "dependsOn": [{ "containerName": "db", "condition": "START" }] }))]),
        json!({}),
    );
    let message = rejected(&missing, Client, "containerDefinitions[0].dependsOn[0].containerName");
    assert!(message.contains("Cannot depend on container 'db' because it does not exist."));
    let itself = with_containers(
        json!([container("web", json!({ "dependsOn": [{ "containerName": "web", "condition": "START" }] }))]),
        json!({}),
    );
    rejected(&itself, Client, "containerDefinitions[0].dependsOn[0].containerName");
    let cycle = with_containers(
        json!([
            container("a", json!({ "dependsOn": [{ "containerName": "b", "condition": "START" }] })),
            container("b", json!({ "dependsOn": [{ "containerName": "a", "condition": "START" }] })),
        ]),
        json!({}),
    );
    assert!(rejected(&cycle, Client, "containerDefinitions").contains("a -> b -> a"));
    let unhealthy = with_containers(
        json!([
            container("web", json!({ "dependsOn": [{ "containerName": "db", "condition": "HEALTHY" }] })),
            container("db", json!({}))
        ]),
        json!({}),
    );
    assert!(
        rejected(&unhealthy, Client, "containerDefinitions[0].dependsOn[0].condition").contains("has no healthCheck")
    );
    let essential_success = with_containers(
        json!([
            container("web", json!({ "dependsOn": [{ "containerName": "init", "condition": "SUCCESS" }] })),
            container("init", json!({}))
        ]),
        json!({}),
    );
    rejected(&essential_success, Client, "containerDefinitions[0].dependsOn[0].condition");
    parse_ok(&with_containers(
        json!([
            container("web", json!({ "dependsOn": [{ "containerName": "init", "condition": "SUCCESS" }] })),
            container("init", json!({ "essential": false })),
        ]),
        json!({}),
    ));
}

#[test]
fn volumes_from_and_links_reference_other_containers() {
    parse_ok(&with_containers(
        json!([
            container("web", json!({ "volumesFrom": [{ "sourceContainer": "data" }], "links": ["data:db"] })),
            container("data", json!({}))
        ]),
        json!({}),
    ));
    let unknown = with_containers(
        json!([container("web", json!({ "volumesFrom": [{ "sourceContainer": "ghost" }] }))]),
        json!({}),
    );
    rejected(&unknown, Client, "containerDefinitions[0].volumesFrom[0].sourceContainer");
    let bad_link = with_containers(json!([container("web", json!({ "links": ["ghost"] }))]), json!({}));
    rejected(&bad_link, Client, "containerDefinitions[0].links[0]");
    let looped = with_containers(
        json!([container("a", json!({ "links": ["b"] })), container("b", json!({ "links": ["a"] }))]),
        json!({}),
    );
    assert!(rejected(&looped, Client, "containerDefinitions").contains("Container links should not have a cycle."));
    let host_links = with_containers(
        json!([container("a", json!({ "links": ["b"] })), container("b", json!({}))]),
        json!({ "networkMode": "host" }),
    );
    rejected(&host_links, Client, "containerDefinitions[0].links");
}

#[test]
fn volumes_and_mount_points() {
    let mounts = |volume: Value| {
        with_containers(
            json!([container("web", json!({ "mountPoints": [{ "sourceVolume": "data", "containerPath": "/data" }] }))]),
            json!({ "volumes": [volume] }),
        )
    };
    parse_ok(&mounts(json!({ "name": "data" })));
    let unknown = mounts(json!({ "name": "other" }));
    assert!(rejected(&unknown, Client, "containerDefinitions[0].mountPoints[0].sourceVolume")
        .contains("Unknown volume 'data'."));
    rejected(
        &mounts(json!({ "name": "data", "host": { "sourcePath": "relative/path" } })),
        Client,
        "volumes[0].host.sourcePath",
    );
    rejected(&mounts(json!({ "name": "data", "host": {}, "dockerVolumeConfiguration": {} })), Client, "volumes[0]");
    let task_autoprovision =
        mounts(json!({ "name": "data", "dockerVolumeConfiguration": { "scope": "task", "autoprovision": true } }));
    rejected(&task_autoprovision, Client, "volumes[0].dockerVolumeConfiguration.autoprovision");
    let efs = mounts(json!({ "name": "data", "efsVolumeConfiguration": { "fileSystemId": "fs-1" } }));
    rejected(&efs, Client, "volumes[0].efsVolumeConfiguration");
    let relative_container_path = with_containers(
        json!([container("web", json!({ "mountPoints": [{ "sourceVolume": "data", "containerPath": "data" }] }))]),
        json!({ "volumes": [{ "name": "data" }] }),
    );
    rejected(&relative_container_path, Client, "containerDefinitions[0].mountPoints[0].containerPath");
    let duplicate =
        with_containers(json!([container("web", json!({}))]), json!({ "volumes": [{ "name": "v" }, { "name": "v" }] }));
    rejected(&duplicate, Client, "volumes[1].name");
    let invalid =
        with_containers(json!([container("web", json!({}))]), json!({ "volumes": [{ "name": "has space" }] }));
    rejected(&invalid, Client, "volumes[0].name");
}

#[test]
fn health_check_command_and_bounds() {
    for command in [json!(["CMD", "true"]), json!(["CMD-SHELL", "exit 0"]), json!(["NONE"])] {
        parse_ok(&with_containers(
            json!([container("web", json!({ "healthCheck": { "command": command } }))]),
            json!({}),
        ));
    }
    for command in [json!([]), json!(["curl", "localhost"]), json!(["CMD"]), json!(["NONE", "x"])] {
        rejects_one(json!({ "healthCheck": { "command": command } }), "containerDefinitions[0].healthCheck.command");
    }
    let cases = [
        ("interval", 4, "minimum allowed value 5"),
        ("interval", 301, "maximum allowed value 300"),
        ("timeout", 1, "minimum allowed value 2"),
        ("timeout", 61, "maximum allowed value 60"),
        ("retries", 0, "minimum allowed value 1"),
        (
            "retries",
            11,
            "Health check retries must be less than or equal to the maximum allowed value 10 for container 'web'",
        ),
        ("startPeriod", -1, "minimum allowed value 0"),
        ("startPeriod", 301, "maximum allowed value 300"),
    ];
    for (member, value, expected) in cases {
        let mut health_check = json!({ "command": ["CMD", "true"] });
        health_check[member] = json!(value);
        let message = rejects_one(
            json!({ "healthCheck": health_check }),
            &format!("containerDefinitions[0].healthCheck.{member}"),
        );
        assert!(message.contains(expected), "{member}={value}: {message}");
    }
}

#[test]
fn ulimits_stop_timeout_environment_and_logging() {
    rejects_one(
        json!({ "ulimits": [{ "name": "nofile", "softLimit": 2048, "hardLimit": 1024 }] }),
        "containerDefinitions[0].ulimits[0]",
    );
    rejects_one(
        json!({ "ulimits": [{ "name": "nproc", "softLimit": 1, "hardLimit": 1 }, { "name": "nproc", "softLimit": 1, "hardLimit": 2 }] }),
        "containerDefinitions[0].ulimits[1]",
    );
    assert!(rejects_one(json!({ "stopTimeout": -1 }), "containerDefinitions[0].stopTimeout")
        .contains("Invalid 'stopTimeout'"));
    let parsed = parse_ok(&with_containers(json!([container("web", json!({ "stopTimeout": 0 }))]), json!({})));
    assert_eq!(parsed.spec.containers[0].stop_timeout_seconds, Some(0));
    rejects_one(
        json!({ "environment": [{ "name": "", "value": "x" }] }),
        "containerDefinitions[0].environment[0].name",
    );
    rejects_one(json!({ "environment": [{ "value": "x" }] }), "containerDefinitions[0].environment[0].name");
    rejects_one(json!({ "logConfiguration": { "options": {} } }), "containerDefinitions[0].logConfiguration.logDriver");
    let parsed = parse_ok(&with_containers(
        json!([container("web", json!({ "logConfiguration": { "logDriver": "syslog" } }))]),
        json!({}),
    ));
    assert_eq!(parsed.spec.containers[0].log_configuration.as_ref().unwrap().driver, "syslog");
}

#[test]
fn members_berth_cannot_honour_are_refused() {
    rejects_one(
        json!({ "secrets": [{ "name": "TOKEN", "valueFrom": "arn:aws:ssm:::parameter/token" }] }),
        "containerDefinitions[0].secrets",
    );
    rejects_one(
        json!({ "environmentFiles": [{ "value": "arn:aws:s3:::bucket/env", "type": "s3" }] }),
        "containerDefinitions[0].environmentFiles",
    );
    rejects_one(
        json!({ "resourceRequirements": [{ "value": "1", "type": "GPU" }] }),
        "containerDefinitions[0].resourceRequirements",
    );
}
