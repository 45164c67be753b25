//! What a task runs: the task definition's containers and volumes in validated, typed form,
//! with any RunTask overrides already applied. The control plane derives it once; the agent
//! and the scheduler read it and never see the wire document.

use crate::resources::{PortProtocol, Resources};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkMode {
    Bridge,
    Host,
    None,
}

impl NetworkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub family: String,
    pub revision: u32,
    pub network_mode: NetworkMode,
    /// Task-level CPU units, if the definition (or an override) set them.
    pub cpu: Option<u32>,
    /// Task-level memory in MiB, if set.
    pub memory: Option<u32>,
    pub containers: Vec<ContainerSpec>,
    pub volumes: Vec<VolumeSpec>,
    /// The definition's `memberOf` expressions (cluster query language), checked at
    /// registration and applied by placement to every task of the definition.
    #[serde(default)]
    pub placement_constraints: Vec<String>,
    /// Instance attributes the task must land on, from the definition's `runtimePlatform`
    /// (`ecs.cpu-architecture`, `ecs.os-type`), as name and required value.
    #[serde(default)]
    pub platform_attributes: Vec<(String, String)>,
    /// The agent capability attributes (`com.amazonaws.ecs.capability.*`, `ecs.capability.*`)
    /// of the definition's `requiresAttributes`: an instance must have each, whatever its value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// CPU units; 0 means "no reservation" (ECS gives such a container 2 shares in Docker).
    pub cpu: u32,
    /// Hard memory limit in MiB.
    pub memory: Option<u32>,
    /// Soft memory limit in MiB.
    pub memory_reservation: Option<u32>,
    pub port_mappings: Vec<PortMappingSpec>,
    pub essential: bool,
    pub entry_point: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub environment: Vec<(String, String)>,
    pub working_directory: Option<String>,
    pub user: Option<String>,
    pub docker_labels: BTreeMap<String, String>,
    pub stop_timeout_seconds: Option<u32>,
    pub health_check: Option<HealthCheckSpec>,
    pub depends_on: Vec<DependencySpec>,
    pub mount_points: Vec<MountPointSpec>,
    pub ulimits: Vec<UlimitSpec>,
    pub readonly_root_filesystem: bool,
    pub init_process_enabled: bool,
    pub log_configuration: Option<LogConfigurationSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMappingSpec {
    pub container_port: u16,
    /// `None` (or 0 on the wire) asks for a dynamic port from the ephemeral range.
    pub host_port: Option<u16>,
    pub protocol: PortProtocol,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckSpec {
    /// As ECS takes it: `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    pub command: Vec<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub retries: u32,
    pub start_period_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DependencyCondition {
    Start,
    Complete,
    Success,
    Healthy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencySpec {
    pub container_name: String,
    pub condition: DependencyCondition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPointSpec {
    pub source_volume: String,
    pub container_path: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UlimitSpec {
    pub name: String,
    pub soft_limit: i64,
    pub hard_limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfigurationSpec {
    pub driver: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub name: String,
    pub source: VolumeSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VolumeSource {
    /// A bind mount of a host path.
    HostPath(String),
    /// A Docker-managed scratch volume that lives as long as the task (`host` with no path).
    TaskScratch,
    /// A Docker named volume.
    DockerVolume {
        /// `task` volumes are removed with the task; `shared` ones outlive it.
        shared: bool,
        autoprovision: bool,
        driver: Option<String>,
        driver_options: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
    },
}

impl ContainerSpec {
    /// An essential container with only a name and an image, every other setting at its ECS
    /// default (no limits, no ports, 0 CPU units); builders and fixtures start from it.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        ContainerSpec {
            name: name.into(),
            image: image.into(),
            cpu: 0,
            memory: None,
            memory_reservation: None,
            port_mappings: vec![],
            essential: true,
            entry_point: None,
            command: None,
            environment: vec![],
            working_directory: None,
            user: None,
            docker_labels: BTreeMap::new(),
            stop_timeout_seconds: None,
            health_check: None,
            depends_on: vec![],
            mount_points: vec![],
            ulimits: vec![],
            readonly_root_filesystem: false,
            init_process_enabled: false,
            log_configuration: None,
        }
    }
}

impl TaskSpec {
    /// A bridge-mode task of `containers` with no task-level limits, volumes or constraints.
    pub fn new(family: impl Into<String>, revision: u32, containers: Vec<ContainerSpec>) -> Self {
        TaskSpec {
            family: family.into(),
            revision,
            network_mode: NetworkMode::Bridge,
            cpu: None,
            memory: None,
            containers,
            volumes: vec![],
            placement_constraints: vec![],
            platform_attributes: vec![],
            capability_attributes: vec![],
        }
    }

    /// What the task holds on its instance: task-level CPU and memory when set, otherwise the
    /// sum over containers (memory counts the hard limit, else the reservation), plus its
    /// static host ports.
    /// `(container name, image)` of each container, in definition order: what a revision records.
    pub fn container_images(&self) -> Vec<(String, String)> {
        self.containers.iter().map(|container| (container.name.clone(), container.image.clone())).collect()
    }

    pub fn resource_demand(&self) -> Resources {
        let mut demand = Resources::default();
        let container_cpu: i64 = self.containers.iter().map(|container| i64::from(container.cpu)).sum();
        let container_memory: i64 = self
            .containers
            .iter()
            .map(|container| i64::from(container.memory.or(container.memory_reservation).unwrap_or(0)))
            .sum();
        demand.cpu = self.cpu.map(i64::from).unwrap_or(container_cpu);
        demand.memory = self.memory.map(i64::from).unwrap_or(container_memory);
        for container in &self.containers {
            for mapping in &container.port_mappings {
                let port = match self.network_mode {
                    NetworkMode::Host => Some(mapping.container_port),
                    NetworkMode::Bridge => mapping.host_port,
                    NetworkMode::None => None,
                };
                if let Some(port) = port {
                    match mapping.protocol {
                        PortProtocol::Tcp => demand.ports_tcp.insert(port),
                        PortProtocol::Udp => demand.ports_udp.insert(port),
                    };
                }
            }
        }
        demand
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn container(name: &str) -> ContainerSpec {
        ContainerSpec::new(name, "busybox")
    }

    #[test]
    fn demand_sums_containers_and_counts_static_ports_only() {
        let mut web = container("web");
        web.cpu = 256;
        web.memory = Some(128);
        web.port_mappings = vec![
            PortMappingSpec { container_port: 80, host_port: Some(8080), protocol: PortProtocol::Tcp },
            PortMappingSpec { container_port: 81, host_port: None, protocol: PortProtocol::Tcp },
        ];
        let mut sidecar = container("sidecar");
        sidecar.memory_reservation = Some(64);
        let spec = TaskSpec::new("web", 1, vec![web, sidecar]);
        let demand = spec.resource_demand();
        assert_eq!((demand.cpu, demand.memory), (256, 192));
        assert_eq!(demand.ports_tcp, [8080].into());
    }

    #[test]
    fn task_level_amounts_win() {
        let spec = TaskSpec {
            network_mode: NetworkMode::Host,
            cpu: Some(1024),
            memory: Some(512),
            containers: vec![ContainerSpec {
                port_mappings: vec![PortMappingSpec {
                    container_port: 80,
                    host_port: None,
                    protocol: PortProtocol::Udp,
                }],
                ..container("a")
            }],
            ..TaskSpec::new("web", 1, vec![])
        };
        let demand = spec.resource_demand();
        assert_eq!((demand.cpu, demand.memory), (1024, 512));
        assert_eq!(demand.ports_udp, [80].into());
    }
}
