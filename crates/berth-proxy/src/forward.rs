//! One request, start to finish: route it by the listener's current table, answer fixed
//! responses and redirects locally, or forward it to a target chosen by `balance` — with ALB's
//! headers (X-Forwarded-*, X-Amzn-Trace-Id), hop-by-hop headers stripped, stickiness cookies,
//! HTTP upgrades tunnelled, and ALB's 502/503/504 when the target fails.

use crate::access_log::AccessRecord;
use crate::balance::{choose_target, pick_weighted};
use crate::body::ProxyBody;
use crate::matching::{host_without_port, RequestView};
use crate::redirect::{redirect_location, RedirectSource, RedirectTemplate};
use crate::routing::{CompiledAction, CompiledRule, ForwardAction, ListenerTable};
use crate::tls;
use crate::upstream::{self, UpstreamError};
use arc_swap::ArcSwap;
use berth_proxy_protocol::ListenerProtocol;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::uri::{PathAndQuery, Scheme, Uri};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub type TargetConnector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The connector to targets: plain TCP or TLS without verification, no Nagle delay.
pub fn target_connector() -> TargetConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls::target_client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// Keep-alive connection pools to every target, one per proxy. Pools are made lazily by the
/// client, per target, on first use.
pub fn forwarding_client() -> Client<TargetConnector, Incoming> {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(512)
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .build(target_connector())
}

/// What every request on one client connection shares.
pub struct ConnectionContext {
    pub table: Arc<ArcSwap<ListenerTable>>,
    pub client: Client<TargetConnector, Incoming>,
    pub peer: SocketAddr,
    pub local_port: u16,
    /// Made once per connection so that requests do not format them.
    pub peer_ip_header: HeaderValue,
    pub local_port_header: HeaderValue,
    /// Requests waiting for their response head: the idle timer leaves the connection alone
    /// meanwhile (the 504 timer covers a silent target).
    pub in_flight: AtomicUsize,
}

struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// ALB's error page for `status`.
pub fn error_response(status: StatusCode) -> Response<ProxyBody> {
    // ALB's own wording for 503.
    let reason = match status {
        StatusCode::SERVICE_UNAVAILABLE => "Service Temporarily Unavailable",
        _ => status.canonical_reason().unwrap_or(""),
    };
    let title = format!("{} {reason}", status.as_u16());
    let page =
        format!("<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>");
    let mut response = Response::new(ProxyBody::local(page));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    headers.insert(header::SERVER, HeaderValue::from_static("awselb/2.0"));
    response
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");

/// A fresh `Root=1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}` trace ID.
pub fn new_trace_id() -> String {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let random: u128 = rand::random::<u128>() & ((1u128 << 96) - 1);
    // Written digit by digit: `format!` costs several times as much, once per request.
    let mut id = String::with_capacity(40);
    id.push_str("Root=1-");
    push_hex(&mut id, u128::from(seconds as u32), 8);
    id.push('-');
    push_hex(&mut id, random, 24);
    id
}

fn push_hex(out: &mut String, value: u128, digits: u32) {
    for position in (0..digits).rev() {
        let nibble = ((value >> (position * 4)) & 0xf) as usize;
        out.push(char::from(b"0123456789abcdef"[nibble]));
    }
}

/// The value of cookie `name` in the request's Cookie headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(|cookies| {
        cookies.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
    })
}

fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
}

/// Removes the hop-by-hop headers (RFC 9110 §7.6.1) and those the Connection header names;
/// `keep_upgrade` keeps `Connection: upgrade` and `Upgrade` for a protocol switch.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Most messages carry none of them (or only Connection): one pass over the names is
    // cheaper than a lookup per hop-by-hop name.
    let is_hop_by_hop = |name: &HeaderName| {
        matches!(
            name.as_str(),
            "connection"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "proxy-authorization"
                | "keep-alive"
                | "proxy-connection"
                | "upgrade"
        )
    };
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    if let Some(connection) = headers.get(header::CONNECTION) {
        if let Ok(value) = connection.to_str() {
            let named: Vec<HeaderName> = value
                .split(',')
                .map(str::trim)
                .filter(|token| !(keep_upgrade && token.eq_ignore_ascii_case("upgrade")))
                .filter_map(|token| HeaderName::try_from(token).ok())
                .collect();
            for name in named {
                headers.remove(name);
            }
        }
    }
    for name in [
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::PROXY_AUTHORIZATION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
}

