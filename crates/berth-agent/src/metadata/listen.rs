//! Starting the metadata endpoint: where it listens and on which port.
//!
//! Invariant: it listens only on the Docker bridge gateway (reachable from bridge and host
//! network containers, never from outside the host), or on loopback when the runtime has no
//! bridge. The port is the one used last time when it is still free, so containers adopted
//! after an agent restart still reach the endpoint named in their environment.

use super::server::{router, Endpoint};
use super::MetadataRegistry;
use crate::client::ServerClient;
use crate::identity::DataDir;
use crate::runtime::ContainerRuntime;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::task::AbortHandle;

/// The running endpoint; dropping it does not stop the server, `stop` does.
pub struct RunningEndpoint {
    pub registry: Arc<MetadataRegistry>,
    server: Option<AbortHandle>,
}

impl RunningEndpoint {
    pub fn stop(&self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

async fn bind(address: IpAddr, preferred: Option<u16>) -> std::io::Result<tokio::net::TcpListener> {
    if let Some(port) = preferred {
        if let Ok(listener) = tokio::net::TcpListener::bind(SocketAddr::new(address, port)).await {
            return Ok(listener);
        }
        tracing::warn!(
            port,
            "the metadata endpoint's previous port is taken; containers adopted from before keep the old URI"
        );
    }
    tokio::net::TcpListener::bind(SocketAddr::new(address, 0)).await
}

/// Starts the endpoint. Failing to listen is not fatal: containers then run without the
/// metadata variables, as they would on a host where the endpoint is disabled.
pub async fn start(
    runtime: Arc<dyn ContainerRuntime>,
    client: ServerClient,
    data: &DataDir,
    cluster: String,
    availability_zone: Option<String>,
) -> RunningEndpoint {
    let address = match runtime.bridge_gateway().await {
        Ok(Some(gateway)) => gateway,
        Ok(None) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Err(error) => {
            tracing::warn!(%error, "cannot find the Docker bridge gateway; the metadata endpoint listens on loopback");
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    };
    let preferred = data.load_metadata_port().ok().flatten();
    let listener = match bind(address, preferred).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%address, %error, "cannot start the task metadata endpoint; containers get no metadata URI");
            return RunningEndpoint {
                registry: Arc::new(MetadataRegistry::new(None, cluster, availability_zone)),
                server: None,
            };
        }
    };
    let local = listener.local_addr().unwrap_or(SocketAddr::new(address, 0));
    if let Err(error) = data.save_metadata_port(local.port()) {
        tracing::warn!(%error, "cannot remember the metadata endpoint's port");
    }
    let base_uri = format!("http://{local}");
    tracing::info!(%base_uri, "task metadata endpoint listening");
    let registry = Arc::new(MetadataRegistry::new(Some(base_uri), cluster, availability_zone));
    let endpoint = Arc::new(Endpoint { registry: Arc::clone(&registry), runtime, client });
    let server = tokio::spawn(serve(listener, router(endpoint)));
    RunningEndpoint { registry, server: Some(server.abort_handle()) }
}

/// Serves HTTP/1 connections. A client that closes its sending side once the request is out
/// (busybox's nc does) still gets its answer: half-closed connections are kept.
async fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "the task metadata endpoint cannot accept a connection");
                // Out of descriptors, say: let some close before trying again.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .half_close(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a task metadata connection failed");
            }
        });
    }
}
