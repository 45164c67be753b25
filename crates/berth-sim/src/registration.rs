//! The `RegisterContainerInstance` request of hollow instance `i`: the same shape a real
//! agent sends (see `berth_agent::registration`), with made-up resources and the spread
//! attributes. Pure: no I/O.

use crate::config::FleetConfig;
use berth_agent::registration::{attribute, capability_attributes, integer_resource, string_set_resource};
use berth_ecs_wire::{Attribute, RegisterContainerInstanceRequest, VersionInfo};

/// Host ports a real agent registers as taken; hollow instances claim the same so placement
/// sees the same port picture.
const RESERVED_PORTS: [u16; 5] = [22, 2375, 2376, 51678, 51679];

/// The Docker API version hollow instances claim (Docker 20.10's), so that they advertise the
/// same capabilities as a real agent on a common Docker host.
const HOLLOW_DOCKER_API_MINOR: u32 = 41;

pub fn register_request(config: &FleetConfig, index: usize) -> RegisterContainerInstanceRequest {
    RegisterContainerInstanceRequest {
        cluster: Some(config.cluster.clone()),
        instance_identity_document: Some(identity_document(config, index)),
        total_resources: Some(vec![
            integer_resource("CPU", i64::from(config.cpu)),
            integer_resource("MEMORY", i64::from(config.memory_mib)),
            string_set_resource("PORTS", RESERVED_PORTS.iter().map(u16::to_string).collect()),
            string_set_resource("PORTS_UDP", Vec::new()),
        ]),
        version_info: Some(VersionInfo {
            agent_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            agent_hash: Some("berth-sim".to_string()),
            docker_version: Some("DockerVersion: hollow".to_string()),
        }),
        attributes: Some(attributes(config, index)),
        ..Default::default()
    }
}

fn identity_document(config: &FleetConfig, index: usize) -> String {
    let mut document = serde_json::json!({
        "instanceId": config.identity(index),
        "region": "us-east-1",
        "instanceType": "hollow",
    });
    if let Some(zone) = zone_of(config, index) {
        document["availabilityZone"] = zone.into();
    }
    if let Some(provider) = &config.capacity_provider {
        document["capacityProvider"] = provider.as_str().into();
    }
    document.to_string()
}

fn zone_of(config: &FleetConfig, index: usize) -> Option<&str> {
    config.attributes.iter().find(|attribute| attribute.name == "ecs.availability-zone")?.value_for(index)
}

/// The built-in platform attributes, unless the fleet configures its own values for them
/// (`--attribute ecs.cpu-architecture=x86_64,arm64` makes a mixed fleet), then the configured ones.
fn attributes(config: &FleetConfig, index: usize) -> Vec<Attribute> {
    let configured = |name: &str| config.attributes.iter().any(|spread| spread.name == name);
    let mut attributes: Vec<Attribute> = [("ecs.os-type", "linux"), ("ecs.cpu-architecture", "x86_64")]
        .into_iter()
        .filter(|(name, _)| !configured(name))
        .map(|(name, value)| attribute(name, Some(value)))
        .collect();
    for spread in &config.attributes {
        attributes.push(attribute(&spread.name, spread.value_for(index)));
    }
    attributes.extend(capability_attributes(HOLLOW_DOCKER_API_MINOR));
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_spread_attribute;

    fn config() -> FleetConfig {
        let mut config = FleetConfig::new("http://127.0.0.1:1", "prod", 3);
        config.attributes = vec![
            parse_spread_attribute("ecs.availability-zone=us-east-1a,us-east-1b").unwrap(),
            parse_spread_attribute("stack=blue").unwrap(),
        ];
        config.capacity_provider = Some("hollow-pool".into());
        config
    }

    fn value_of(request: &RegisterContainerInstanceRequest, name: &str) -> Option<Option<String>> {
        let attributes = request.attributes.as_ref().unwrap();
        attributes.iter().find(|attribute| attribute.name.as_deref() == Some(name)).map(|a| a.value.clone())
    }

    #[test]
    fn each_instance_gets_its_identity_zone_and_provider() {
        let config = config();
        let second = register_request(&config, 1);
        let document: serde_json::Value =
            serde_json::from_str(second.instance_identity_document.as_deref().unwrap()).unwrap();
        assert_eq!(document["instanceId"], config.identity(1));
        assert_eq!(document["availabilityZone"], "us-east-1b");
        assert_eq!(document["capacityProvider"], "hollow-pool");
        assert_eq!(value_of(&second, "ecs.availability-zone"), Some(Some("us-east-1b".into())));
        assert_eq!(value_of(&second, "stack"), Some(Some("blue".into())));
        assert_eq!(
            value_of(&second, "ecs.capability.container-health-check"),
            Some(None),
            "a real agent's capabilities"
        );
        assert_eq!(value_of(&second, "com.amazonaws.ecs.capability.docker-remote-api.1.41"), Some(None));
        assert_eq!(value_of(&register_request(&config, 2), "ecs.availability-zone"), Some(Some("us-east-1a".into())));
        let resources = second.total_resources.unwrap();
        assert_eq!(resources[0].integer_value, Some(4096));
        assert_eq!(resources[1].integer_value, Some(16384));
    }

    #[test]
    fn no_capacity_provider_unless_given() {
        let config = FleetConfig::new("http://127.0.0.1:1", "prod", 1);
        let request = register_request(&config, 0);
        let document: serde_json::Value =
            serde_json::from_str(request.instance_identity_document.as_deref().unwrap()).unwrap();
        assert!(document.get("capacityProvider").is_none());
        assert!(document.get("availabilityZone").is_none());
    }

    #[test]
    fn a_configured_platform_attribute_replaces_the_built_in_one() {
        let mut config = FleetConfig::new("http://127.0.0.1:1", "prod", 2);
        config.attributes = vec![parse_spread_attribute("ecs.cpu-architecture=x86_64,arm64").unwrap()];
        let second = register_request(&config, 1);
        let architectures: Vec<_> = second
            .attributes
            .as_ref()
            .unwrap()
            .iter()
            .filter(|attribute| attribute.name.as_deref() == Some("ecs.cpu-architecture"))
            .collect();
        assert_eq!(architectures.len(), 1, "{architectures:?}");
        assert_eq!(architectures[0].value.as_deref(), Some("arm64"));
        assert_eq!(value_of(&second, "ecs.os-type"), Some(Some("linux".into())));
    }
}
