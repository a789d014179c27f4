//! The findings of a hostile probe of the running services, each kept as a test: one bad request
//! or event must never stop counting, open a breaker for everyone else, or grow a process.
//! Each test here runs the real binaries and talks to them as any client could.

use adapter_grpc::proto::GetClickCountRequest;
use adapter_http::Engine;
use futures::future::join_all;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;
use integration_tests::metrics::sample;
use integration_tests::postgres::TestDatabase;
use integration_tests::process::Service;
use prost::Message;
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dev_get;
use crate::stack::Stack;

/// Requests a client could send that are its own mistakes: each must get a 400, none may count
/// against the database's breaker.
const BAD_LISTS: [&str; 8] = [
    "/api/v1/links?search=%00",
    "/api/v1/links?search=rust%00",
    "/api/v1/links?search=%01%02",
    "/api/v1/links?search=a%0Ab",
    "/api/v1/links?search=%FF",
    "/api/v1/links?page=0",
    "/api/v1/links?per_page=1000",
    "/api/v1/links?sort=id;drop",
];
const BAD_URLS: [&str; 3] = [
    "https://example.com/\u{0}",
    "https://exa\u{0}mple.com/",
    "javascript:alert(1)",
];

async fn status(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[rstest]
#[async_std::test]
async fn a_thousand_bad_requests_leave_the_breaker_closed_while_good_ones_keep_working(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let (stack, _consumer) = Stack::start_on(engine).await;
    let code = stack.shorten("https://example.com/still-here").await;
    let (stack, client) = (&stack, &stack.client);

    for round in 0..100 {
        // Ten bad requests at once...
        let bad = join_all((0..10).map(|i| {
            let n = round * 10 + i;
            async move {
                let res = if n % 3 == 0 {
                    let url = BAD_URLS[n % BAD_URLS.len()];
                    client
                        .post(stack.url("/api/v1/urls"))
                        .json(&json!({ "original_url": url }))
                        .send()
                        .await
                } else {
                    client
                        .get(stack.url(BAD_LISTS[n % BAD_LISTS.len()]))
                        .send()
                        .await
                };
                status(res.unwrap()).await
            }
        }))
        .await;
        for (status, body) in bad {
            assert_eq!(status, 400, "round {round}: {body}");
        }
        // ...and the good ones keep working all along.
        let list = client
            .get(stack.url("/api/v1/links?search=still"))
            .send()
            .await;
        let (status, body) = status(list.unwrap()).await;
        assert_eq!(
            (status, &body["total_count"]),
            (200, &json!(1)),
            "round {round}"
        );
        let detail = client
            .get(stack.url(&format!("/api/v1/links/{code}")))
            .send();
        assert_eq!(status_of(detail.await.unwrap()), 200, "round {round}");
    }
    stack.shorten("https://example.com/after-the-storm").await;

    let (_, metrics) = dev_get(client, &stack.api, "/metrics").await;
    let breaker = [("breaker", "postgres:urls")];
    assert_eq!(
        sample(&metrics, "breaker_drop_ratio", &breaker),
        Some(0.0),
        "{metrics}"
    );
    let failures = sample(
        &metrics,
        "breaker_requests_total",
        &[("breaker", "postgres:urls"), ("outcome", "failure")],
    );
    assert_eq!(failures.unwrap_or(0.0), 0.0, "{metrics}");
}

fn status_of(res: reqwest::Response) -> u16 {
    res.status().as_u16()
}

#[rstest]
#[async_std::test]
async fn a_head_answers_like_a_get_but_counts_no_click(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let (stack, _consumer) = Stack::start_on(engine).await;
    let code = stack.shorten("https://example.com/previewed").await;

    for _ in 0..3 {
        let res = stack
            .client
            .head(stack.url(&format!("/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()["location"], "https://example.com/previewed");
        assert_eq!(res.headers()["cache-control"], "private, max-age=0");
    }
    stack.follow(&code, 2).await;

    // A link's clicks are counted in order, so once the two GETs are counted, any click from
    // the HEADs before them would be too.
    assert_eq!(stack.wait_for_clicks(&code, 2).await, 2);
}

/// analytics-rpc, run as its binary with its shipped configuration (shedding off: the test
/// machine's CPU is busy with the tests), on a database of its own.
async fn analytics_rpc() -> (Service, TestDatabase) {
    let db = TestDatabase::create().await;
    let shipped = include_str!("../../bootstrap/etc/analytics-rpc.yaml");
    let config = std::env::temp_dir().join(format!("analytics-rpc-{}.yaml", Uuid::now_v7()));
    std::fs::write(
        &config,
        shipped.replace("shedding: true", "shedding: false"),
    )
    .unwrap();
    let rpc = Service::start(
        "analytics-rpc",
        &config.display().to_string(),
        &[
            ("DATABASE_URL", db.url.clone()),
            ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ],
    );
    // Read at start: the machine's temporary directory keeps nothing of a test.
    let _ = std::fs::remove_file(&config);
    (rpc, db)
}

/// An HTTP/2 connection for sending gRPC requests byte for byte, as a hostile client would.
async fn raw_grpc(addr: &str) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    sender
}

/// Sends `body` as the request of `path` and returns the call's gRPC status code.
async fn call(sender: &mut SendRequest<Full<Bytes>>, path: &str, body: Vec<u8>) -> tonic::Code {
    let req = hyper::Request::post(format!("http://rpc{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let (parts, body) = res.into_parts();
    // An error comes in the headers (trailers-only), a success's status in the trailers.
    let trailers = body.collect().await.unwrap().trailers().cloned();
    let status = parts
        .headers
        .get("grpc-status")
        .or_else(|| trailers.as_ref().and_then(|t| t.get("grpc-status")));
    let code = status.and_then(|s| s.to_str().ok()?.parse::<i32>().ok());
    tonic::Code::from_i32(code.expect("a grpc-status"))
}

fn framed(message: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend(message);
    body
}

async fn dev_metrics(service: &Service) -> String {
    dev_get(&reqwest::Client::new(), service, "/metrics")
        .await
        .1
}

const GET_CLICK_COUNT: &str = "/analytics.v1.Analytics/GetClickCount";

#[async_std::test]
async fn malformed_grpc_requests_are_invalid_arguments_and_never_trip_the_breaker() {
    let (rpc, _db) = analytics_rpc().await;
    let mut sender = raw_grpc(rpc.addr()).await;
    let valid = GetClickCountRequest {
        short_code: "abcDEF12".into(),
    }
    .encode_to_vec();
    let malformed: [Vec<u8>; 5] = [
        framed(b"\xff\xff\xff\xff\xff"),
        framed(b"\x0a\x05abc"),
        framed(b"\x0a\x02\xc3\x28"),
        framed(&valid)[..6].to_vec(),
        vec![],
    ];

    for i in 0..300 {
        let code = call(
            &mut sender,
            GET_CLICK_COUNT,
            malformed[i % malformed.len()].clone(),
        )
        .await;
        assert_eq!(code, tonic::Code::InvalidArgument, "call {i}");
    }
    // Valid calls are served as ever.
    for _ in 0..20 {
        assert_eq!(
            call(&mut sender, GET_CLICK_COUNT, framed(&valid)).await,
            tonic::Code::Ok
        );
    }

    let metrics = dev_metrics(&rpc).await;
    let breaker = format!("grpc-server:{GET_CLICK_COUNT}");
    assert_eq!(
        sample(&metrics, "breaker_drop_ratio", &[("breaker", &breaker)]),
        Some(0.0),
        "{metrics}"
    );
    let failures = sample(
        &metrics,
        "breaker_requests_total",
        &[("breaker", &breaker), ("outcome", "failure")],
    );
    assert_eq!(failures.unwrap_or(0.0), 0.0);
    assert_eq!(
        sample(
            &metrics,
            "rpc_server_requests_code_total",
            &[("method", GET_CLICK_COUNT), ("code", "3")]
        ),
        Some(300.0)
    );
}

#[async_std::test]
async fn junk_paths_share_one_metric_label_and_make_no_breakers() {
    let (rpc, _db) = analytics_rpc().await;
    let mut sender = raw_grpc(rpc.addr()).await;
    let valid = framed(
        &GetClickCountRequest {
            short_code: "abcDEF12".into(),
        }
        .encode_to_vec(),
    );
    assert_eq!(
        call(&mut sender, GET_CLICK_COUNT, valid).await,
        tonic::Code::Ok
    );
    let before = dev_metrics(&rpc).await;

    for i in 0..300 {
        let path = format!("/analytics.v1.Analytics/Junk{i:03}");
        assert_eq!(
            call(&mut sender, &path, framed(b"")).await,
            tonic::Code::Unimplemented
        );
    }

    let after = dev_metrics(&rpc).await;
    assert!(!after.contains("Junk"), "a junk path became a label");
    assert_eq!(
        sample(
            &after,
            "rpc_server_requests_code_total",
            &[("method", "other"), ("code", "12")]
        ),
        Some(300.0),
        "{after}"
    );
    let breakers = |metrics: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with("breaker_drop_ratio{"))
            .count()
    };
    // One for each of the service's own methods, and one for its database.
    assert_eq!(breakers(&after), 3, "{after}");
    assert_eq!(breakers(&after), breakers(&before));
    // The "other" series are all that 300 paths added: a few kilobytes, not megabytes.
    assert!(
        after.len() < before.len() + 4096,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}
