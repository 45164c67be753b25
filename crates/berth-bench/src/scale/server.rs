//! The server under test: either a `berth server` this benchmark started as a child (which it
//! can kill -9 and start again on the same data directory) or one the operator started, known
//! by its endpoint and, if found, its pid.

use crate::ecs_client::EcsClient;
use anyhow::{bail, Context};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long a server may take to answer its first request before the benchmark gives up.
const READY_DEADLINE: Duration = Duration::from_secs(60);
const READY_POLL: Duration = Duration::from_millis(2);

pub enum ServerUnderTest {
    Managed(Box<ManagedServer>),
    External { endpoint: String, pid: Option<u32> },
}

impl ServerUnderTest {
    pub fn endpoint(&self) -> &str {
        match self {
            ServerUnderTest::Managed(server) => &server.endpoint,
            ServerUnderTest::External { endpoint, .. } => endpoint,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match self {
            ServerUnderTest::Managed(server) => server.child.id(),
            ServerUnderTest::External { pid, .. } => *pid,
        }
    }
}

pub struct ManagedServer {
    binary: PathBuf,
    pub data_dir: PathBuf,
    listen: String,
    pub endpoint: String,
    child: Child,
}

impl ManagedServer {
    /// Starts `binary server` on a free loopback port and waits for its first answer.
    pub async fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<ManagedServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let child = spawn(binary, data_dir, &listen)?;
        let mut server = ManagedServer {
            binary: binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            endpoint: format!("http://{listen}"),
            listen,
            child,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    pub fn child_id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the server with SIGKILL (no shutdown path runs), starts it again on the same data
    /// directory and port, and returns how long it took to answer its first request.
    pub async fn kill_and_restart(&mut self) -> anyhow::Result<Duration> {
        self.child.kill().await.context("killing the server")?;
        let started = Instant::now();
        self.child = spawn(&self.binary, &self.data_dir, &self.listen)?;
        self.wait_ready().await?;
        Ok(started.elapsed())
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let ecs = EcsClient::new(&self.endpoint)?;
        let started = Instant::now();
        while started.elapsed() < READY_DEADLINE {
            if ecs.call("ListClusters", &json!({})).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("berth server exited with {status}; see {}", log_path(&self.data_dir).display());
            }
            tokio::time::sleep(READY_POLL).await;
        }
        bail!("berth server did not answer within {READY_DEADLINE:?}")
    }
}

fn spawn(binary: &Path, data_dir: &Path, listen: &str) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path(data_dir))?;
    Command::new(binary)
        .args(["server", "--listen", listen])
        .arg("--data-dir")
        .arg(data_dir)
        // Logging every request would measure the terminal; warnings still reach the log.
        .env("BERTH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}

fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("bench-server.log")
}
