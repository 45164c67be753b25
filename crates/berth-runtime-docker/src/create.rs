//! Maps the agent's [`CreateContainerRequest`] to Docker's create body.

use berth_agent::runtime::{CreateContainerRequest, HealthCheck, MountSource};
use berth_types::spec::NetworkMode;
use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, HostConfigLogConfig, PortBinding, ResourcesUlimits,
};
use std::collections::HashMap;
use std::time::Duration;

pub fn create_body(request: &CreateContainerRequest) -> ContainerCreateBody {
    let mut exposed_ports = HashMap::new();
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    // Only a bridge network publishes ports; in host mode the container ports are host ports.
    let published = if request.network_mode == NetworkMode::Bridge { request.port_bindings.as_slice() } else { &[] };
    for binding in published {
        let key = format!("{}/{}", binding.container_port, binding.protocol.as_str());
        exposed_ports.insert(key.clone(), HashMap::new());
        // An empty host port asks Docker to allocate one; its allocator keeps two agents on
        // one host apart.
        let host_port = binding.host_port.map(|port| port.to_string()).unwrap_or_default();
        port_bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding { host_ip: None, host_port: Some(host_port) });
    }
    let binds = request
        .mounts
        .iter()
        .map(|mount| {
            let source = match &mount.source {
                MountSource::HostPath(path) => path,
                MountSource::Volume(name) => name,
            };
            let mode = if mount.read_only { ":ro" } else { "" };
            format!("{source}:{}{mode}", mount.container_path)
        })
        .collect::<Vec<_>>();
    let host_config = HostConfig {
        cpu_shares: Some(request.cpu_shares),
        memory: request.memory_limit_bytes,
        memory_reservation: request.memory_reservation_bytes,
        ulimits: (!request.ulimits.is_empty()).then(|| {
            request
                .ulimits
                .iter()
                .map(|ulimit| ResourcesUlimits {
                    name: Some(ulimit.name.clone()),
                    soft: Some(ulimit.soft_limit),
                    hard: Some(ulimit.hard_limit),
                })
                .collect()
        }),
        readonly_rootfs: Some(request.readonly_root_filesystem),
        init: request.init.then_some(true),
        log_config: Some(HostConfigLogConfig {
            typ: Some(request.log_configuration.driver.clone()),
            config: Some(request.log_configuration.options.clone().into_iter().collect()),
        }),
        binds: (!binds.is_empty()).then_some(binds),
        network_mode: Some(request.network_mode.as_str().to_string()),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(request.image.clone()),
        labels: Some(request.labels.clone().into_iter().collect()),
        env: Some(request.environment.iter().map(|(name, value)| format!("{name}={value}")).collect()),
        cmd: request.command.clone(),
        entrypoint: request.entry_point.clone(),
        user: request.user.clone(),
        working_dir: request.working_directory.clone(),
        healthcheck: request.health_check.as_ref().map(health_config),
        exposed_ports: (!exposed_ports.is_empty()).then_some(exposed_ports),
        stop_timeout: Some(request.stop_timeout.as_secs() as i64),
        host_config: Some(host_config),
        ..Default::default()
    }
}

fn health_config(check: &HealthCheck) -> HealthConfig {
    // Docker takes nanoseconds; zero means "inherit the default", which is what ECS wants for
    // an unset value.
    let nanos = |duration: Duration| Some(duration.as_nanos() as i64);
    HealthConfig {
        test: Some(check.test.clone()),
        interval: nanos(check.interval),
        timeout: nanos(check.timeout),
        retries: Some(i64::from(check.retries)),
        start_period: nanos(check.start_period),
        ..Default::default()
    }
}
