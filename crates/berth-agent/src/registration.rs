//! Builds the `RegisterContainerInstance` request the agent sends through the ECS API, from
//! what the runtime says about the host and what the operator configured. Pure: no I/O.

use crate::config::AgentConfig;
use crate::runtime::HostInfo;
use berth_ecs_wire::{Attribute, RegisterContainerInstanceRequest, Resource, VersionInfo};

/// Host ports the ECS agent always registers as taken (SSH, Docker, the ECS agent's own).
pub const DEFAULT_RESERVED_PORTS: [u16; 5] = [22, 2375, 2376, 51678, 51679];

/// The region reported in the identity document.
const REGION: &str = "us-east-1";

/// The oldest Docker API version for which a capability attribute is registered.
const OLDEST_API_MINOR: u32 = 17;

pub fn build_request(
    config: &AgentConfig,
    identity: &str,
    host: &HostInfo,
    saved_instance_arn: Option<&str>,
) -> RegisterContainerInstanceRequest {
    let memory_mib = host.memory_bytes / (1024 * 1024) - config.reserved_memory_mib;
    let mut ports: Vec<u16> = DEFAULT_RESERVED_PORTS.to_vec();
    for port in &config.extra_reserved_ports {
        if !ports.contains(port) {
            ports.push(*port);
        }
    }
    let total_resources = vec![
        integer_resource("CPU", host.cpu_count * 1024),
        integer_resource("MEMORY", memory_mib.max(0)),
        string_set_resource("PORTS", ports.iter().map(u16::to_string).collect()),
        string_set_resource("PORTS_UDP", Vec::new()),
    ];
    RegisterContainerInstanceRequest {
        cluster: Some(config.cluster.clone()),
        instance_identity_document: Some(identity_document(config, identity)),
        total_resources: Some(total_resources),
        version_info: Some(VersionInfo {
            agent_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            agent_hash: Some("berth".to_string()),
            docker_version: Some(format!("DockerVersion: {}", host.server_version)),
        }),
        container_instance_arn: saved_instance_arn.map(str::to_string),
        attributes: Some(attributes(config, host)),
        ..Default::default()
    }
}

fn identity_document(config: &AgentConfig, identity: &str) -> String {
    serde_json::json!({
        "instanceId": identity,
        "region": REGION,
        "availabilityZone": config.availability_zone.clone().unwrap_or_default(),
        "instanceType": config.instance_type.clone().unwrap_or_default(),
        "capacityProvider": config.capacity_provider.clone().unwrap_or_default(),
    })
    .to_string()
}

fn attributes(config: &AgentConfig, host: &HostInfo) -> Vec<Attribute> {
    let mut attributes = vec![
        attribute("ecs.os-type", Some("linux")),
        attribute("ecs.cpu-architecture", Some(ecs_architecture(&host.architecture))),
    ];
    if let Some(zone) = &config.availability_zone {
        attributes.push(attribute("ecs.availability-zone", Some(zone)));
    }
    if let Some(instance_type) = &config.instance_type {
        attributes.push(attribute("ecs.instance-type", Some(instance_type)));
    }
    for (name, value) in &config.attributes {
        attributes.push(attribute(name, Some(value)));
    }
    let newest_minor = api_minor_version(&host.api_version).unwrap_or(OLDEST_API_MINOR);
    attributes.extend(capability_attributes(newest_minor));
    attributes
}

/// What this agent really does, as ECS's capability attributes, for a Docker Engine whose
/// newest API version is `1.{newest_api_minor}`. Placement refuses a task whose definition
/// requires a capability its instance lacks, so nothing Berth cannot run is advertised: no
/// task IAM roles, no logging drivers but json-file, none and awslogs (which Berth ships to
/// its own CloudWatch Logs store, `crate::log_shipper`), no task ENIs, no ECR authentication.
pub fn capability_attributes(newest_api_minor: u32) -> Vec<Attribute> {
    let docker_api_versions = (OLDEST_API_MINOR..=newest_api_minor.max(OLDEST_API_MINOR))
        .map(|minor| format!("com.amazonaws.ecs.capability.docker-remote-api.1.{minor}"));
    let features = [
        // Docker health checks, turned into container and task health.
        "ecs.capability.container-health-check",
        // dependsOn conditions START, COMPLETE, SUCCESS and HEALTHY.
        "ecs.capability.container-ordering",
        // The two logging drivers Docker runs without outside configuration.
        "com.amazonaws.ecs.capability.logging-driver.json-file",
        "com.amazonaws.ecs.capability.logging-driver.none",
        // Docker keeps the output in json-file and the agent ships it to the server.
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        // Docker volumes with the built-in local driver (dockerVolumeConfiguration).
        "ecs.capability.docker-plugin.local",
    ]
    .map(str::to_string);
    docker_api_versions.chain(features).map(|name| attribute(&name, None)).collect()
}

