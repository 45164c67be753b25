//! Berth's load-balancing proxy: the data plane that serves every listener of every load
//! balancer (ELBv2 Application Load Balancers) from one `ProxyDocument`.
//!
//! - `proxy`: `Proxy::start`, `Proxy::apply` (live reconfiguration: listeners stay bound when
//!   only rules or targets change), listener statuses, the health-report receiver.
//! - `routing`, `matching`, `redirect`: rules compiled once per document, matched per request.
//! - `balance`, `targets`: choosing a target group and a target (weights, round robin, least
//!   outstanding requests, slow start, stickiness, fail-open) over live per-target state.
//! - `forward`, `body`, `listener`, `tls`: the HTTP/1.1 + HTTP/2 data path, ALB's headers and
//!   errors, upgrades, idle timeouts, SNI; `upstream`: per-worker keep-alive pools to plain-HTTP
//!   targets.
//! - `health`, `health_state`: active health checks and reports.
//! - `access_log`, `cache`, `poll`: ALB access logs, the on-disk document, the control-plane
//!   client.
//!
//! Not here: the CLI (`berth proxy`) and the control plane's document server, which live in
//! `berth` and `berth-control`/`berth-api`.

mod access_log;
mod balance;
mod body;
mod cache;
mod forward;
mod health;
mod health_state;
mod listener;
mod matching;
mod poll;
mod proxy;
mod redirect;
mod routing;
mod target_conn;
mod targets;
mod tls;
mod upstream;
mod workers;

pub use cache::{CacheError, DocumentCache};
pub use poll::{fetch_document, poll_loop, PollError};
pub use proxy::{ApplyOutcome, ListenerStatus, Proxy, ProxyOptions};
