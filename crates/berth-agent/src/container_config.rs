//! Translates a task's specification into what the runtime creates: deterministic container
//! and volume names, the labels that let a restarted agent adopt its containers, and ECS's
//! rules for CPU shares, memory limits, logging and health checks. Pure: no I/O.

use crate::runtime::{
    CreateContainerRequest, CreateVolumeRequest, HealthCheck, MountRequest, MountSource, PortBindingRequest,
};
use berth_agent_protocol::labels;
use berth_types::spec::{ContainerSpec, LogConfigurationSpec, TaskSpec, VolumeSource};
use std::collections::BTreeMap;
use std::time::Duration;

/// ECS gives a container without a CPU reservation 2 shares (Docker's minimum).
const MINIMUM_CPU_SHARES: i64 = 2;
const MIB: i64 = 1024 * 1024;
/// ECS's default `stopTimeout`.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Who owns the containers of a task: written into every container's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub cluster: String,
    /// The agent identity (`i-…`): an agent adopts and touches only containers with its own.
    pub instance: String,
}

/// The task ID: the last component of the task ARN.
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The container's Docker name. Deterministic, so that a create repeated after a crash
/// finds the first one instead of running the container twice.
pub fn container_name(task_arn: &str, container: &str) -> String {
    format!("berth-{}-{}", task_id(task_arn), container)
}

pub fn stop_timeout(container: &ContainerSpec) -> Duration {
    container
        .stop_timeout_seconds
        .map(|seconds| Duration::from_secs(u64::from(seconds)))
        .unwrap_or(DEFAULT_STOP_TIMEOUT)
}

/// A Docker volume a task uses, and whether it goes away with the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskVolume {
    pub spec_name: String,
    pub docker_name: String,
    /// Present when the volume must be created before the containers (driver, options, labels).
    pub create: Option<CreateVolumeRequest>,
    pub task_scoped: bool,
}

/// The Docker volumes of a task (host-path volumes are bind mounts and need none).
pub fn task_volumes(task_arn: &str, spec: &TaskSpec) -> Vec<TaskVolume> {
    let mut volumes = Vec::new();
    for volume in &spec.volumes {
        let per_task_name = format!("berth-{}-{}", task_id(task_arn), volume.name);
        match &volume.source {
            VolumeSource::HostPath(_) => {}
            VolumeSource::TaskScratch => volumes.push(TaskVolume {
                spec_name: volume.name.clone(),
                docker_name: per_task_name,
                create: None,
                task_scoped: true,
            }),
            VolumeSource::DockerVolume { shared, autoprovision, driver, driver_options, labels } => {
                let docker_name = if *shared { volume.name.clone() } else { per_task_name };
                let create = (!*shared || *autoprovision).then(|| CreateVolumeRequest {
                    name: docker_name.clone(),
                    driver: driver.clone(),
                    driver_options: driver_options.clone(),
                    labels: labels.clone(),
                });
                volumes.push(TaskVolume { spec_name: volume.name.clone(), docker_name, create, task_scoped: !*shared });
            }
        }
    }
    volumes
}

