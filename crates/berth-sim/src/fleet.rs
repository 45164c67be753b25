//! A fleet of hollow instances in one process: registers them all (a bounded number at a
//! time), then serves each on its own tokio task with one shared HTTP client.
//!
//! Invariant: [`Fleet::start`] returns only once every instance is registered, so a caller
//! may place tasks right away; dropping the [`Fleet`] stops every instance (their records stay
//! on the server, as a crashed agent's would).

use crate::config::FleetConfig;
use crate::instance::HollowInstance;
use crate::stats::{FleetSnapshot, FleetStats};
use crate::SimError;
use berth_agent::client::{ClientError, ServerClient};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Registration attempts per instance before the fleet gives up starting.
const REGISTRATION_ATTEMPTS: u32 = 5;

pub struct Fleet {
    instances: Vec<JoinHandle<()>>,
    stats: Arc<FleetStats>,
}

impl Fleet {
    pub async fn start(config: FleetConfig) -> Result<Fleet, SimError> {
        crate::limits::ensure_descriptors_for(config.instances)?;
        let client = ServerClient::new(&config.server, &config.cluster).map_err(SimError::Client)?;
        let config = Arc::new(config);
        let stats = Arc::new(FleetStats::default());
        let next = Arc::new(AtomicUsize::new(0));
        let mut registrars = Vec::new();
        for _ in 0..config.registration_concurrency.clamp(1, config.instances.max(1)) {
            let (client, config, stats, next) =
                (client.clone(), Arc::clone(&config), Arc::clone(&stats), Arc::clone(&next));
            registrars.push(tokio::spawn(async move {
                let mut served = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= config.instances {
                        return Ok(served);
                    }
                    let instance = HollowInstance {
                        index,
                        client: client.clone(),
                        config: Arc::clone(&config),
                        stats: Arc::clone(&stats),
                    };
                    let instance_id = register_with_retries(&instance).await?;
                    FleetStats::add(&stats.registered, 1);
                    served.push(tokio::spawn(instance.serve(instance_id)));
                }
            }));
        }
        let mut instances = Vec::with_capacity(config.instances);
        let mut first_error = None;
        for registrar in registrars {
            match registrar.await {
                Ok(Ok(mut served)) => instances.append(&mut served),
                Ok(Err(error)) => first_error = first_error.or(Some(error)),
                Err(join_error) => first_error = first_error.or(Some(SimError::Client(join_error.to_string()))),
            }
        }
        let fleet = Fleet { instances, stats };
        // Dropping the fleet here stops the instances that did register.
        match first_error {
            Some(error) => Err(error),
            None => Ok(fleet),
        }
    }

    pub fn snapshot(&self) -> FleetSnapshot {
        self.stats.snapshot()
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for instance in &self.instances {
            instance.abort();
        }
    }
}

async fn register_with_retries(instance: &HollowInstance) -> Result<String, SimError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match instance.register().await {
            Ok(instance_id) => return Ok(instance_id),
            // Only an unreachable or failing server is worth retrying; a refusal (no such
            // cluster, a bad request) will not change.
            Err(ClientError::Transient(_)) if attempt < REGISTRATION_ATTEMPTS => {
                tokio::time::sleep(instance.backoff(attempt)).await
            }
            Err(source) => {
                return Err(SimError::Registration { identity: instance.config.identity(instance.index), source })
            }
        }
    }
}
