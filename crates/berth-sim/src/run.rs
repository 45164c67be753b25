//! `berth sim`: start a fleet, say how long registration took, then print the fleet's
//! counters at an interval until told to stop.

use crate::config::FleetConfig;
use crate::fleet::Fleet;
use crate::SimError;
use std::future::Future;
use std::time::{Duration, Instant};

/// Runs a fleet until `shutdown` completes, printing progress every `report_every`.
pub async fn run_until(
    config: FleetConfig,
    report_every: Duration,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SimError> {
    let (instances, cluster, server) = (config.instances, config.cluster.clone(), config.server.clone());
    let started = Instant::now();
    let fleet = Fleet::start(config).await?;
    println!(
        "berth sim: {instances} hollow instances registered in cluster {cluster} at {server} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(report_every);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = ticker.tick() => println!("berth sim: {}", fleet.snapshot()),
        }
    }
    println!("berth sim: stopping; {}", fleet.snapshot());
    Ok(())
}
