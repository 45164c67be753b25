//! Berth's [`ContainerRuntime`] over the Docker Engine API (bollard, local Unix socket).
//!
//! Owns only the mapping between the agent's runtime-neutral requests and Docker's API:
//! `create` maps a `CreateContainerRequest` to a create body, `inspect` maps an inspect
//! response back, `events` filters Docker's event stream, `logs` follows a container's output
//! with Docker's timestamps. ECS semantics (CPU share minimums,
//! names, labels, failure reasons) are decided in `berth-agent`, never here.
//!
//! The client negotiates the API version down to the daemon's (Docker 20.10 speaks 1.41).

#![forbid(unsafe_code)]

mod create;
mod error;
mod events;
mod exec;
mod inspect;
mod json_file;
mod logs;

use async_trait::async_trait;
use berth_agent::runtime::{
    ContainerInfo, ContainerRuntime, CreateContainerRequest, CreateVolumeRequest, HostInfo, RuntimeError,
    RuntimeEventStream,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use error::{map_error, map_error_as};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// Long enough for the longest stop timeout ECS allows (120 s) plus Docker's own work.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);

/// The Docker Engine behind [`ContainerRuntime`].
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

impl DockerRuntime {
    /// Connects to the local daemon (`DOCKER_HOST` or `/var/run/docker.sock`) and negotiates
    /// the API version. Fails if the daemon cannot be reached.
    pub async fn connect() -> Result<Self, RuntimeError> {
        let docker = Docker::connect_with_local_defaults().map_err(|error| map_error("connect", error))?;
        Self::from_client(docker).await
    }

    /// Wraps an already configured bollard client (another socket, a remote daemon).
    pub async fn from_client(docker: Docker) -> Result<Self, RuntimeError> {
        let docker = docker
            .with_timeout(CLIENT_TIMEOUT)
            .negotiate_version()
            .await
            .map_err(|error| map_error("connect", error))?;
        Ok(DockerRuntime { docker })
    }

    /// The underlying client, for tests and tools.
    pub fn client(&self) -> &Docker {
        &self.docker
    }
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn host_info(&self) -> Result<HostInfo, RuntimeError> {
        let info = self.docker.info().await.map_err(|error| map_error("info", error))?;
        let version = self.docker.version().await.map_err(|error| map_error("version", error))?;
        Ok(HostInfo {
            cpu_count: info.ncpu.unwrap_or(1),
            memory_bytes: info.mem_total.unwrap_or(0),
            server_version: version.version.or(info.server_version).unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            architecture: info.architecture.unwrap_or_default(),
        })
    }

    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(error) => match map_error("inspect image", error) {
                RuntimeError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError> {
        let (repository, tag) = split_reference(image);
        let options = CreateImageOptionsBuilder::new().from_image(repository).tag(tag).build();
        self.docker
            .create_image(Some(options), None, None)
            .try_for_each(|_progress| async { Ok(()) })
            .await
            .map_err(|error| map_error("pull", error))
    }

    async fn create_volume(&self, request: &CreateVolumeRequest) -> Result<(), RuntimeError> {
        let options = bollard::models::VolumeCreateOptions {
            name: Some(request.name.clone()),
            driver: request.driver.clone(),
            driver_opts: Some(request.driver_options.clone().into_iter().collect()),
            labels: Some(request.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.docker.create_volume(options).await.map(|_| ()).map_err(|error| map_error("create volume", error))
    }

    async fn remove_volume(&self, name: &str) -> Result<(), RuntimeError> {
        let options = RemoveVolumeOptionsBuilder::new().force(false).build();
        match self.docker.remove_volume(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) => match map_error("remove volume", error) {
                RuntimeError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn create_container(&self, request: &CreateContainerRequest) -> Result<String, RuntimeError> {
        let options = CreateContainerOptionsBuilder::new().name(&request.name).build();
        let body = create::create_body(request);
        match self.docker.create_container(Some(options), body).await {
            Ok(response) => Ok(response.id),
            Err(error) => match map_error("create", error) {
                RuntimeError::Failed { message, .. } if message.contains("is already in use") => {
                    Err(RuntimeError::NameConflict { name: request.name.clone() })
                }
                other => Err(other),
            },
        }
    }

    async fn start_container(&self, id: &str) -> Result<(), RuntimeError> {
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|error| map_error("start", error))
    }

    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let seconds = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::new().t(seconds).build();
        // Docker answers 304 Not Modified for a container that is not running: success here.
        self.docker.stop_container(id, Some(options)).await.map_err(|error| map_error("stop", error))
    }

    async fn inspect_container(&self, id_or_name: &str) -> Result<ContainerInfo, RuntimeError> {
        let response = self
            .docker
            .inspect_container(id_or_name, None::<bollard::query_parameters::InspectContainerOptions>)
            .await
            .map_err(|error| map_error_as("inspect", "container", error))?;
        Ok(inspect::container_info(response))
    }

    async fn list_containers(&self, label: &str, value: &str) -> Result<Vec<String>, RuntimeError> {
        let filters = HashMap::from([("label", vec![format!("{label}={value}")])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let containers = self.docker.list_containers(Some(options)).await.map_err(|error| map_error("list", error))?;
        Ok(containers.into_iter().filter_map(|container| container.id).collect())
    }

    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptionsBuilder::new().v(true).force(false).build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) => match map_error_as("remove", "container", error) {
                RuntimeError::NotFound { .. } => Ok(()),
                // A removal already under way (Docker answers 409 "is already in progress").
                RuntimeError::Failed { message, .. } if message.contains("already in progress") => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn events(&self, label: &str, value: &str) -> Result<RuntimeEventStream, RuntimeError> {
        events::subscribe(&self.docker, label, value).await
    }

    async fn container_logs(
        &self,
        id: &str,
        since_ns: Option<i64>,
    ) -> Result<berth_agent::runtime::LogLineStream, RuntimeError> {
        logs::follow(&self.docker, id, since_ns).await
    }

    async fn start_exec(
        &self,
        request: &berth_agent::runtime::ExecRequest,
    ) -> Result<berth_agent::runtime::ExecStreams, RuntimeError> {
        exec::start(&self.docker, request).await
    }

    async fn resize_exec(&self, exec_id: &str, rows: u16, columns: u16) -> Result<(), RuntimeError> {
        exec::resize(&self.docker, exec_id, rows, columns).await
    }

    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, RuntimeError> {
        exec::exit_code(&self.docker, exec_id).await
    }
    async fn container_stats(&self, id: &str) -> Result<serde_json::Value, RuntimeError> {
        let options = bollard::query_parameters::StatsOptionsBuilder::new().stream(false).one_shot(true).build();
        let sample = self
            .docker
            .stats(id, Some(options))
            .try_next()
            .await
            .map_err(|error| map_error_as("stats", "container", error))?;
        Ok(sample.map_or(serde_json::Value::Null, |sample| serde_json::to_value(sample).unwrap_or_default()))
    }

    async fn bridge_gateway(&self) -> Result<Option<std::net::IpAddr>, RuntimeError> {
        let network =
            match self.docker.inspect_network("bridge", None::<bollard::query_parameters::InspectNetworkOptions>).await
            {
                Ok(network) => network,
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
                Err(error) => return Err(map_error("inspect network", error)),
            };
        let configs = network.ipam.and_then(|ipam| ipam.config).unwrap_or_default();
        Ok(configs.iter().find_map(gateway_of))
    }
}

/// The gateway of one IPAM pool; Docker leaves it out of the default bridge's pool at times,
/// and then the bridge holds the subnet's first address.
fn gateway_of(config: &bollard::models::IpamConfig) -> Option<std::net::IpAddr> {
    if let Some(gateway) = config.gateway.as_deref().and_then(|text| text.parse::<std::net::Ipv4Addr>().ok()) {
        return Some(std::net::IpAddr::V4(gateway));
    }
    let (network, _) = config.subnet.as_deref()?.split_once('/')?;
    let network: std::net::Ipv4Addr = network.parse().ok()?;
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(u32::from(network) + 1)))
}

/// Splits an image reference into what Docker's pull takes: the repository and a tag (or a
/// digest). A reference without either means `latest`, as `docker pull` does.
fn split_reference(image: &str) -> (&str, &str) {
    if let Some((repository, digest)) = image.split_once('@') {
        return (repository, digest);
    }
    let last_component_start = image.rfind('/').map_or(0, |index| index + 1);
    match image[last_component_start..].rfind(':') {
        Some(colon) => {
            let colon = last_component_start + colon;
            (&image[..colon], &image[colon + 1..])
        }
        None => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::split_reference;

    #[test]
    fn references_split_like_docker_pull() {
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert_eq!(split_reference("berth-test/busybox:1.36"), ("berth-test/busybox", "1.36"));
        assert_eq!(split_reference("registry:5000/team/app"), ("registry:5000/team/app", "latest"));
        assert_eq!(split_reference("registry:5000/app:v2"), ("registry:5000/app", "v2"));
        assert_eq!(split_reference("app@sha256:abc"), ("app", "sha256:abc"));
    }
}