/// What to create for `container` of the task. Fails only on a spec that names a volume the
/// task does not define.
pub fn create_request(
    owner: &Ownership,
    task_arn: &str,
    spec: &TaskSpec,
    container: &ContainerSpec,
) -> Result<CreateContainerRequest, String> {
    let mut container_labels = container.docker_labels.clone();
    // Berth's own labels win over the user's: adoption depends on them.
    container_labels.extend(berth_labels(owner, task_arn, spec, &container.name));

    let memory_limit_mib = container.memory.or_else(|| {
        // A lone container with no limit of its own gets the task's memory as its limit.
        (spec.containers.len() == 1).then_some(spec.memory).flatten()
    });

    let volumes = task_volumes(task_arn, spec);
    let mut mounts = Vec::new();
    for mount_point in &container.mount_points {
        let volume = spec.volumes.iter().find(|volume| volume.name == mount_point.source_volume).ok_or_else(|| {
            format!("container {} mounts unknown volume {:?}", container.name, mount_point.source_volume)
        })?;
        let source = match &volume.source {
            VolumeSource::HostPath(path) => MountSource::HostPath(path.clone()),
            _ => {
                let docker_name = volumes
                    .iter()
                    .find(|candidate| candidate.spec_name == volume.name)
                    .map(|candidate| candidate.docker_name.clone())
                    .unwrap_or_else(|| volume.name.clone());
                MountSource::Volume(docker_name)
            }
        };
        mounts.push(MountRequest {
            source,
            container_path: mount_point.container_path.clone(),
            read_only: mount_point.read_only,
        });
    }

    Ok(CreateContainerRequest {
        name: container_name(task_arn, &container.name),
        image: container.image.clone(),
        labels: container_labels,
        cpu_shares: i64::from(container.cpu).max(MINIMUM_CPU_SHARES),
        memory_limit_bytes: memory_limit_mib.map(|mib| i64::from(mib) * MIB),
        memory_reservation_bytes: container.memory_reservation.map(|mib| i64::from(mib) * MIB),
        environment: container.environment.clone(),
        entry_point: container.entry_point.clone(),
        command: container.command.clone(),
        user: container.user.clone(),
        working_directory: container.working_directory.clone(),
        ulimits: container.ulimits.clone(),
        readonly_root_filesystem: container.readonly_root_filesystem,
        init: container.init_process_enabled,
        log_configuration: docker_log_configuration(container.log_configuration.as_ref()),
        health_check: container.health_check.as_ref().map(|check| HealthCheck {
            test: check.command.clone(),
            interval: Duration::from_secs(u64::from(check.interval_seconds)),
            timeout: Duration::from_secs(u64::from(check.timeout_seconds)),
            retries: check.retries,
            start_period: Duration::from_secs(u64::from(check.start_period_seconds)),
        }),
        mounts,
        network_mode: spec.network_mode,
        port_bindings: container
            .port_mappings
            .iter()
            .map(|mapping| PortBindingRequest {
                container_port: mapping.container_port,
                host_port: mapping.host_port.filter(|port| *port != 0),
                protocol: mapping.protocol,
            })
            .collect(),
        stop_timeout: stop_timeout(container),
    })
}

/// The log driver Docker runs for a container. `awslogs` is Berth's own (`crate::log_shipper`
/// reads the container's output back from Docker and ships it to the server), so Docker keeps
/// the output in `json-file` — without the definition's `awslogs-*` options, which json-file
/// refuses. Its rotation is set here rather than left to the daemon's defaults (often
/// 3 × 10 MB): the files are the shipper's buffer, and a container printing faster than lines
/// are shipped, or an agent away for a while, must not see unshipped lines rotated away.
fn docker_log_configuration(configuration: Option<&LogConfigurationSpec>) -> LogConfigurationSpec {
    match configuration {
        Some(configuration) if configuration.driver != crate::log_shipper::AWSLOGS_DRIVER => configuration.clone(),
        Some(_) => LogConfigurationSpec { driver: "json-file".to_string(), options: awslogs_buffer() },
        None => LogConfigurationSpec { driver: "json-file".to_string(), options: BTreeMap::new() },
    }
}

/// How much output Docker keeps for an awslogs container's shipper: 8 files of 128 MiB.
fn awslogs_buffer() -> BTreeMap<String, String> {
    BTreeMap::from([("max-size".to_string(), "128m".to_string()), ("max-file".to_string(), "8".to_string())])
}

