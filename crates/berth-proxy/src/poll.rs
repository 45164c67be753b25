//! The proxy's side of the control-plane protocol: long-poll
//! `GET {server}/proxy/v1/document?after=N` (200 with a newer document, or 204 when the
//! server's wait ran out), apply and cache what arrives, and post health reports to
//! `POST {server}/proxy/v1/health`. While the server is away both retry with backoff; the proxy
//! keeps serving what it has all along.

use crate::cache::DocumentCache;
use crate::proxy::{ApplyOutcome, Proxy};
use berth_proxy_protocol::{HealthReport, ProxyDocument};
use std::time::Duration;

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longer than the server's wait (~25 s), so that a 204 arrives before the client gives up.
const POLL_TIMEOUT: Duration = Duration::from_secs(60);

fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

/// Serves the cached document (when there is one and nothing newer was applied), then follows
/// the control plane for ever. Health reports are posted by a task this starts, when the
/// proxy's report receiver has not been taken by someone else.
pub async fn poll_loop(server_url: String, proxy: Proxy, cache: Option<DocumentCache>) {
    let server = server_url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder().timeout(POLL_TIMEOUT).build().expect("a plain HTTP client builds");
    if let Some(cache) = &cache {
        let loading = cache.clone();
        match tokio::task::spawn_blocking(move || loading.load()).await {
            Ok(Ok(Some(document))) => {
                let generation = document.generation;
                if proxy.apply(document) == ApplyOutcome::Applied {
                    tracing::info!(generation, "serving the cached proxy document");
                }
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot read the cached proxy document"),
            Err(error) => tracing::warn!(%error, "reading the cached proxy document failed"),
        }
    }
    let poster =
        proxy.health_reports().map(|reports| tokio::spawn(post_reports(client.clone(), server.clone(), reports)));
    let _stop_poster = poster.map(AbortOnDrop);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let after = proxy.generation().unwrap_or(0);
        match fetch_document(&client, &server, after).await {
            Ok(None) => backoff = FIRST_BACKOFF,
            Ok(Some(document)) => {
                backoff = FIRST_BACKOFF;
                let generation = document.generation;
                let to_cache = cache.as_ref().map(|_| document.clone());
                if proxy.apply(document) == ApplyOutcome::Applied {
                    tracing::debug!(generation, "applied proxy document");
                    if let (Some(cache), Some(document)) = (cache.clone(), to_cache) {
                        let saved = tokio::task::spawn_blocking(move || cache.save(&document)).await;
                        match saved {
                            Ok(Ok(())) => {}
                            Ok(Err(error)) => tracing::warn!(%error, "cannot cache the proxy document"),
                            Err(error) => tracing::warn!(%error, "caching the proxy document failed"),
                        }
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, ?backoff, "proxy document poll failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = next_backoff(backoff);
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected status {0}")]
    Status(reqwest::StatusCode),
}

/// One long poll: `Some` newer document, or `None` when the server's wait ran out.
pub async fn fetch_document(
    client: &reqwest::Client,
    server: &str,
    after: u64,
) -> Result<Option<ProxyDocument>, PollError> {
    let response = client.get(format!("{server}/proxy/v1/document?after={after}")).send().await?;
    match response.status() {
        reqwest::StatusCode::OK => Ok(Some(response.json::<ProxyDocument>().await?)),
        reqwest::StatusCode::NO_CONTENT => Ok(None),
        status => Err(PollError::Status(status)),
    }
}

/// Posts each report until the server takes it: reports are changes, so none may be skipped
/// (while this waits, newer changes merge in the proxy).
async fn post_reports(client: reqwest::Client, server: String, mut reports: tokio::sync::mpsc::Receiver<HealthReport>) {
    let url = format!("{server}/proxy/v1/health");
    while let Some(report) = reports.recv().await {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match client.post(&url).json(&report).send().await {
                Ok(response) if response.status().is_success() => break,
                Ok(response) => tracing::debug!(status = %response.status(), "health report refused; retrying"),
                Err(error) => tracing::debug!(%error, "health report not delivered; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = next_backoff(backoff);
        }
    }
}
