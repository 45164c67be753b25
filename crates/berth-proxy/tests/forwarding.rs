//! Routing, weighted forwarding, ALB's headers and errors, draining, live document swaps and
//! access logs, through a real proxy on 127.0.0.1 to real upstream servers.

mod common;

use berth_proxy::ApplyOutcome;
use berth_proxy_protocol::*;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper::StatusCode;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_by_path_then_host_then_default() {
    let (api, web, fallback) =
        (Upstream::start("api").await, Upstream::start("web").await, Upstream::start("default").await);
    let proxy = start_proxy();
    let rules = vec![
        rule(Some(1), vec![Condition::PathPattern(vec!["/api/*".into()])], forward(&[("tg/api", 1)])),
        rule(Some(2), vec![Condition::HostHeader(vec!["*.web.example".into()])], forward(&[("tg/web", 1)])),
        rule(None, vec![], forward(&[("tg/default", 1)])),
    ];
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener("listener/a", rules)],
            vec![
                group("tg/api", vec![target(api.address)], false),
                group("tg/web", vec![target(web.address)], false),
                group("tg/default", vec![target(fallback.address)], false),
            ],
        ),
    );
    let client = http_client();
    assert_eq!(get(&client, address, "x.web.example", "/api/users").await.upstream(), "api");
    assert_eq!(get(&client, address, "WWW.Web.Example:8080", "/index").await.upstream(), "web");
    assert_eq!(get(&client, address, "other.example", "/index").await.upstream(), "default");
    assert_eq!(get(&client, address, "other.example", "/api").await.upstream(), "default", "/api/* needs the slash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_forwarding_headers_and_a_trace_id() {
    let upstream = Upstream::start("one").await;
    let proxy = start_proxy();
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/one", 1)]))])],
            vec![group("tg/one", vec![target(upstream.address)], false)],
        ),
    );
    let client = http_client();
    let answer = get(&client, address, "app.example:81", "/").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("x-seen-xff"), "127.0.0.1");
    assert_eq!(answer.header("x-seen-proto"), "http");
    assert_eq!(answer.header("x-seen-port"), address.port().to_string());
    assert_eq!(answer.header("x-seen-host"), "app.example:81", "the client's Host goes to the target");
    assert_eq!(answer.header("x-seen-connection"), "", "hop-by-hop headers are not forwarded");
    let trace = answer.header("x-seen-trace");
    let parts: Vec<&str> = trace.strip_prefix("Root=").expect("a Root").split('-').collect();
    assert_eq!(parts.len(), 3, "{trace}");
    assert_eq!((parts[0], parts[1].len(), parts[2].len()), ("1", 8, 24), "{trace}");
    assert!(parts[1..].iter().all(|part| part.chars().all(|c| c.is_ascii_hexdigit())), "{trace}");

    // An existing X-Forwarded-For is appended to.
    let request = hyper::Request::get(format!("http://{address}/"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-amzn-trace-id", "Root=1-00000000-000000000000000000000001")
        .body(Empty::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.headers()["x-seen-xff"], "203.0.113.9, 127.0.0.1");
    assert_eq!(response.headers()["x-seen-trace"], "Root=1-00000000-000000000000000000000001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_forwarding_splits_within_five_percent() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let proxy = start_proxy();
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener(
                "listener/a",
                vec![rule(None, vec![], forward(&[("tg/blue", 3), ("tg/green", 1), ("tg/none", 0)]))],
            )],
            vec![
                group("tg/blue", vec![target(blue.address)], false),
                group("tg/green", vec![target(green.address)], false),
                group("tg/none", vec![target(closed_port_address())], false),
            ],
        ),
    );
    let client = http_client();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..2000 {
        let answer = get(&client, address, "a", "/").await;
        assert_eq!(answer.status, StatusCode::OK, "weight 0 gets nothing");
        *counts.entry(answer.upstream().to_owned()).or_default() += 1;
    }
    let blue_share = counts["blue"] as f64 / 2000.0;
    assert!((0.70..=0.80).contains(&blue_share), "{counts:?}");
    assert_eq!(counts.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_gateway_service_unavailable_and_gateway_timeout() {
    let proxy = start_proxy();
    let slamming = slamming_server().await;
    let silent = silent_server().await;
    let mut the_listener = listener(
        "listener/a",
        vec![
            rule(Some(1), vec![Condition::PathPattern(vec!["/refused".into()])], forward(&[("tg/refused", 1)])),
            rule(Some(2), vec![Condition::PathPattern(vec!["/reset".into()])], forward(&[("tg/reset", 1)])),
            rule(Some(3), vec![Condition::PathPattern(vec!["/empty".into()])], forward(&[("tg/empty", 1)])),
            rule(Some(4), vec![Condition::PathPattern(vec!["/silent".into()])], forward(&[("tg/silent", 1)])),
            rule(Some(5), vec![Condition::PathPattern(vec!["/missing".into()])], forward(&[("tg/missing", 1)])),
            rule(None, vec![], forward(&[("tg/empty", 1)])),
        ],
    );
    the_listener.idle_timeout_seconds = 1;
    let address = serve(
        &proxy,
        document(
            1,
            vec![the_listener],
            vec![
                group("tg/refused", vec![target(closed_port_address())], false),
                group("tg/reset", vec![target(slamming)], false),
                group("tg/empty", vec![], false),
                group("tg/silent", vec![target(silent)], false),
            ],
        ),
    );
    let client = http_client();
    let refused = get(&client, address, "a", "/refused").await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        refused.body,
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
    );
    assert_eq!(get(&client, address, "a", "/reset").await.status, StatusCode::BAD_GATEWAY);
    let empty = get(&client, address, "a", "/empty").await;
    assert_eq!(empty.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(empty.body.contains("<h1>503 Service Temporarily Unavailable</h1>"), "{}", empty.body);
    assert_eq!(get(&client, address, "a", "/missing").await.status, StatusCode::SERVICE_UNAVAILABLE);
    let silent = get(&client, address, "a", "/silent").await;
    assert_eq!(silent.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(silent.body.contains("<h1>504 Gateway Timeout</h1>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_and_fixed_responses() {
    let proxy = start_proxy();
    let rules = vec![
        rule(
            Some(1),
            vec![Condition::PathPattern(vec!["/old/*".into()])],
            Action::Redirect {
                protocol: "HTTPS".into(),
                port: "443".into(),
                host: "#{host}".into(),
                path: "/new/#{path}".into(),
                query: "#{query}".into(),
                status_code: 301,
            },
        ),
        rule(
            None,
            vec![],
            Action::FixedResponse {
                status_code: 418,
                content_type: Some("text/plain".into()),
                message_body: Some("short and stout".into()),
            },
        ),
    ];
    let address = serve(&proxy, document(1, vec![listener("listener/a", rules)], vec![]));
    let client = http_client();
    let redirect = get(&client, address, "shop.example:8080", "/old/page?x=1").await;
    assert_eq!(redirect.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(redirect.header("location"), "https://shop.example/new/old/page?x=1");
    let fixed = get(&client, address, "shop.example", "/anything").await;
    assert_eq!(fixed.status.as_u16(), 418);
    assert_eq!(fixed.header("content-type"), "text/plain");
    assert_eq!(fixed.body, "short and stout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_the_listener_and_its_connections_across_documents() {
    let (first, second) = (Upstream::start("first").await, Upstream::start("second").await);
    let proxy = start_proxy();
    let the_listener = listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))]);
    let address = serve(
        &proxy,
        document(5, vec![the_listener.clone()], vec![group("tg/app", vec![target(first.address)], false)]),
    );
    // One keep-alive connection for both requests.
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    let connection = tokio::spawn(connection);
    let ask = |sender: &mut hyper::client::conn::http1::SendRequest<Empty<bytes::Bytes>>| {
        sender.send_request(hyper::Request::get("/").header("host", "a").body(Empty::new()).unwrap())
    };
    let response = ask(&mut sender).await.unwrap();
    assert_eq!(response.headers()["x-upstream"], "first");
    response.into_body().collect().await.unwrap();

    let newer = document(6, vec![the_listener.clone()], vec![group("tg/app", vec![target(second.address)], false)]);
    assert_eq!(proxy.apply(newer), ApplyOutcome::Applied);
    assert_eq!(proxy.local_addr("listener/a"), Some(address), "the same socket");
    let response = ask(&mut sender).await.unwrap();
    assert_eq!(response.headers()["x-upstream"], "second", "the same connection sees the new targets");
    response.into_body().collect().await.unwrap();
    assert!(!connection.is_finished());

    // Older or equal generations are ignored.
    let stale = document(6, vec![], vec![]);
    assert_eq!(proxy.apply(stale), ApplyOutcome::Ignored { serving: 6 });
    assert_eq!(proxy.generation(), Some(6));

    // A removed listener closes its socket.
    assert_eq!(proxy.apply(document(7, vec![], vec![])), ApplyOutcome::Applied);
    eventually("the listener socket closes", || async {
        tokio::net::TcpStream::connect(address).await.is_err().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_reported_and_other_listeners_serve() {
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = Upstream::start("one").await;
    let proxy = start_proxy();
    let mut blocked = listener("listener/blocked", vec![rule(None, vec![], forward(&[("tg/one", 1)]))]);
    blocked.bind = occupied.local_addr().unwrap();
    let open = listener("listener/open", vec![rule(None, vec![], forward(&[("tg/one", 1)]))]);
    let applied =
        proxy.apply(document(1, vec![blocked, open], vec![group("tg/one", vec![target(upstream.address)], false)]));
    assert_eq!(applied, ApplyOutcome::Applied);
    let errors = proxy.listener_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].listener_arn, "listener/blocked");
    assert!(errors[0].error.as_deref().unwrap().contains("cannot bind"), "{errors:?}");
    let address = proxy.local_addr("listener/open").unwrap();
    assert_eq!(get(&http_client(), address, "a", "/").await.upstream(), "one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_targets_finish_in_flight_requests_and_get_no_new_ones() {
    let (old, new) = (Upstream::start("old").await, Upstream::start("new").await);
    let proxy = start_proxy();
    let the_listener = listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))]);
    let address =
        serve(&proxy, document(1, vec![the_listener.clone()], vec![group("tg/app", vec![target(old.address)], false)]));
    let client = http_client();
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { get(&client, address, "a", "/slow").await })
    };
    eventually("the slow request reaches the old target", || async {
        (old.hits.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    let draining_document =
        document(2, vec![the_listener], vec![group("tg/app", vec![draining(old.address), target(new.address)], false)]);
    assert_eq!(proxy.apply(draining_document), ApplyOutcome::Applied);
    for _ in 0..20 {
        assert_eq!(get(&client, address, "a", "/").await.upstream(), "new");
    }
    old.release.add_permits(1);
    let finished = in_flight.await.unwrap();
    assert_eq!(finished.status, StatusCode::OK);
    assert_eq!(finished.upstream(), "old");
    assert_eq!(old.hits.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_draining_targets_is_service_unavailable() {
    let upstream = Upstream::start("old").await;
    let proxy = start_proxy();
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))])],
            vec![group("tg/app", vec![draining(upstream.address)], true)],
        ),
    );
    assert_eq!(get(&http_client(), address, "a", "/").await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lb_cookie_stickiness_keeps_a_client_on_one_target() {
    let (one, two) = (Upstream::start("one").await, Upstream::start("two").await);
    let proxy = start_proxy();
    let mut sticky = group("tg/app", vec![target(one.address), target(two.address)], false);
    sticky.stickiness_seconds = Some(300);
    let address = serve(
        &proxy,
        document(1, vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))])], vec![sticky]),
    );
    let client = http_client();
    let first = get(&client, address, "a", "/").await;
    let cookie = first.header("set-cookie").split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("AWSALB="), "{cookie}");
    for _ in 0..10 {
        let request = hyper::Request::get(format!("http://{address}/"))
            .header("cookie", format!("other=1; {cookie}"))
            .body(Empty::new())
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.headers()["x-upstream"], first.upstream());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_access_log_lines_in_alb_order() {
    let upstream = Upstream::start("one").await;
    let directory = tempfile::tempdir().unwrap();
    let log_path = directory.path().join("access.log");
    let proxy = start_proxy();
    let mut the_listener = listener("listener/a", vec![rule(None, vec![], forward(&[("tg/one", 1)]))]);
    the_listener.access_log = Some(log_path.to_string_lossy().into_owned());
    let address =
        serve(&proxy, document(1, vec![the_listener], vec![group("tg/one", vec![target(upstream.address)], false)]));
    let client = http_client();
    for _ in 0..3 {
        assert_eq!(get(&client, address, "logs.example", "/path?q=1").await.status, StatusCode::OK);
    }
    let text = eventually("three access log lines", || async {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        (text.lines().count() == 3).then_some(text)
    })
    .await;
    let line = text.lines().next().unwrap();
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[0], "http");
    assert!(fields[1].ends_with('Z') && fields[1].contains('T'), "{line}");
    assert_eq!(fields[2], "app/web/0123456789abcdef");
    assert!(fields[3].starts_with("127.0.0.1:"), "{line}");
    assert_eq!(fields[4], upstream.address.to_string());
    assert_eq!((fields[8], fields[9]), ("200", "200"), "{line}");
    assert!(line.contains(&format!("\"GET http://logs.example:{}/path?q=1 HTTP/1.1\"", address.port())), "{line}");
    assert!(line.contains(" tg/one "), "{line}");
}
