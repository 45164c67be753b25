//! Where usage reports go: the [`UsageReportSink`] trait, [`ServerUsageSink`] over the
//! agent's `ServerClient`, and [`MemoryUsageSink`] for tests.

use crate::client::ServerClient;
use async_trait::async_trait;
use berth_agent_protocol::usage::UsageReport;
use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

#[async_trait]
pub trait UsageReportSink: Send + Sync + 'static {
    /// Delivers one report; the error text is only logged (reports are never resent).
    async fn send(&self, report: &UsageReport) -> Result<(), String>;
}

/// The server's usage endpoint, as the container instance this agent is registered as.
pub struct ServerUsageSink {
    client: ServerClient,
    /// The container instance ID while registered (the agent's session).
    session: watch::Receiver<Option<String>>,
}

impl ServerUsageSink {
    pub fn new(client: ServerClient, session: watch::Receiver<Option<String>>) -> Self {
        ServerUsageSink { client, session }
    }
}

#[async_trait]
impl UsageReportSink for ServerUsageSink {
    async fn send(&self, report: &UsageReport) -> Result<(), String> {
        let instance_id = self.session.borrow().clone().ok_or("the agent is not registered yet")?;
        self.client.send_usage(&instance_id, report).await.map_err(|error| error.to_string())
    }
}

/// Keeps every report it is sent, for tests; `fail` makes sends fail.
#[derive(Default)]
pub struct MemoryUsageSink {
    reports: Mutex<Vec<UsageReport>>,
    failing: Mutex<bool>,
    arrived: Notify,
}

impl MemoryUsageSink {
    pub fn reports(&self) -> Vec<UsageReport> {
        self.reports.lock().clone()
    }

    pub fn fail(&self, failing: bool) {
        *self.failing.lock() = failing;
    }

    /// Waits until at least `count` reports arrived.
    pub async fn wait_for(&self, count: usize) {
        loop {
            let arrived = self.arrived.notified();
            if self.reports.lock().len() >= count {
                return;
            }
            arrived.await;
        }
    }
}

#[async_trait]
impl UsageReportSink for MemoryUsageSink {
    async fn send(&self, report: &UsageReport) -> Result<(), String> {
        if *self.failing.lock() {
            return Err("the sink is failing".to_string());
        }
        self.reports.lock().push(report.clone());
        self.arrived.notify_waiters();
        Ok(())
    }
}
