//! Keep-alive connections to plain-HTTP targets, one pool per worker thread and target address.
//!
//! Every worker is a single-threaded runtime and a request stays on its worker from accept to
//! target and back, so the pool is a thread-local: no locks, no cross-thread wakeups. Idle
//! connections are reused newest first (the likeliest to be still open), a connection goes back
//! into the pool once its response body has been read to the end, and closed or stale ones are
//! dropped on the way. TLS targets and protocol upgrades keep using hyper-util's client.

use crate::targets::now_millis;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

const MAX_IDLE_PER_TARGET: usize = 512;
/// Idle connections older than this are closed (hyper-util's pool used the same).
const IDLE_TIMEOUT_MILLIS: u64 = 60_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const SWEEP_EVERY: Duration = Duration::from_secs(15);

pub type UpstreamError = Box<dyn std::error::Error + Send + Sync>;

struct Idle {
    sender: SendRequest<Incoming>,
    since_millis: u64,
}

thread_local! {
    static POOL: RefCell<HashMap<SocketAddr, Vec<Idle>>> = RefCell::new(HashMap::new());
    static SWEEPER_STARTED: Cell<bool> = const { Cell::new(false) };
}

/// The newest idle connection to `address` that can take a request now.
fn checkout(address: SocketAddr) -> Option<SendRequest<Incoming>> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let idle = pool.get_mut(&address)?;
        let now = now_millis();
        while let Some(entry) = idle.pop() {
            if now.saturating_sub(entry.since_millis) >= IDLE_TIMEOUT_MILLIS {
                // The rest are older still.
                idle.clear();
                return None;
            }
            if entry.sender.is_ready() {
                return Some(entry.sender);
            }
            // Closed by the target meanwhile: dropped.
        }
        None
    })
    .ok()
    .flatten()
}

fn push(address: SocketAddr, sender: SendRequest<Incoming>) {
    start_sweeper();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let idle = pool.entry(address).or_default();
        if idle.len() >= MAX_IDLE_PER_TARGET {
            idle.remove(0);
        }
        idle.push(Idle { sender, since_millis: now_millis() });
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
                        idle.retain(|entry| {
                            !entry.sender.is_closed() && now.saturating_sub(entry.since_millis) < IDLE_TIMEOUT_MILLIS
                        });
                        !idle.is_empty()
                    });
                });
            }
        });
    }
}

/// Returns a connection whose last response ended to its pool, at once when it is ready for
/// the next request, else as soon as it is (hyper may need one more turn of its driver).
fn checkin(address: SocketAddr, mut sender: SendRequest<Incoming>) {
    if sender.is_ready() {
        push(address, sender);
    } else if !sender.is_closed() {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(5), sender.ready()).await {
                    push(address, sender);
                }
            });
        }
    }
}

async fn connect(address: SocketAddr) -> Result<SendRequest<Incoming>, UpstreamError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| "connect timed out")??;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::Builder::new().handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%address, %error, "target connection ended with an error");
        }
    });
    Ok(sender)
}

/// Sends `request` (origin-form URI, Host set) to `address` on an idle connection or a new
/// one. A request that an idle connection could not take (closed before anything was written)
/// goes once more on a fresh connection: nothing of it was sent.
pub async fn send(
    address: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<(Response<Incoming>, Pooled), UpstreamError> {
    if let Some(mut sender) = checkout(address) {
        match sender.try_send_request(request).await {
            Ok(response) => return Ok((response, Pooled { address, sender: Some(sender), done: false })),
            Err(mut error) => match error.take_message() {
                Some(unsent) => request = unsent,
                None => return Err(error.into_error().into()),
            },
        }
    }
    let mut sender = connect(address).await?;
    let response = sender.send_request(request).await?;
    Ok((response, Pooled { address, sender: Some(sender), done: false }))
}

/// The connection a response came on: back to the pool when its body was read to the end,
/// closed otherwise.
pub struct Pooled {
    address: SocketAddr,
    sender: Option<SendRequest<Incoming>>,
    done: bool,
}

impl Pooled {
    pub fn finished(&mut self) {
        self.done = true;
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            if self.done {
                checkin(self.address, sender);
            }
        }
    }
}
