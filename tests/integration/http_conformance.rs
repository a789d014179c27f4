//! url-api's HTTP/1 as real clients and proxies speak it, over raw sockets: HTTP/1.0,
//! pipelining, malformed requests, and clients that keep a connection waiting.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use adapter_http::ClientTimeouts;
use rstest::rstest;

use adapter_http::Engine;

use crate::url_api_app::{Composition, TestApp};

/// Far longer than any timeout under test: a read that waits this long means the server kept
/// the connection open (a generous bound, not a measurement).
const GIVE_UP: Duration = Duration::from_secs(30);

/// What a raw exchange got back: the bytes, and whether the server closed the connection.
struct Reply {
    bytes: Vec<u8>,
    closed: bool,
}

/// Writes `request` as it is, then reads until the server closes the connection (or
/// [`GIVE_UP`] passes).
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> Reply {
    async_std::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(GIVE_UP)).unwrap();
        stream.write_all(&request).unwrap();
        read_to_close(&mut stream)
    })
    .await
}

fn read_to_close(stream: &mut TcpStream) -> Reply {
    let mut bytes = Vec::new();
    let mut buf = [0; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => {
                return Reply {
                    bytes,
                    closed: true,
                };
            }
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            // A reset after the server closed with bytes unread is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Reply {
                    bytes,
                    closed: true,
                };
            }
            Err(_) => {
                return Reply {
                    bytes,
                    closed: false,
                };
            }
        }
    }
}

/// The responses in `bytes`, in order: status line and body of each (bodies by
/// `Content-Length`, which every url-api response has).
fn responses(bytes: &[u8]) -> Vec<(String, String)> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body = &rest[end + 4..(end + 4 + len).min(rest.len())];
        out.push((
            head.lines().next().unwrap_or_default().to_owned(),
            String::from_utf8_lossy(body).into_owned(),
        ));
        rest = &rest[(end + 4 + len).min(rest.len())..];
    }
    out
}

fn statuses(bytes: &[u8]) -> Vec<String> {
    responses(bytes)
        .into_iter()
        .map(|(status, _)| status)
        .collect()
}

