//! Shared pieces of the integration tests: real in-process upstream servers on 127.0.0.1,
//! document builders, HTTP clients and polling with a deadline (never a sleep to synchronise).

#![allow(dead_code)]

use berth_proxy::{Proxy, ProxyOptions};
use berth_proxy_protocol::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `probe` until it returns `Some`, at most until the deadline (then panics with `what`).
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    while started.elapsed() < DEADLINE {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within {DEADLINE:?}: {what}");
}

/// A real HTTP/1.1 server. `/health` answers `health_status`; `/slow` waits for a permit of
/// `release`; a request with `Upgrade` is switched and echoed; anything else answers the
/// server's name with what it saw of the forwarding headers.
#[derive(Clone)]
pub struct Upstream {
    pub address: SocketAddr,
    pub name: String,
    pub health_status: Arc<AtomicU16>,
    pub hits: Arc<AtomicUsize>,
    pub health_hits: Arc<AtomicUsize>,
    pub release: Arc<tokio::sync::Semaphore>,
}

impl Upstream {
    pub async fn start(name: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = Self {
            address: listener.local_addr().unwrap(),
            name: name.to_owned(),
            health_status: Arc::new(AtomicU16::new(200)),
            hits: Arc::default(),
            health_hits: Arc::default(),
            release: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let serving = upstream.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let upstream = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| upstream.clone().answer(request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        upstream
    }

    async fn answer(self, mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        if request.uri().path() == "/health" {
            self.health_hits.fetch_add(1, Ordering::Relaxed);
            let status = StatusCode::from_u16(self.health_status.load(Ordering::Relaxed)).unwrap();
            return Ok(Response::builder().status(status).body(Full::new(Bytes::new())).unwrap());
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        if request.headers().contains_key(hyper::header::UPGRADE) {
            let upgrade = hyper::upgrade::on(&mut request);
            tokio::spawn(async move {
                let Ok(upgraded) = upgrade.await else { return };
                let mut io = TokioIo::new(upgraded);
                let mut buffer = [0u8; 1024];
                // Echo until the client closes.
                while let Ok(read) = io.read(&mut buffer).await {
                    if read == 0 || io.write_all(&buffer[..read]).await.is_err() {
                        return;
                    }
                }
            });
            return Ok(Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header("connection", "upgrade")
                .header("upgrade", "echo")
                .body(Full::new(Bytes::new()))
                .unwrap());
        }
        if request.uri().path() == "/slow" {
            let _permit = self.release.acquire().await.unwrap();
        }
        let seen = |name: &str| {
            request.headers().get(name).map(|value| value.to_str().unwrap_or("?").to_owned()).unwrap_or_default()
        };
        let response = Response::builder()
            .header("x-upstream", &self.name)
            .header("x-seen-xff", seen("x-forwarded-for"))
            .header("x-seen-proto", seen("x-forwarded-proto"))
            .header("x-seen-port", seen("x-forwarded-port"))
            .header("x-seen-trace", seen("x-amzn-trace-id"))
            .header("x-seen-host", seen("host"))
            .header("x-seen-connection", seen("connection"))
            .body(Full::new(Bytes::from(self.name.clone())))
            .unwrap();
        Ok(response)
    }
}

/// A port where nothing listens (bound, then closed).
pub fn closed_port_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A server that accepts connections and closes them at once, before any answer.
pub async fn slamming_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    address
}

/// A server that accepts connections, reads, and never answers.
pub async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while let Ok(read) = stream.read(&mut buffer).await {
                    if read == 0 {
                        return;
                    }
                }
            });
        }
    });
    address
}

pub fn target(address: SocketAddr) -> Target {
    Target { id: "127.0.0.1".into(), port: address.port(), address, state: TargetState::Active }
}

pub fn draining(address: SocketAddr) -> Target {
    Target { state: TargetState::Draining, ..target(address) }
}

pub fn health_check(enabled: bool) -> HealthCheck {
    HealthCheck {
        enabled,
        protocol: TargetProtocol::Http,
        port: None,
        path: "/health".into(),
        interval_seconds: 1,
        timeout_seconds: 1,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
        matcher: "200-299".into(),
    }
}

pub fn group(arn: &str, targets: Vec<Target>, health_checks: bool) -> TargetGroup {
    TargetGroup {
        target_group_arn: arn.into(),
        name: arn.rsplit('/').next().unwrap_or(arn).into(),
        protocol: TargetProtocol::Http,
        health_check: health_check(health_checks),
        algorithm: Algorithm::RoundRobin,
        slow_start_seconds: 0,
        stickiness_seconds: None,
        targets,
    }
}

pub fn forward(groups: &[(&str, u32)]) -> Action {
    Action::Forward {
        target_groups: groups
            .iter()
            .map(|(arn, weight)| WeightedTargetGroup { target_group_arn: (*arn).into(), weight: *weight })
            .collect(),
        stickiness_seconds: None,
    }
}

pub fn rule(priority: Option<u32>, conditions: Vec<Condition>, action: Action) -> Rule {
    Rule { rule_arn: format!("rule/{priority:?}"), priority, conditions, action }
}

pub const LB_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef";

pub fn listener(arn: &str, rules: Vec<Rule>) -> Listener {
    Listener {
        listener_arn: arn.into(),
        load_balancer_arn: LB_ARN.into(),
        bind: "127.0.0.1:0".parse().unwrap(),
        protocol: ListenerProtocol::Http,
        certificate_arns: Vec::new(),
        idle_timeout_seconds: 60,
        http2: true,
        rules,
        access_log: None,
    }
}

pub fn document(generation: u64, listeners: Vec<Listener>, target_groups: Vec<TargetGroup>) -> ProxyDocument {
    ProxyDocument { generation, listeners, target_groups, certificates: Vec::new() }
}

pub fn start_proxy() -> Proxy {
    Proxy::start(ProxyOptions::new("test-proxy"))
}

/// Applies `document` and answers where its first listener accepts.
pub fn serve(proxy: &Proxy, document: ProxyDocument) -> SocketAddr {
    let arn = document.listeners[0].listener_arn.clone();
    assert_eq!(proxy.apply(document), berth_proxy::ApplyOutcome::Applied);
    proxy.local_addr(&arn).expect("the listener is bound")
}

pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn upstream(&self) -> &str {
        self.headers.get("x-upstream").map_or("", |value| value.to_str().unwrap())
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |value| value.to_str().unwrap())
    }
}

pub async fn get(client: &HttpClient, address: SocketAddr, host: &str, path: &str) -> Answer {
    let request = Request::get(format!("http://{address}{path}")).header("host", host).body(Empty::new()).unwrap();
    let response = client.request(request).await.expect("the proxy answers");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a whole body").to_bytes();
    Answer { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&body).into_owned() }
}
