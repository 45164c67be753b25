//! The live state of targets and target groups that requests and health checks share.
//!
//! A `TargetRuntime` lives as long as its (group, target ID, port, address) stays in the
//! documents: health checks write its atomics and the very next request reads them, so a target
//! that turns healthy is routed to at once, with no table rebuild in between. Target groups are
//! rebuilt with each document but point at the same `TargetRuntime`s.

use berth_proxy_protocol::{Algorithm, TargetProtocol};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Names one target of one group, as health reports do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetKey {
    pub target_group_arn: String,
    pub target_id: String,
    pub port: u16,
}

/// Milliseconds on the proxy's monotonic clock (since its first use), cheap to store in atomics.
pub fn now_millis() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug)]
pub struct TargetRuntime {
    pub key: TargetKey,
    pub address: SocketAddr,
    /// Parsed once, so that building the upstream URI per request is two reference-count bumps.
    pub scheme: hyper::http::uri::Scheme,
    pub authority: hyper::http::uri::Authority,
    /// The `AWSALB` cookie value that names this target within its group.
    pub cookie: String,
    active: AtomicBool,
    /// Healthy for routing: passing health checks, or health checks disabled.
    routable: AtomicBool,
    /// When it last turned routable, for slow start.
    routable_since_millis: AtomicU64,
    outstanding: AtomicU32,
}

impl TargetRuntime {
    pub fn new(key: TargetKey, address: SocketAddr, protocol: TargetProtocol) -> Self {
        let scheme = match protocol {
            TargetProtocol::Http => hyper::http::uri::Scheme::HTTP,
            TargetProtocol::Https => hyper::http::uri::Scheme::HTTPS,
        };
        let authority = hyper::http::uri::Authority::try_from(address.to_string().as_str())
            .expect("a socket address is a valid authority");
        let cookie = format!("{:016x}", stable_hash(&[key.target_id.as_bytes(), &key.port.to_be_bytes()]));
        Self {
            key,
            address,
            scheme,
            authority,
            cookie,
            active: AtomicBool::new(true),
            routable: AtomicBool::new(false),
            routable_since_millis: AtomicU64::new(0),
            outstanding: AtomicU32::new(0),
        }
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
    }

    pub fn is_routable(&self) -> bool {
        self.routable.load(Ordering::Acquire)
    }

    pub fn set_routable(&self, routable: bool) {
        if routable && !self.routable.load(Ordering::Relaxed) {
            self.routable_since_millis.store(now_millis(), Ordering::Relaxed);
        }
        self.routable.store(routable, Ordering::Release);
    }

    pub fn routable_since_millis(&self) -> u64 {
        self.routable_since_millis.load(Ordering::Relaxed)
    }

    pub fn outstanding(&self) -> u32 {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// Counts a request as outstanding until the guard is dropped (when its response body ended
    /// or the request failed).
    pub fn begin_request(self: &Arc<Self>) -> OutstandingGuard {
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        OutstandingGuard { target: Arc::clone(self) }
    }
}

pub struct OutstandingGuard {
    target: Arc<TargetRuntime>,
}

impl Drop for OutstandingGuard {
    fn drop(&mut self) {
        self.target.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One target group as one document configures it.
#[derive(Debug)]
pub struct GroupRuntime {
    pub target_group_arn: String,
    pub algorithm: Algorithm,
    pub slow_start_millis: u64,
    /// `AWSALB` (lb_cookie) stickiness duration.
    pub stickiness_seconds: Option<u32>,
    /// The `AWSALBTG` cookie value that names this group.
    pub cookie: String,
    pub targets: Vec<Arc<TargetRuntime>>,
    /// Round-robin position (relaxed: an occasional repeat under contention is harmless).
    pub next: AtomicUsize,
}

impl GroupRuntime {
    pub fn new(
        target_group_arn: String,
        algorithm: Algorithm,
        slow_start_seconds: u32,
        stickiness_seconds: Option<u32>,
        targets: Vec<Arc<TargetRuntime>>,
    ) -> Self {
        let cookie = format!("{:016x}", stable_hash(&[target_group_arn.as_bytes()]));
        Self {
            target_group_arn,
            algorithm,
            slow_start_millis: u64::from(slow_start_seconds) * 1000,
            stickiness_seconds,
            cookie,
            targets,
            next: AtomicUsize::new(rand::random::<u32>() as usize),
        }
    }
}

/// FNV-1a: stable across processes and versions, so cookies stay valid over restarts.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
