//! Serves one `ProxyDocument` read from a JSON file, for manual tests and benchmarks:
//! `cargo run --release -p berth-proxy --example serve_document -- document.json`.

use berth_proxy::{Proxy, ProxyOptions};

fn main() -> anyhow::Result<()> {
    // BERTH_PROXY_WORKERS=0: a current-thread runtime (for comparing schedulers in benchmarks).
    let workers: usize = std::env::var("BERTH_PROXY_WORKERS").ok().and_then(|value| value.parse().ok()).unwrap_or(2);
    let runtime = if workers == 0 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?
    };
    runtime.block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: serve_document DOCUMENT.json"))?;
    let document: berth_proxy_protocol::ProxyDocument = serde_json::from_slice(&std::fs::read(&path)?)?;
    let proxy = Proxy::start(ProxyOptions::new("serve-document"));
    proxy.apply(document);
    for listener in proxy.listeners() {
        println!("{} {:?} {:?}", listener.listener_arn, listener.local_addr, listener.error);
    }
    let mut reports = proxy.health_reports().expect("the receiver");
    while let Some(report) = reports.recv().await {
        for target in report.targets {
            println!("{} {}:{} {:?}", target.target_group_arn, target.target_id, target.port, target.state);
        }
    }
    Ok(())
}
