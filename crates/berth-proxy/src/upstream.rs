//! Keep-alive connections to plain-HTTP targets, one pool per worker thread and target address.
//!
//! Every worker is a single-threaded runtime and a request stays on its worker from accept to
//! target and back, so the pool is a thread-local: no locks, no cross-thread wakeups. Idle
//! connections are reused newest first (the likeliest to be still open), a connection goes back
//! into the pool once its response body has been read to the end, and closed or stale ones are
//! dropped on the way. TLS targets and protocol upgrades keep using hyper-util's client.
//!
//! A connection has no task of its own: the request using it polls it (while waiting for the
//! response head, and then from the response body), as nginx drives both sides of a request
//! from one event loop. That saves a task per connection and the wakeups between the client's
//! task and the connection's for every request; an idle connection is polled when it is taken
//! from the pool (which notices a close by the target) and by the sweeper.

use crate::target_conn::TargetConnection;
use crate::targets::now_millis;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::task::Context;
use std::time::Duration;

const MAX_IDLE_PER_TARGET: usize = 512;
/// Idle connections older than this are closed (hyper-util's pool used the same).
const IDLE_TIMEOUT_MILLIS: u64 = 60_000;
const SWEEP_EVERY: Duration = Duration::from_secs(15);

pub type UpstreamError = Box<dyn std::error::Error + Send + Sync>;

struct Idle {
    connection: TargetConnection,
    since_millis: u64,
}

thread_local! {
    static POOL: RefCell<HashMap<SocketAddr, Vec<Idle>>> = RefCell::new(HashMap::new());
    static SWEEPER_STARTED: Cell<bool> = const { Cell::new(false) };
}

/// The newest idle connection to `address` that can take a request now.
fn checkout(address: SocketAddr) -> Option<TargetConnection> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let idle = pool.get_mut(&address)?;
        let now = now_millis();
        while let Some(mut entry) = idle.pop() {
            if now.saturating_sub(entry.since_millis) >= IDLE_TIMEOUT_MILLIS {
                // The rest are older still.
                idle.clear();
                return None;
            }
            if entry.connection.reusable() {
                return Some(entry.connection);
            }
            // Closed by the target meanwhile: dropped.
        }
        None
    })
    .ok()
    .flatten()
}

/// Returns a connection whose last response ended to its pool when it can take another
/// request (a target that answered `Connection: close` has closed it by now).
fn checkin(address: SocketAddr, mut connection: TargetConnection) {
    if !connection.reusable() {
        return;
    }
    start_sweeper();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let idle = pool.entry(address).or_default();
        if idle.len() >= MAX_IDLE_PER_TARGET {
            idle.remove(0);
        }
        idle.push(Idle { connection, since_millis: now_millis() });
    });
}

/// Closes idle connections that turned stale or were closed, also when no request comes.
fn start_sweeper() {
    if SWEEPER_STARTED.try_with(|started| started.replace(true)).unwrap_or(true) {
        return;
    }
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async {
            let mut interval = tokio::time::interval(SWEEP_EVERY);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let now = now_millis();
                let _ = POOL.try_with(|pool| {
                    pool.borrow_mut().retain(|_, idle| {
                        idle.retain_mut(|entry| {
                            now.saturating_sub(entry.since_millis) < IDLE_TIMEOUT_MILLIS && entry.connection.reusable()
                        });
                        !idle.is_empty()
                    });
                });
            }
        });
    }
}

/// Sends `request` (origin-form URI, Host set) to `address` on an idle connection or a new
/// one. A request that an idle connection could not take (closed before anything was written)
/// goes once more on a fresh connection: nothing of it was sent.
pub async fn send(
    address: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<(Response<Incoming>, Pooled), UpstreamError> {
    if let Some(mut connection) = checkout(address) {
        let sent = connection.sender.try_send_request(request);
        match connection.drive_until(sent).await {
            Ok(response) => return Ok((response, Pooled { address, connection: Some(connection), done: false })),
            Err(mut error) => match error.take_message() {
                Some(unsent) => request = unsent,
                None => return Err(error.into_error().into()),
            },
        }
    }
    let mut connection = TargetConnection::connect(address).await?;
    let sent = connection.sender.send_request(request);
    let response = connection.drive_until(sent).await?;
    Ok((response, Pooled { address, connection: Some(connection), done: false }))
}

/// The connection a response came on, driven by the response body while it streams: back to
/// the pool when the body was read to the end, closed otherwise.
pub struct Pooled {
    address: SocketAddr,
    connection: Option<TargetConnection>,
    done: bool,
}

impl Pooled {
    /// Lets the connection read more of the response body.
    pub fn drive(&mut self, cx: &mut Context<'_>) {
        if let Some(connection) = &mut self.connection {
            connection.drive(cx);
        }
    }

    pub fn finished(&mut self) {
        self.done = true;
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if self.done {
                checkin(self.address, connection);
            }
        }
    }
}
