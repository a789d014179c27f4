//! The whole HTTP API: url-api started as its binary starts it, over a real PostgreSQL.

use reqwest::StatusCode;
use rstest::rstest;
use serde_json::{Value, json};

use adapter_http::Engine;

use crate::url_api_app::{BASE_URL, Composition, TestApp};

async fn problem(res: reqwest::Response) -> Value {
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    res.json().await.unwrap()
}

#[rstest]
#[async_std::test]
async fn shorten_then_follow_the_link(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;

    let res = app
        .client
        .post(app.url("/api/v1/urls"))
        .json(&json!({"original_url": "https://example.com/some/page?x=1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    let code = body["short_code"].as_str().unwrap();
    assert_eq!(code.len(), 8);
    assert!(code.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(body["short_url"], format!("{BASE_URL}/{code}"));
    assert_eq!(body["original_url"], "https://example.com/some/page?x=1");
    assert_eq!(location, format!("{BASE_URL}/api/v1/links/{code}"));

    let res = app
        .client
        .get(app.url(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"],
        "https://example.com/some/page?x=1"
    );
    assert_eq!(res.headers()["cache-control"], "private, max-age=0");

    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn bad_urls_get_400_with_the_reason(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;

    for (input, reason) in [
        (
            "javascript:alert(1)",
            "the scheme 'javascript' is not allowed; use http or https",
        ),
        (
            "https://user:pw@example.com/",
            "the URL must not contain a user name or password",
        ),
        (
            "example.com",
            "the URL is not absolute; it must start with http:// or https://",
        ),
        // The URL policy, with the shipped configuration: no non-public address however it is
        // spelled, and not the service's own host (BASE_URL http://sho.rt).
        (
            "http://0x7f.1:6470/metrics",
            "links to loopback addresses are not allowed (127.0.0.1)",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "links to link-local addresses are not allowed (169.254.169.254)",
        ),
        (
            "http://SHO.RT/abcDEF12",
            "links to this service's own host (sho.rt) would redirect to themselves",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/urls"))
            .json(&json!({ "original_url": input }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{input}");
        assert_eq!(problem(res).await["detail"], reason);
    }
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn bad_json_gets_400_naming_the_problem(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;

    for (body, detail) in [
        (
            "{\"original_url\":",
            "the body is not valid JSON: EOF while parsing a value at line 1 column 16",
        ),
        (
            "{}",
            "the JSON body does not fit: missing field `original_url` at line 1 column 2",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/urls"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem(res).await["detail"], detail);
    }
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn a_3_mb_body_gets_413(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let url = format!("https://example.com/{}", "a".repeat(3 * 1024 * 1024));

    let res = app
        .client
        .post(app.url("/api/v1/urls"))
        .json(&json!({ "original_url": url }))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(res).await["status"], 413);
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn a_malformed_code_is_404_without_touching_the_database(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    // A database that can't be reached: any lookup would fail with 503, not 404.
    let app = TestApp::spawn("postgres://postgres:postgres@127.0.0.1:1/none", engine).await;

    let malformed = app.client.get(app.url("/abc")).send().await.unwrap();
    let well_formed = app.client.get(app.url("/abcdefgh")).send().await.unwrap();

    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        problem(malformed).await["type"],
        "urn:shortener:problem:not-found"
    );
    assert_eq!(well_formed.status(), StatusCode::SERVICE_UNAVAILABLE);
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn an_unknown_code_is_404(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;

    let res = app.client.get(app.url("/abcdefgh")).send().await.unwrap();

    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn a_deleted_link_is_gone(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let code = app.shorten("https://example.com/").await["short_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.url(&format!("/api/v1/links/{code}"));

    let deleted = app.client.delete(&link).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let redirect = app
        .client
        .get(app.url(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::NOT_FOUND);
    let detail = app.client.get(&link).send().await.unwrap();
    assert_eq!(detail.status(), StatusCode::NOT_FOUND);
    let again = app.client.delete(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Only the stack has an analytics service to be absent; the embedded shortener counts in
/// process (embedded.rs).
#[rstest]
#[async_std::test]
async fn detail_shows_the_link_with_null_clicks_while_analytics_is_absent(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(Composition::Stack, engine).await;
    let code = app.shorten("https://example.com/d").await["short_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = app
        .client
        .get(app.url(&format!("/api/v1/links/{code}")))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["short_code"], code.as_str());
    assert_eq!(body["original_url"], "https://example.com/d");
    assert_eq!(body["total_clicks"], Value::Null);
    let created_at = body["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'),
        "{created_at}"
    );
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn list_pages_sorts_and_searches(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    for url in [
        "https://c.example/",
        "https://a.example/50%25_off",
        "https://b.example/",
    ] {
        app.shorten(url).await;
    }

    let get = |query: &str| {
        let request = app.client.get(app.url(&format!("/api/v1/links?{query}")));
        async move {
            let res = request.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };

    let (status, body) = get("per_page=2&sort=original_url&order=asc").await;
    assert_eq!(status, StatusCode::OK);
    let urls: Vec<&str> = body["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["original_url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["https://a.example/50%25_off", "https://b.example/"]);
    assert_eq!(
        (
            &body["page"],
            &body["per_page"],
            &body["total_pages"],
            &body["total_count"]
        ),
        (&json!(1), &json!(2), &json!(2), &json!(3))
    );

    // The term is "%25_off", taken literally.
    let (_, body) = get("search=%2525_off").await;
    assert_eq!(body["total_count"], 1);

    let (status, body) = get("per_page=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["detail"], "per_page must be between 1 and 100");

    let (status, body) = get("colour=blue").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("unknown query parameter 'colour'")
    );

    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn stopping_refuses_new_connections(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let addr = app.addr;
    let client = app.client.clone();

    app.stop().await;

    let after = client.get(format!("http://{addr}/abcdefgh")).send().await;
    assert!(after.is_err(), "still serving after stop: {after:?}");
}

/// A shorten request whose body is still coming: it holds a slot until the body is finished.
async fn hold_a_slot(addr: std::net::SocketAddr) -> async_std::net::TcpStream {
    use async_std::io::WriteExt;

    let mut held = async_std::net::TcpStream::connect(addr).await.unwrap();
    held.write_all(
        b"POST /api/v1/urls HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\n5\r\n{\"ori\r\n",
    )
    .await
    .unwrap();
    held
}

#[rstest]
#[async_std::test]
async fn over_max_conns_the_next_request_gets_503_at_once(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    use async_std::io::{ReadExt, WriteExt};

    let app = TestApp::start_with(composition, engine, |config| {
        config.max_conns = 1;
        // The held request must outlive the probing below, however slow a busy machine makes it.
        config.guards.timeout = std::time::Duration::from_secs(600);
    })
    .await;
    // Hold the only slot with a request whose body is still coming, then ask until a request
    // is refused. The held request reaches the server on its own schedule: when a probe is in
    // flight as it arrives, the probe has the slot and the held request is the one refused
    // (it is answered); then it is sent again.
    let mut held = hold_a_slot(app.addr).await;
    let mut refused = None;
    for _ in 0..3000 {
        let res = app.client.get(app.url("/abcdefgh")).send().await.unwrap();
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(problem(res).await);
            break;
        }
        let mut first = [0_u8; 1];
        let answered =
            async_std::io::timeout(std::time::Duration::from_millis(10), held.peek(&mut first))
                .await;
        if answered.is_ok() {
            held = hold_a_slot(app.addr).await;
        }
    }
    let refused = refused.expect("a request over max_conns was served");
    assert_eq!(
        refused["type"],
        "urn:shortener:problem:too-many-requests-in-progress"
    );

    // The held request finishes (its body is not JSON), and its slot is free again.
    held.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = [0_u8; 12];
    held.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 400");
    let res = app.client.get(app.url("/abcdefgh")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Sends a request byte for byte and returns the whole response, as a bare client would.
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    use async_std::io::{ReadExt, WriteExt};

    let mut stream = async_std::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[rstest]
#[async_std::test]
async fn a_body_without_a_content_type_gets_415_saying_what_to_send(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let body = r#"{"original_url":"https://example.com/"}"#;

    let response = raw(
        app.addr,
        &format!(
            "POST /api/v1/urls HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;

    assert!(response.starts_with("HTTP/1.1 415"), "{response}");
    let problem: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("send the body as JSON, with Content-Type: application/json"),
        "{problem}"
    );
    app.stop().await;
}

/// Reads one response from a kept-alive connection: the status line and whether it closes the
/// connection, or `None` when nothing arrives in time.
async fn one_response(stream: &mut async_std::net::TcpStream) -> Option<(String, bool)> {
    use async_std::io::ReadExt;

    let read = async {
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await? == 0 {
                return Ok(None);
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |n| n.trim().parse().unwrap());
        let mut body = vec![0_u8; length];
        stream.read_exact(&mut body).await?;
        let status = head.lines().next().unwrap_or_default().to_owned();
        Ok(Some((status, head.contains("connection: close"))))
    };
    async_std::io::timeout(std::time::Duration::from_secs(10), read)
        .await
        .ok()
        .flatten()
}

#[rstest]
#[async_std::test]
async fn a_body_the_route_never_reads_does_not_hang_the_next_request_on_its_connection(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    use async_std::io::WriteExt;

    let app = TestApp::start(composition, engine).await;
    let body = br#"{"original_url":"https://example.com/"}"#;
    // Head and body in two writes, as most clients send them, to a route that doesn't take the
    // method; then at once the next request on the same connection. Before this was fixed, about
    // one in four of these hung.
    for round in 0..50 {
        let mut stream = async_std::net::TcpStream::connect(app.addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let head = format!(
            "DELETE /api/v1/urls HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let (status, closes) = one_response(&mut stream).await.expect("the 405");
        assert!(
            status.starts_with("http/1.1 405"),
            "round {round}: {status}"
        );
        let next = stream
            .write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
            .await;
        if closes {
            // Told to go: the next request goes on a new connection.
            let answered = match next {
                Ok(()) => one_response(&mut stream).await,
                Err(_) => None,
            };
            assert!(answered.is_none(), "round {round}: served after closing");
        } else {
            next.unwrap();
            let answered = one_response(&mut stream).await;
            assert!(
                answered.is_some_and(|(status, _)| status.starts_with("http/1.1 200")),
                "round {round}: the next request hung"
            );
        }
    }
    app.stop().await;
}
