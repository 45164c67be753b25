//! Maps Docker's container inspect response to the agent's [`ContainerInfo`].

use berth_agent::runtime::{ContainerInfo, ContainerRunState, RuntimeHealth};
use berth_types::records::NetworkBinding;
use berth_types::PortProtocol;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum, PortMap};

pub fn container_info(response: ContainerInspectResponse) -> ContainerInfo {
    let state = response.state.unwrap_or_default();
    let run_state = match state.status {
        Some(ContainerStateStatusEnum::CREATED) | None | Some(ContainerStateStatusEnum::EMPTY) => {
            ContainerRunState::Created
        }
        Some(
            ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::PAUSED | ContainerStateStatusEnum::RESTARTING,
        ) => ContainerRunState::Running,
        Some(_) => ContainerRunState::Exited,
    };
    let health = match state.health.and_then(|health| health.status) {
        Some(HealthStatusEnum::HEALTHY) => RuntimeHealth::Healthy,
        Some(HealthStatusEnum::UNHEALTHY) => RuntimeHealth::Unhealthy,
        Some(HealthStatusEnum::STARTING) => RuntimeHealth::Starting,
        _ => RuntimeHealth::None,
    };
    let name = response.name.unwrap_or_default().trim_start_matches('/').to_string();
    let labels = response.config.and_then(|config| config.labels).unwrap_or_default().into_iter().collect();
    let network_bindings =
        response.network_settings.and_then(|settings| settings.ports).map(bindings).unwrap_or_default();
    ContainerInfo {
        id: response.id.unwrap_or_default(),
        name,
        labels,
        state: run_state,
        exit_code: (run_state == ContainerRunState::Exited).then(|| state.exit_code.unwrap_or(0) as i32),
        oom_killed: state.oom_killed.unwrap_or(false),
        error: state.error.filter(|error| !error.is_empty()),
        health,
        network_bindings,
        image_digest: None,
    }
}

/// One binding per (container port, protocol): Docker lists IPv4 and IPv6 bindings of the
/// same host port separately, ECS reports the IPv4 one.
fn bindings(ports: PortMap) -> Vec<NetworkBinding> {
    let mut result: Vec<NetworkBinding> = Vec::new();
    for (key, host_bindings) in ports {
        let Some((port, protocol)) = key.split_once('/') else {
            continue;
        };
        let Ok(container_port) = port.parse::<u16>() else {
            continue;
        };
        let protocol = if protocol == "udp" { PortProtocol::Udp } else { PortProtocol::Tcp };
        for binding in host_bindings.unwrap_or_default() {
            let Some(host_port) = binding.host_port.and_then(|port| port.parse::<u16>().ok()) else {
                continue;
            };
            let exists = result
                .iter()
                .any(|existing| existing.container_port == container_port && existing.protocol == protocol);
            if !exists {
                result.push(NetworkBinding { bind_ip: "0.0.0.0".to_string(), container_port, host_port, protocol });
            }
        }
    }
    result.sort_by_key(|binding| (binding.container_port, binding.protocol));
    result
}
