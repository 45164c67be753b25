//! Task volumes and the container mount points that use them.
//!
//! A volume becomes a host bind mount (`host.sourcePath`), a Docker named volume
//! (`dockerVolumeConfiguration`) or, with neither, a scratch volume that lives as long as the
//! task. Volume types Berth cannot provide (EFS, FSx, S3 Files, configured at launch) are
//! refused: a task that ran without its data would be worse than one that never registered.

use super::container::container_field;
use crate::error::ValidationError;
use crate::names::is_ecs_name;
use berth_ecs_wire as wire;
use berth_types::spec::{MountPointSpec, VolumeSource, VolumeSpec};
use std::collections::BTreeSet;

pub(super) fn parse_volumes(volumes: Option<&[wire::Volume]>) -> Result<Vec<VolumeSpec>, ValidationError> {
    let mut names = BTreeSet::new();
    let mut parsed = Vec::new();
    for (index, volume) in volumes.unwrap_or_default().iter().enumerate() {
        let field = |member: &str| format!("volumes[{index}].{member}");
        let name = volume.name.as_deref().unwrap_or_default();
        if !is_ecs_name(name) {
            return Err(ValidationError::client(
                field("name"),
                format!("Invalid volume name {name:?}. Use 1 to 255 letters, numbers, hyphens and underscores."),
            ));
        }
        if !names.insert(name) {
            return Err(ValidationError::client(
                field("name"),
                format!("Duplicate volume name '{name}'; volume names must be unique within a task definition."),
            ));
        }
        let unsupported = [
            ("efsVolumeConfiguration", volume.efs_volume_configuration.is_some()),
            ("fsxWindowsFileServerVolumeConfiguration", volume.fsx_windows_file_server_volume_configuration.is_some()),
            ("s3filesVolumeConfiguration", volume.s3files_volume_configuration.is_some()),
            ("configuredAtLaunch", volume.configured_at_launch == Some(true)),
        ];
        if let Some((member, _)) = unsupported.into_iter().find(|(_, present)| *present) {
            return Err(ValidationError::client(
                field(member),
                format!("'{member}' volumes are not supported by Berth yet."),
            ));
        }
        let source = match (&volume.host, &volume.docker_volume_configuration) {
            (Some(_), Some(_)) => {
                return Err(ValidationError::client(
                    format!("volumes[{index}]"),
                    format!("Volume '{name}' can specify either 'host' or 'dockerVolumeConfiguration', not both."),
                ))
            }
            (Some(host), None) => match host.source_path.as_deref() {
                None => VolumeSource::TaskScratch,
                Some(path) if path.starts_with('/') => VolumeSource::HostPath(path.to_string()),
                Some(path) => {
                    return Err(ValidationError::client(
                        field("host.sourcePath"),
                        format!("host.sourcePath of volume '{name}' must be an absolute path, got {path:?}."),
                    ))
                }
            },
            (None, Some(docker)) => parse_docker_volume(&field("dockerVolumeConfiguration"), name, docker)?,
            (None, None) => VolumeSource::TaskScratch,
        };
        parsed.push(VolumeSpec { name: name.to_string(), source });
    }
    Ok(parsed)
}

fn parse_docker_volume(
    field: &str,
    name: &str,
    docker: &wire::DockerVolumeConfiguration,
) -> Result<VolumeSource, ValidationError> {
    let shared = docker.scope == Some(wire::Scope::Shared);
    let autoprovision = docker.autoprovision.unwrap_or(false);
    if autoprovision && !shared {
        return Err(ValidationError::client(
            format!("{field}.autoprovision"),
            format!("Volume '{name}': autoprovision can only be set when the scope is 'shared'."),
        ));
    }
    if docker.driver.as_deref() == Some("") {
        return Err(ValidationError::client(
            format!("{field}.driver"),
            format!("Volume '{name}': driver should not be empty."),
        ));
    }
    Ok(VolumeSource::DockerVolume {
        shared,
        autoprovision,
        driver: docker.driver.clone(),
        driver_options: docker.driver_opts.clone().unwrap_or_default(),
        labels: docker.labels.clone().unwrap_or_default(),
    })
}

pub(super) fn parse_mount_points(
    index: usize,
    mount_points: Option<&[wire::MountPoint]>,
    volume_names: &BTreeSet<String>,
) -> Result<Vec<MountPointSpec>, ValidationError> {
    mount_points
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(position, mount_point)| {
            let field = |member: &str| container_field(index, &format!("mountPoints[{position}].{member}"));
            let source_volume = mount_point.source_volume.as_deref().unwrap_or_default();
            if !volume_names.contains(source_volume) {
                return Err(ValidationError::client(
                    field("sourceVolume"),
                    format!("Unknown volume '{source_volume}'."),
                ));
            }
            let container_path = mount_point.container_path.as_deref().unwrap_or_default();
            if !container_path.starts_with('/') {
                return Err(ValidationError::client(
                    field("containerPath"),
                    format!("Mount point containerPath must be an absolute path, got {container_path:?}."),
                ));
            }
            Ok(MountPointSpec {
                source_volume: source_volume.to_string(),
                container_path: container_path.to_string(),
                read_only: mount_point.read_only.unwrap_or(false),
            })
        })
        .collect()
}