/// ECS names architectures `x86_64` and `arm64`; Docker reports the kernel's names.
pub fn ecs_architecture(docker_architecture: &str) -> &str {
    match docker_architecture {
        "aarch64" | "arm64" => "arm64",
        "x86_64" | "amd64" => "x86_64",
        other => other,
    }
}

fn api_minor_version(api_version: &str) -> Option<u32> {
    let (major, minor) = api_version.split_once('.')?;
    (major == "1").then_some(())?;
    minor.parse().ok()
}

/// One registration attribute (`value` is absent for capability attributes).
pub fn attribute(name: &str, value: Option<&str>) -> Attribute {
    Attribute { name: Some(name.to_string()), value: value.map(str::to_string), ..Default::default() }
}

/// An INTEGER resource (CPU, MEMORY), clamped to the wire's 32 bits.
pub fn integer_resource(name: &str, value: i64) -> Resource {
    Resource {
        name: Some(name.to_string()),
        r#type: Some("INTEGER".to_string()),
        integer_value: Some(value.clamp(0, i64::from(i32::MAX)) as i32),
        ..Default::default()
    }
}

/// A STRINGSET resource (PORTS, PORTS_UDP).
pub fn string_set_resource(name: &str, values: Vec<String>) -> Resource {
    Resource {
        name: Some(name.to_string()),
        r#type: Some("STRINGSET".to_string()),
        string_set_value: Some(values),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostInfo {
        HostInfo {
            cpu_count: 2,
            memory_bytes: 4096 * 1024 * 1024,
            server_version: "20.10.24".into(),
            api_version: "1.41".into(),
            architecture: "aarch64".into(),
        }
    }

    #[test]
    fn resources_version_and_attributes() {
        let mut config = AgentConfig::new("http://127.0.0.1:1", "prod", "/tmp/x");
        config.extra_reserved_ports = vec![23784, 22];
        config.availability_zone = Some("us-east-1a".into());
        config.attributes = vec![("stack".into(), "blue".into())];
        let request = build_request(&config, "i-0123456789abcdef0", &host(), Some("arn:saved"));

        let resources = request.total_resources.unwrap();
        assert_eq!(resources[0].integer_value, Some(2048));
        assert_eq!(resources[1].integer_value, Some(4096 - 256));
        assert_eq!(
            resources[2].string_set_value.as_deref().unwrap(),
            ["22", "2375", "2376", "51678", "51679", "23784"].map(String::from)
        );
        assert_eq!(resources[3].string_set_value, Some(vec![]));
        assert_eq!(request.container_instance_arn.as_deref(), Some("arn:saved"));
        assert_eq!(request.version_info.unwrap().docker_version.as_deref(), Some("DockerVersion: 20.10.24"));

        let document: serde_json::Value = serde_json::from_str(&request.instance_identity_document.unwrap()).unwrap();
        assert_eq!(document["instanceId"], "i-0123456789abcdef0");
        assert_eq!(document["availabilityZone"], "us-east-1a");

        let attributes = request.attributes.unwrap();
        let value_of =
            |name: &str| attributes.iter().find(|a| a.name.as_deref() == Some(name)).map(|a| a.value.clone());
        assert_eq!(value_of("ecs.cpu-architecture"), Some(Some("arm64".into())));
        assert_eq!(value_of("ecs.os-type"), Some(Some("linux".into())));
        assert_eq!(value_of("stack"), Some(Some("blue".into())));
        assert_eq!(value_of("ecs.instance-type"), None);
        assert_eq!(value_of("com.amazonaws.ecs.capability.docker-remote-api.1.17"), Some(None));
        assert_eq!(value_of("com.amazonaws.ecs.capability.docker-remote-api.1.41"), Some(None));
        assert_eq!(value_of("com.amazonaws.ecs.capability.docker-remote-api.1.42"), None);
        assert_eq!(value_of("ecs.capability.container-health-check"), Some(None));
        assert_eq!(value_of("com.amazonaws.ecs.capability.task-iam-role"), None, "no task roles today");
        assert_eq!(value_of("com.amazonaws.ecs.capability.logging-driver.awslogs"), Some(None));
        assert_eq!(value_of("com.amazonaws.ecs.capability.logging-driver.syslog"), None);
    }
}
