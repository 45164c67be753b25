//! Start-up time: from spawning `berth up` on an empty data directory to its first answered
//! request (ListClusters).

use crate::ecs_client::EcsClient;
use crate::stats::{millis, summarise};
use anyhow::bail;
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct StartupOptions {
    pub binary: PathBuf,
    pub runs: usize,
}

const READY_DEADLINE: Duration = Duration::from_secs(20);

pub async fn run(options: StartupOptions) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for run in 0..options.runs {
        let data_dir = std::env::temp_dir().join(format!("berth-bench-startup-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let ecs = EcsClient::new(&endpoint)?;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&options.binary)
            .args(["up", "--listen", &format!("127.0.0.1:{port}"), "--cluster", "berth-bench-startup"])
            .arg("--data-dir")
            .arg(&data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let ready = loop {
            if ecs.call("ListClusters", &json!({})).await.is_ok() {
                break started.elapsed();
            }
            if started.elapsed() > READY_DEADLINE {
                let _ = child.kill().await;
                bail!("berth up did not answer within {READY_DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        samples.push(ready);
        child.kill().await?;
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    let summary = summarise(&samples).expect("at least one run");
    println!(
        "startup benchmark: `berth up` on an empty data directory, {} runs: first answer median {:.1} ms, max {:.1} ms",
        summary.count,
        millis(summary.median),
        millis(summary.max)
    );
    Ok(())
}