#[rstest]
#[async_std::test]
async fn http_1_0_clients_shorten_list_and_follow(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let body = r#"{"original_url":"https://example.com/via-http-1.0"}"#;

    let shorten = format!(
        "POST /api/v1/urls HTTP/1.0\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        app.authorization(),
        body.len()
    );
    let reply = exchange(app.addr, shorten.into_bytes()).await;
    let created = responses(&reply.bytes);
    assert_eq!(created[0].0, "HTTP/1.0 201 Created", "{created:?}");
    assert!(
        reply.closed,
        "an HTTP/1.0 connection closes after its response"
    );
    let link: serde_json::Value = serde_json::from_str(&created[0].1).unwrap();
    let code = link["short_code"].as_str().unwrap();

    let reply = exchange(
        app.addr,
        format!("GET /{code} HTTP/1.0\r\n\r\n").into_bytes(),
    )
    .await;
    let text = String::from_utf8_lossy(&reply.bytes);
    assert!(text.starts_with("HTTP/1.0 302 Found\r\n"), "{text}");
    assert!(
        text.contains("location: https://example.com/via-http-1.0\r\n"),
        "{text}"
    );

    let reply = exchange(
        app.addr,
        format!(
            "GET /api/v1/links HTTP/1.0\r\nHost: sho.rt\r\n{}\r\n",
            app.authorization()
        )
        .into_bytes(),
    )
    .await;
    let listed = responses(&reply.bytes);
    assert_eq!(listed[0].0, "HTTP/1.0 200 OK");
    assert!(listed[0].1.contains(code), "{listed:?}");
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn pipelined_requests_get_their_responses_in_order(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let code = app.shorten("https://example.com/piped").await["short_code"]
        .as_str()
        .unwrap()
        .to_owned();

    // Three requests in one write, before any response.
    let requests = format!(
        "GET /{code} HTTP/1.1\r\nHost: sho.rt\r\n\r\n\
         GET /api/v1/links/{code} HTTP/1.1\r\nHost: sho.rt\r\n{}\r\n\
         GET /api/v1/nowhere HTTP/1.1\r\nHost: sho.rt\r\nConnection: close\r\n\r\n",
        app.authorization()
    );
    let reply = exchange(app.addr, requests.into_bytes()).await;

    assert_eq!(
        statuses(&reply.bytes),
        [
            "HTTP/1.1 302 Found",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found"
        ]
    );
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn malformed_requests_get_a_4xx_response(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let big_header = format!(
        "GET /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    // Requests hyper can't parse close the connection; those it can but url-api refuses keep
    // it, so they ask for a close to let the exchange end.
    let long_target = format!(
        "GET /{} HTTP/1.1\r\nHost: sho.rt\r\nConnection: close\r\n\r\n",
        "a".repeat(10 * 1024)
    );
    let cases: [(&str, Vec<u8>, &str); 8] = [
        (
            "a junk request line",
            b"HELLO THERE\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        ("a 64 KB header", big_header.into_bytes(), "HTTP/1.1 431"),
        (
            "a 10 KB request target",
            long_target.into_bytes(),
            "HTTP/1.1 414",
        ),
        (
            "a NUL in a header",
            b"GET /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\nX-A: a\0b\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        (
            "HTTP/1.1 without Host",
            b"GET /api/v1/links HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        (
            "two Host headers",
            b"GET /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\nHost: evil.example\r\nConnection: close\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        (
            "CONNECT's host:port target",
            b"CONNECT sho.rt:443 HTTP/1.1\r\nHost: sho.rt:443\r\nConnection: close\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        (
            "a Host that is not a host",
            b"GET /api/v1/links HTTP/1.1\r\nHost: sho.rt/x?\r\nConnection: close\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
    ];
    for (what, request, expected) in cases {
        let reply = exchange(app.addr, request).await;
        let got = statuses(&reply.bytes);
        assert!(
            got.len() == 1 && got[0].starts_with(expected),
            "{what}: expected {expected}, got {got:?}"
        );
        assert!(reply.closed, "{what}: the connection was not closed");
    }
    app.stop().await;
}

/// `Content-Length` with `Transfer-Encoding` is how requests are smuggled past a proxy: the body
/// is read by `Transfer-Encoding` alone, and the connection is closed after the one response
/// (RFC 9112 §6.1), so the bytes after the chunked body are never taken for a request.
#[rstest]
#[async_std::test]
async fn content_length_with_transfer_encoding_smuggles_nothing(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let smuggled = "GET /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\n\r\n";
    let request = format!(
        "POST /api/v1/urls HTTP/1.1\r\nHost: sho.rt\r\n{}Content-Type: application/json\r\n\
         Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}",
        app.authorization(),
        5 + smuggled.len()
    );

    let reply = exchange(app.addr, request.into_bytes()).await;

    let got = responses(&reply.bytes);
    assert_eq!(
        got.len(),
        1,
        "one response, none to the smuggled request: {got:?}"
    );
    assert_eq!(got[0].0, "HTTP/1.1 400 Bad Request");
    assert!(got[0].1.contains("malformed-json"), "{got:?}");
    assert!(reply.closed);
    app.stop().await;
}

async fn app_with(composition: Composition, engine: Engine, timeouts: ClientTimeouts) -> TestApp {
    TestApp::start_with(composition, engine, |config| {
        config.client_timeouts = timeouts
    })
    .await
}

#[rstest]
#[async_std::test]
async fn a_client_that_stops_mid_header_is_cut_off_at_the_header_timeout(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    // The idle timeout is longer than this test waits: only the header timeout can close it.
    let app = app_with(
        composition,
        engine,
        ClientTimeouts {
            header: Duration::from_millis(300),
            idle: GIVE_UP * 4,
        },
    )
    .await;

    let reply = exchange(app.addr, b"GET /api/v1/links HTTP/1.1\r\nHost: sh".to_vec()).await;

    assert!(reply.closed, "a half-sent request head held the connection");
    assert!(
        reply.bytes.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    // The header timeout is longer than this test waits: only the idle timeout can close it.
    let app = app_with(
        composition,
        engine,
        ClientTimeouts {
            header: GIVE_UP * 4,
            idle: Duration::from_millis(300),
        },
    )
    .await;

    let reply = exchange(
        app.addr,
        format!(
            "GET /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\n{}\r\n",
            app.authorization()
        )
        .into_bytes(),
    )
    .await;

    assert_eq!(statuses(&reply.bytes), ["HTTP/1.1 200 OK"]);
    assert!(reply.closed, "an idle kept-alive connection stayed open");
    app.stop().await;
}
