//! The control-plane client against a small real server that speaks the document protocol, and
//! the document cache that lets a restarted proxy serve at once while the server is away.

mod common;

use berth_proxy::{poll_loop, DocumentCache, Proxy, ProxyOptions};
use berth_proxy_protocol::*;
use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

/// Serves `document` to polls whose `after` is older, 204 otherwise (at once: the test needs
/// no long wait), and keeps the health reports posted to it.
#[derive(Clone, Default)]
struct ControlPlane {
    document: Arc<Mutex<Option<ProxyDocument>>>,
    reports: Arc<Mutex<Vec<HealthReport>>>,
    polls_after: Arc<Mutex<Vec<u64>>>,
}

impl ControlPlane {
    async fn start(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let control_plane = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let control_plane = control_plane.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| control_plane.clone().answer(request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        address
    }

    async fn answer(self, request: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let respond = |status: StatusCode, body: Vec<u8>| {
            Response::builder().status(status).body(Full::new(Bytes::from(body))).unwrap()
        };
        match (request.method().as_str(), request.uri().path()) {
            ("GET", "/proxy/v1/document") => {
                let after: u64 = request
                    .uri()
                    .query()
                    .and_then(|query| query.strip_prefix("after="))
                    .and_then(|after| after.parse().ok())
                    .expect("an after parameter");
                self.polls_after.lock().push(after);
                let document = self.document.lock().clone().filter(|document| document.generation > after);
                match document {
                    Some(document) => Ok(respond(StatusCode::OK, serde_json::to_vec(&document).unwrap())),
                    None => {
                        // Stand-in for the server's long wait, kept short.
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(respond(StatusCode::NO_CONTENT, Vec::new()))
                    }
                }
            }
            ("POST", "/proxy/v1/health") => {
                let body = request.into_body().collect().await?.to_bytes();
                self.reports.lock().push(serde_json::from_slice(&body).expect("a health report"));
                Ok(respond(StatusCode::NO_CONTENT, Vec::new()))
            }
            _ => Ok(respond(StatusCode::NOT_FOUND, Vec::new())),
        }
    }
}

fn app_document(generation: u64, upstream: SocketAddr, bind: SocketAddr) -> ProxyDocument {
    let mut the_listener = listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))]);
    the_listener.bind = bind;
    document(generation, vec![the_listener], vec![group("tg/app", vec![target(upstream)], true)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_the_control_plane_and_serves_the_cache_after_a_restart() {
    let upstream = Upstream::start("app").await;
    let directory = tempfile::tempdir().unwrap();
    let cache_path = directory.path().join("proxy-document.json");
    // A fixed port, so that the restarted proxy binds the same listener again.
    let bind = closed_port_address();

    let control_plane = ControlPlane::default();
    let server = control_plane.start().await;
    *control_plane.document.lock() = Some(app_document(3, upstream.address, bind));
    let proxy = Proxy::start(ProxyOptions::new("proxy-1"));
    let polling =
        tokio::spawn(poll_loop(format!("http://{server}/"), proxy.clone(), Some(DocumentCache::new(&cache_path))));
    eventually("the document from the control plane is served", || async {
        (proxy.generation() == Some(3)).then_some(())
    })
    .await;
    let client = http_client();
    let address = proxy.local_addr("listener/a").unwrap();
    assert_eq!(address, bind);
    eventually("the target turns healthy and answers", || async {
        (get(&client, address, "a", "/").await.upstream() == "app").then_some(())
    })
    .await;
    eventually("the proxy polls after the generation it serves", || async {
        control_plane.polls_after.lock().contains(&3).then_some(())
    })
    .await;
    eventually("health reports reach the control plane", || async {
        control_plane
            .reports
            .lock()
            .iter()
            .any(|report| report.targets.iter().any(|health| health.state == HealthState::Healthy))
            .then_some(())
    })
    .await;
    {
        let reports = control_plane.reports.lock();
        assert!(reports[0].complete, "{:?}", reports[0]);
        assert!(reports.iter().all(|report| report.proxy_id == "proxy-1"));
    }
    let cached = eventually("the document is cached", || async {
        DocumentCache::new(&cache_path).load().ok().flatten().filter(|document| document.generation == 3)
    })
    .await;
    assert_eq!(cached.listeners[0].bind, bind);
    assert_eq!(std::fs::metadata(&cache_path).unwrap().permissions().mode() & 0o777, 0o600);

    // Restart with the control plane gone: the cached document is served at once.
    polling.abort();
    let _ = polling.await;
    drop(proxy);
    eventually("the old listener is closed", || async {
        tokio::net::TcpStream::connect(bind).await.is_err().then_some(())
    })
    .await;
    let restarted = Proxy::start(ProxyOptions::new("proxy-1"));
    let gone = closed_port_address();
    let _polling =
        tokio::spawn(poll_loop(format!("http://{gone}"), restarted.clone(), Some(DocumentCache::new(&cache_path))));
    eventually("the restarted proxy serves the cached document", || async {
        (restarted.generation() == Some(3)).then_some(())
    })
    .await;
    let answer = eventually("the cached listener answers", || async {
        let request = hyper::Request::get(format!("http://{bind}/")).body(http_body_util::Empty::new()).unwrap();
        let response = client.request(request).await.ok()?;
        Some(response.status())
    })
    .await;
    // Fail-open serves while the restarted checks are still Initial.
    assert_eq!(answer, StatusCode::OK);
}