fn berth_labels(owner: &Ownership, task_arn: &str, spec: &TaskSpec, container: &str) -> BTreeMap<String, String> {
    [
        (labels::CLUSTER, owner.cluster.clone()),
        (labels::TASK_ARN, task_arn.to_string()),
        (labels::CONTAINER_NAME, container.to_string()),
        (labels::TASK_FAMILY, spec.family.clone()),
        (labels::TASK_REVISION, spec.revision.to_string()),
        (labels::CONTAINER_INSTANCE, owner.instance.clone()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{container, task_spec};
    use berth_types::spec::{MountPointSpec, NetworkMode, PortMappingSpec, VolumeSpec};
    use berth_types::PortProtocol;

    const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/prod/0123456789abcdef0123456789abcdef";

    fn owner() -> Ownership {
        Ownership { cluster: "prod".into(), instance: "i-00000000000000001".into() }
    }

    #[test]
    fn names_labels_cpu_and_memory() {
        let mut web = container("web");
        web.docker_labels.insert(labels::CONTAINER_INSTANCE.into(), "spoofed".into());
        web.docker_labels.insert("team".into(), "a".into());
        web.memory_reservation = Some(64);
        let mut spec = task_spec(vec![web]);
        spec.memory = Some(512);
        let request = create_request(&owner(), ARN, &spec, &spec.containers[0]).unwrap();
        assert_eq!(request.name, "berth-0123456789abcdef0123456789abcdef-web");
        assert_eq!(request.labels[labels::CONTAINER_INSTANCE], "i-00000000000000001");
        assert_eq!(request.labels[labels::TASK_ARN], ARN);
        assert_eq!(request.labels["team"], "a");
        assert_eq!(request.labels[labels::TASK_REVISION], "1");
        assert_eq!(request.cpu_shares, 2);
        assert_eq!(request.memory_limit_bytes, Some(512 * MIB));
        assert_eq!(request.memory_reservation_bytes, Some(64 * MIB));
        assert_eq!(request.log_configuration.driver, "json-file");
        assert_eq!(request.stop_timeout, DEFAULT_STOP_TIMEOUT);
    }

    #[test]
    fn awslogs_containers_log_to_json_file_without_their_options() {
        let mut web = container("web");
        web.log_configuration = Some(LogConfigurationSpec {
            driver: "awslogs".into(),
            options: BTreeMap::from([
                ("awslogs-group".to_string(), "/ecs/web".to_string()),
                ("awslogs-stream-prefix".to_string(), "web".to_string()),
                ("mode".to_string(), "non-blocking".to_string()),
            ]),
        });
        let mut syslog = container("syslog");
        syslog.log_configuration = Some(LogConfigurationSpec {
            driver: "syslog".into(),
            options: BTreeMap::from([("tag".to_string(), "x".to_string())]),
        });
        let spec = task_spec(vec![web, syslog]);
        let web = create_request(&owner(), ARN, &spec, &spec.containers[0]).unwrap();
        assert_eq!(
            web.log_configuration,
            LogConfigurationSpec { driver: "json-file".into(), options: awslogs_buffer() }
        );
        let other = create_request(&owner(), ARN, &spec, &spec.containers[1]).unwrap();
        assert_eq!(other.log_configuration, spec.containers[1].log_configuration.clone().unwrap());
    }

    #[test]
    fn task_memory_is_not_a_limit_when_there_are_several_containers() {
        let mut spec = task_spec(vec![container("a"), container("b")]);
        spec.memory = Some(512);
        spec.containers[1].cpu = 300;
        let second = create_request(&owner(), ARN, &spec, &spec.containers[1]).unwrap();
        assert_eq!(second.memory_limit_bytes, None);
        assert_eq!(second.cpu_shares, 300);
    }

    #[test]
    fn volumes_and_ports() {
        let mut app = container("app");
        app.mount_points = ["scratch", "data", "shared", "host"]
            .map(|name| MountPointSpec {
                source_volume: name.into(),
                container_path: format!("/{name}"),
                read_only: name == "host",
            })
            .to_vec();
        app.port_mappings = vec![
            PortMappingSpec { container_port: 80, host_port: None, protocol: PortProtocol::Tcp },
            PortMappingSpec { container_port: 53, host_port: Some(5353), protocol: PortProtocol::Udp },
        ];
        let docker_volume = |shared, autoprovision| VolumeSource::DockerVolume {
            shared,
            autoprovision,
            driver: None,
            driver_options: BTreeMap::new(),
            labels: BTreeMap::new(),
        };
        let mut spec = task_spec(vec![app]);
        spec.network_mode = NetworkMode::Bridge;
        spec.volumes = vec![
            VolumeSpec { name: "scratch".into(), source: VolumeSource::TaskScratch },
            VolumeSpec { name: "data".into(), source: docker_volume(false, false) },
            VolumeSpec { name: "shared".into(), source: docker_volume(true, true) },
            VolumeSpec { name: "host".into(), source: VolumeSource::HostPath("/srv".into()) },
        ];
        let request = create_request(&owner(), ARN, &spec, &spec.containers[0]).unwrap();
        let sources: Vec<_> = request.mounts.iter().map(|mount| mount.source.clone()).collect();
        let per_task = |name: &str| format!("berth-0123456789abcdef0123456789abcdef-{name}");
        assert_eq!(
            sources,
            vec![
                MountSource::Volume(per_task("scratch")),
                MountSource::Volume(per_task("data")),
                MountSource::Volume("shared".into()),
                MountSource::HostPath("/srv".into()),
            ]
        );
        assert!(request.mounts[3].read_only);
        assert_eq!(request.port_bindings[0].host_port, None);
        assert_eq!(request.port_bindings[1].host_port, Some(5353));

        let volumes = task_volumes(ARN, &spec);
        let scoped: Vec<_> = volumes.iter().filter(|volume| volume.task_scoped).map(|v| v.spec_name.as_str()).collect();
        assert_eq!(scoped, ["scratch", "data"]);
        assert!(volumes.iter().find(|volume| volume.spec_name == "shared").unwrap().create.is_some());

        spec.containers[0].mount_points[0].source_volume = "missing".into();
        assert!(create_request(&owner(), ARN, &spec, &spec.containers[0]).is_err());
    }
}
