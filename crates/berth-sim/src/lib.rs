//! Hollow agents, in the manner of Kubernetes' kubemark: many simulated container instances
//! in one process that register through the real ECS API (`RegisterContainerInstance`),
//! long-poll their desired documents and report task state exactly as `berth agent` does, but
//! run nothing. A hollow task is RUNNING as soon as its instance sees it and STOPPED (exit
//! code 0) as soon as its desired status says so.
//!
//! What it owns: the fleet ([`Fleet`]), one hollow instance's loop (`instance`), the pure
//! choice of reports (`respond`) and registration request (`registration`), and the counters
//! a benchmark reads ([`FleetSnapshot`]).
//!
//! Invariant: a hollow instance speaks only the public protocols (ECS JSON and
//! `berth-agent-protocol` over HTTP), through the real agent's `ServerClient`, so what it
//! measures is what a real fleet would cost the server.
//!
//! Deliberately not here: Docker, containers, image pulls, network bindings, failures of
//! tasks. Hollow instances serve scale tests and benchmarks (`berth sim`, `berth bench`); they
//! never stand in for the Docker agent in end-to-end tests.

#![forbid(unsafe_code)]

mod config;
mod fleet;
mod instance;
mod limits;
mod registration;
mod respond;
mod run;
mod stats;

pub use berth_agent::client::ClientError;
pub use config::{parse_spread_attribute, FleetConfig, SpreadAttribute};
pub use fleet::Fleet;
pub use limits::ensure_descriptors_for;
pub use registration::register_request;
pub use respond::reports_for;
pub use run::run_until;
pub use stats::{FleetSnapshot, FleetStats};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("file descriptors: {0}")]
    Descriptors(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("registering hollow instance {identity}: {source}")]
    Registration {
        identity: String,
        #[source]
        source: ClientError,
    },
}