/// What the access log needs of the request, captured before it is forwarded (only when the
/// listener logs: it costs allocations).
struct LogDraft {
    received_at: SystemTime,
    request_line: String,
    user_agent: String,
    trace_id: String,
    kind: &'static str,
    received_bytes: u64,
}

pub async fn handle(
    context: Arc<ConnectionContext>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let _in_flight = InFlight::new(&context.in_flight);
    let table = context.table.load_full();
    // Timing is for the access log only: no clock reads per request when it is off.
    let started = table.access_log.as_ref().map(|_| Instant::now());
    let https = table.protocol == ListenerProtocol::Https;
    let rule = {
        let uri = request.uri();
        let host_header = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| uri.authority().map(|authority| authority.as_str()))
            .unwrap_or("");
        let view = RequestView {
            method: request.method().as_str(),
            path: uri.path(),
            host: host_without_port(host_header),
            query: uri.query(),
            headers: request.headers(),
            peer: context.peer.ip(),
        };
        table.route(&view)
    };
    // Every listener has a default rule; without one (a malformed document) nothing matches.
    let Some(rule) = rule else {
        return Ok(error_response(StatusCode::SERVICE_UNAVAILABLE));
    };
    let draft = table.access_log.as_ref().map(|_| log_draft(&request, https, context.local_port));
    let outcome = match &rule.action {
        CompiledAction::FixedResponse { status, content_type, body } => {
            let mut response = Response::new(ProxyBody::local(body.clone()));
            *response.status_mut() = *status;
            if let Some(content_type) = content_type {
                response.headers_mut().insert(header::CONTENT_TYPE, content_type.clone());
            }
            Outcome { response, target: None, target_status: None, target_time: None, group: None }
        }
        CompiledAction::Redirect(redirect) => {
            let uri = request.uri();
            let host_header = request
                .headers()
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .or_else(|| uri.authority().map(|authority| authority.as_str()))
                .unwrap_or("");
            let location = redirect_location(
                &RedirectTemplate {
                    protocol: &redirect.protocol,
                    port: &redirect.port,
                    host: &redirect.host,
                    path: &redirect.path,
                    query: &redirect.query,
                },
                &RedirectSource {
                    protocol: if https { "HTTPS" } else { "HTTP" },
                    host: host_without_port(host_header),
                    port: context.local_port,
                    path: uri.path(),
                    query: uri.query(),
                },
            );
            let mut response = Response::new(ProxyBody::local(bytes::Bytes::new()));
            *response.status_mut() = redirect.status;
            if let Ok(location) = HeaderValue::try_from(location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response.headers_mut().insert(header::SERVER, HeaderValue::from_static("awselb/2.0"));
            Outcome { response, target: None, target_status: None, target_time: None, group: None }
        }
        CompiledAction::Forward(forward_action) => {
            forward(
                &context,
                &table,
                forward_action,
                request,
                https,
                draft.as_ref().map(|draft| draft.trace_id.as_str()),
            )
            .await
        }
    };
    if let (Some(log), Some(draft), Some(started)) = (&table.access_log, draft, started) {
        write_access_log(log, &table, rule, &context, draft, &outcome, started);
    }
    Ok(outcome.response)
}

struct Outcome {
    response: Response<ProxyBody>,
    target: Option<SocketAddr>,
    target_status: Option<u16>,
    target_time: Option<Duration>,
    group: Option<Arc<crate::targets::GroupRuntime>>,
}

impl Outcome {
    fn local(status: StatusCode) -> Self {
        Self { response: error_response(status), target: None, target_status: None, target_time: None, group: None }
    }
}

fn choose_group<'a>(action: &'a ForwardAction, headers: &HeaderMap) -> Option<&'a ForwardTarget> {
    if action.stickiness_seconds.is_some() {
        if let Some(cookie) = cookie_value(headers, "AWSALBTG") {
            if let Some((group, _)) = action.groups.iter().find(|(group, weight)| *weight > 0 && group.cookie == cookie)
            {
                return Some(group);
            }
        }
    }
    if action.groups.len() == 1 {
        return action.groups.first().filter(|(_, weight)| *weight > 0).map(|(group, _)| group);
    }
    if action.total_weight == 0 {
        return None;
    }
    let draw = rand::random_range(0..action.total_weight);
    pick_weighted(action.groups.iter().map(|(_, weight)| *weight), draw).map(|index| &action.groups[index].0)
}

type ForwardTarget = Arc<crate::targets::GroupRuntime>;

