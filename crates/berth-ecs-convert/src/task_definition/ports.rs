//! Port mappings: each mapping's ports and protocol, what the network mode demands of them,
//! and that no static host port is claimed twice within a task.
//!
//! Invariant of the result: in host mode every mapping has `host_port == Some(container_port)`;
//! in bridge mode `host_port` is `None` for a dynamic port and `Some(port)` for a static one.

use super::container::container_field;
use crate::error::ValidationError;
use berth_ecs_wire as wire;
use berth_types::spec::{ContainerSpec, NetworkMode, PortMappingSpec};
use berth_types::PortProtocol;
use std::collections::BTreeMap;

pub(super) fn parse_port_mappings(
    index: usize,
    container_name: &str,
    mappings: Option<&[wire::PortMapping]>,
    network_mode: NetworkMode,
) -> Result<Vec<PortMappingSpec>, ValidationError> {
    let mappings = mappings.unwrap_or_default();
    if network_mode == NetworkMode::None && !mappings.is_empty() {
        return Err(ValidationError::client(
            container_field(index, "portMappings"),
            format!("Container '{container_name}' has port mappings, but tasks with networkMode=none cannot have any."),
        ));
    }
    let mut parsed: Vec<PortMappingSpec> = Vec::with_capacity(mappings.len());
    for (position, mapping) in mappings.iter().enumerate() {
        let field = |member: &str| container_field(index, &format!("portMappings[{position}].{member}"));
        if mapping.container_port_range.is_some() {
            return Err(ValidationError::client(
                field("containerPortRange"),
                "'containerPortRange' is not supported by Berth yet.",
            ));
        }
        let container_port = mapping
            .container_port
            .and_then(|port| u16::try_from(port).ok())
            .filter(|port| *port != 0)
            .ok_or_else(|| {
                ValidationError::client(
                    field("containerPort"),
                    format!("Invalid 'containerPort' setting for container '{container_name}'. It must be 1 to 65535."),
                )
            })?;
        let host_port = match mapping.host_port {
            None => None,
            Some(port) => Some(u16::try_from(port).map_err(|_| {
                ValidationError::client(
                    field("hostPort"),
                    format!("Invalid 'hostPort' setting for container '{container_name}'. It must be 0 to 65535."),
                )
            })?),
        };
        let host_port = match network_mode {
            NetworkMode::Host => match host_port {
                None => Some(container_port),
                Some(port) if port == container_port => Some(port),
                Some(_) => {
                    return Err(ValidationError::client(
                        field("hostPort"),
                        "When networkMode=host, the host ports and container ports in port mappings must match.",
                    ))
                }
            },
            // Port 0 on the wire asks Docker for a dynamic port, the same as leaving it out.
            NetworkMode::Bridge | NetworkMode::None => host_port.filter(|port| *port != 0),
        };
        let protocol = match mapping.protocol.unwrap_or(wire::TransportProtocol::Tcp) {
            wire::TransportProtocol::Tcp => PortProtocol::Tcp,
            wire::TransportProtocol::Udp => PortProtocol::Udp,
        };
        if parsed.iter().any(|earlier| earlier.container_port == container_port && earlier.protocol == protocol) {
            return Err(ValidationError::invalid_parameter(
                field("containerPort"),
                format!(
                    "Container port {container_port} is used in more than one port mapping for container {container_name}."
                ),
            ));
        }
        parsed.push(PortMappingSpec { container_port, host_port, protocol });
    }
    Ok(parsed)
}

/// A static host port (per protocol) can be bound by one mapping only: the task would never
/// start otherwise.
pub(super) fn check_host_ports_unique_in_task(containers: &[ContainerSpec]) -> Result<(), ValidationError> {
    let mut claimed: BTreeMap<(u16, PortProtocol), &str> = BTreeMap::new();
    for (index, container) in containers.iter().enumerate() {
        for (position, mapping) in container.port_mappings.iter().enumerate() {
            let Some(host_port) = mapping.host_port else {
                continue;
            };
            if let Some(first_claimant) = claimed.insert((host_port, mapping.protocol), &container.name) {
                let claimants = if first_claimant == container.name {
                    format!("container '{first_claimant}' maps it twice")
                } else {
                    format!("containers '{first_claimant}' and '{}' both map it", container.name)
                };
                return Err(ValidationError::client(
                    container_field(index, &format!("portMappings[{position}].hostPort")),
                    format!(
                        "{} host port '{host_port}' is mapped multiple times in task ({claimants}).",
                        mapping.protocol.as_str().to_uppercase()
                    ),
                ));
            }
        }
    }
    Ok(())
}