async fn forward(
    context: &ConnectionContext,
    table: &ListenerTable,
    action: &ForwardAction,
    mut request: Request<Incoming>,
    https: bool,
    logged_trace_id: Option<&str>,
) -> Outcome {
    let Some(group) = choose_group(action, request.headers()) else {
        return Outcome::local(StatusCode::SERVICE_UNAVAILABLE);
    };
    let sticky_target = group.stickiness_seconds.and_then(|_| cookie_value(request.headers(), "AWSALB"));
    let Some(target) = choose_target(group, sticky_target) else {
        let mut outcome = Outcome::local(StatusCode::SERVICE_UNAVAILABLE);
        outcome.group = Some(Arc::clone(group));
        return outcome;
    };
    let is_upgrade = request.version() == Version::HTTP_11
        && request.headers().contains_key(header::UPGRADE)
        && has_token(request.headers(), &header::CONNECTION, "upgrade");
    let headers = request.headers_mut();
    strip_hop_by_hop(headers, is_upgrade);
    if !headers.contains_key(header::HOST) {
        if let Some(host) =
            request.uri().authority().and_then(|authority| HeaderValue::from_str(authority.as_str()).ok())
        {
            request.headers_mut().insert(header::HOST, host);
        }
    }
    let headers = request.headers_mut();
    let forwarded_for = match headers.get(&X_FORWARDED_FOR).and_then(|value| value.to_str().ok()) {
        Some(existing) => HeaderValue::try_from(format!("{existing}, {}", context.peer.ip()))
            .unwrap_or_else(|_| context.peer_ip_header.clone()),
        None => context.peer_ip_header.clone(),
    };
    headers.insert(X_FORWARDED_FOR.clone(), forwarded_for);
    headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(if https { "https" } else { "http" }));
    headers.insert(X_FORWARDED_PORT.clone(), context.local_port_header.clone());
    let has_trace = headers
        .get(&X_AMZN_TRACE_ID)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("Root="));
    if !has_trace {
        let trace_id = logged_trace_id.map_or_else(new_trace_id, str::to_owned);
        if let Ok(value) = HeaderValue::try_from(trace_id) {
            headers.insert(X_AMZN_TRACE_ID.clone(), value);
        }
    }
    let path_and_query = request.uri().path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
    // Plain HTTP/1.1 exchanges go through this worker's own pools; TLS targets and upgrades
    // through hyper-util's client.
    let pooled_path = !is_upgrade && target.scheme == Scheme::HTTP;
    let mut parts = hyper::http::uri::Parts::default();
    if pooled_path {
        // Origin-form on the wire; the Host header names the target when the client sent none.
        if !request.headers().contains_key(header::HOST) {
            if let Ok(host) = HeaderValue::from_str(target.authority.as_str()) {
                request.headers_mut().insert(header::HOST, host);
            }
        }
    } else {
        parts.scheme = Some(target.scheme.clone());
        parts.authority = Some(target.authority.clone());
    }
    parts.path_and_query = Some(path_and_query);
    let Ok(uri) = Uri::from_parts(parts) else {
        return Outcome::local(StatusCode::BAD_REQUEST);
    };
    *request.uri_mut() = uri;
    // Targets speak HTTP/1.1 whatever the client spoke (ALB's default protocol version).
    *request.version_mut() = Version::HTTP_11;
    let client_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut request));
    let guard = target.begin_request();
    let target_started = table.access_log.as_ref().map(|_| Instant::now());
    let group_arn = Arc::clone(group);
    let exchange = async {
        if pooled_path {
            upstream::send(target.address, request).await.map(|(response, pooled)| (response, Some(pooled)))
        } else {
            match context.client.request(request).await {
                Ok(response) => Ok((response, None)),
                Err(error) => Err(UpstreamError::from(error)),
            }
        }
    };
    let answered = tokio::time::timeout(table.idle_timeout, exchange).await;
    let target_time = target_started.map(|started| started.elapsed());
    let response = match answered {
        Err(_elapsed) => {
            let mut outcome = Outcome::local(StatusCode::GATEWAY_TIMEOUT);
            outcome.target = Some(target.address);
            outcome.group = Some(group_arn);
            return outcome;
        }
        Ok(Err(error)) => {
            tracing::debug!(target = %target.address, %error, "target failed");
            let mut outcome = Outcome::local(StatusCode::BAD_GATEWAY);
            outcome.target = Some(target.address);
            outcome.group = Some(group_arn);
            return outcome;
        }
        Ok(Ok(answer)) => answer,
    };
    let (mut response, mut pooled) = response;
    let target_status = response.status().as_u16();
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let target_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(tunnel(client_upgrade, target_upgrade, guard));
            let (parts, _) = response.into_parts();
            return Outcome {
                response: Response::from_parts(parts, ProxyBody::local(bytes::Bytes::new())),
                target: Some(target.address),
                target_status: Some(target_status),
                target_time,
                group: Some(group_arn),
            };
        }
    }
    strip_hop_by_hop(response.headers_mut(), false);
    if let Some(seconds) = group.stickiness_seconds {
        set_cookie(response.headers_mut(), "AWSALB", &target.cookie, seconds);
    }
    if let Some(seconds) = action.stickiness_seconds {
        set_cookie(response.headers_mut(), "AWSALBTG", &group.cookie, seconds);
    }
    let (parts, body) = response.into_parts();
    if hyper::body::Body::is_end_stream(&body) {
        // Nothing to read (HEAD, 204, 304, empty bodies): hyper may never poll it.
        if let Some(pooled) = &mut pooled {
            pooled.finished();
        }
    }
    Outcome {
        response: Response::from_parts(parts, ProxyBody::Upstream { body, _guard: Some(guard), pooled }),
        target: Some(target.address),
        target_status: Some(target_status),
        target_time,
        group: Some(group_arn),
    }
}

fn set_cookie(headers: &mut HeaderMap, name: &str, value: &str, seconds: u32) {
    if let Ok(cookie) = HeaderValue::try_from(format!("{name}={value}; Max-Age={seconds}; Path=/")) {
        headers.append(header::SET_COOKIE, cookie);
    }
}

/// Copies bytes both ways between the client and the target once both sides switched
/// protocols; the target counts the tunnel as an outstanding request until it closes.
async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    target: hyper::upgrade::OnUpgrade,
    _guard: crate::targets::OutstandingGuard,
) {
    let (Ok(client), Ok(target)) = (client.await, target.await) else { return };
    let mut client = TokioIo::new(client);
    let mut target = TokioIo::new(target);
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut target).await {
        tracing::debug!(%error, "upgraded connection ended");
    }
}

fn log_draft(request: &Request<Incoming>, https: bool, port: u16) -> LogDraft {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|authority| authority.as_str()))
        .map_or("-", host_without_port);
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let scheme = if https { "https" } else { "http" };
    let is_upgrade = request.headers().contains_key(header::UPGRADE);
    let kind = match (request.version(), https, is_upgrade) {
        (Version::HTTP_2, _, _) => "h2",
        (_, true, true) => "wss",
        (_, false, true) => "ws",
        (_, true, false) => "https",
        (_, false, false) => "http",
    };
    let trace_id = request
        .headers()
        .get(&X_AMZN_TRACE_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.contains("Root="))
        .map_or_else(new_trace_id, str::to_owned);
    LogDraft {
        received_at: SystemTime::now(),
        request_line: format!("{} {scheme}://{host}:{port}{path_and_query} {:?}", request.method(), request.version()),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-")
            .to_owned(),
        trace_id,
        kind,
        received_bytes: request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0),
    }
}

fn write_access_log(
    log: &crate::access_log::AccessLog,
    table: &ListenerTable,
    rule: &CompiledRule,
    context: &ConnectionContext,
    draft: LogDraft,
    outcome: &Outcome,
    started: Instant,
) {
    let total = started.elapsed();
    let action = match rule.action {
        CompiledAction::Forward(_) => "forward",
        CompiledAction::Redirect(_) => "redirect",
        CompiledAction::FixedResponse { .. } => "fixed-response",
    };
    let redirect_url = outcome.response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok());
    let content_length = |headers: &HeaderMap| {
        headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()).and_then(|value| value.parse().ok())
    };
    let record = AccessRecord {
        kind: draft.kind,
        elb: &table.elb_name,
        client: context.peer,
        target: outcome.target,
        request_processing: total.saturating_sub(outcome.target_time.unwrap_or_default()),
        target_processing: outcome.target_time,
        elb_status: outcome.response.status().as_u16(),
        target_status: outcome.target_status,
        received_bytes: draft.received_bytes,
        sent_bytes: content_length(outcome.response.headers()).unwrap_or(0),
        request_line: &draft.request_line,
        user_agent: &draft.user_agent,
        target_group_arn: outcome.group.as_ref().map(|group| group.target_group_arn.as_str()),
        trace_id: &draft.trace_id,
        matched_rule_priority: rule.priority,
        received_at: draft.received_at,
        action,
        redirect_url,
    };
    log.log(record.line());
}
