//! The embedded shortener as a user runs it: its real binary on a data directory of its own,
//! stopped with SIGTERM and started again. (The HTTP API's own tests run on it too: see
//! `Composition`.)

use std::path::Path;

use integration_tests::process::{Service, created_key, shortener_admin};
use integration_tests::wait;
use reqwest::StatusCode;
use serde_json::Value;

use adapter_http::Engine;
use rstest::rstest;

use crate::url_api_app::client_with;

/// The shortener serving `dir` on `engine`, with the shipped configuration and no rate limits
/// (a test is one address sending a burst).
fn start(dir: &Path, engine: Engine) -> Service {
    let config = format!(
        "{}/../bootstrap/etc/shortener.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let vars = [
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ("BASE_URL", "http://sho.rt".to_owned()),
        ("DATA_DIR", dir.display().to_string()),
        ("RATE_LIMITS_ENABLED", "false".to_owned()),
        ("HTTP_ENGINE", engine.name().to_owned()),
    ];
    Service::start("shortener", &config, &vars)
}

/// `shortener admin keys create`, as the README has users make their first key.
fn make_key(dir: &Path) -> String {
    created_key(&shortener_admin(
        dir,
        &["keys", "create", "--name", "me", "--role", "admin"],
    ))
}

async fn total_clicks(client: &reqwest::Client, service: &Service, code: &str) -> Value {
    let res = client
        .get(format!("http://{}/api/v1/links/{code}", service.addr()))
        .send()
        .await
        .expect("GET the link");
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.expect("JSON")["total_clicks"].clone()
}

async fn follow(client: &reqwest::Client, service: &Service, code: &str, times: usize) {
    for _ in 0..times {
        let res = client
            .get(format!("http://{}/{code}", service.addr()))
            .send()
            .await
            .expect("GET /{code}");
        assert_eq!(res.status(), StatusCode::FOUND);
    }
}

/// On either engine: each runs the process on its own runtime, the queue's drain included.
#[rstest]
#[async_std::test]
async fn clicks_are_counted_exactly_in_process_and_links_and_counts_survive_a_restart(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let dir = tempfile::tempdir().expect("a temp directory");
    let key = make_key(dir.path());
    let client = client_with(Some(&domain::ApiKey::parse(&key).expect("a key")));
    let shortener = start(dir.path(), engine);
    let shortened: Value = client
        .post(format!("http://{}/api/v1/urls", shortener.addr()))
        .json(&serde_json::json!({ "original_url": "https://example.com/embedded" }))
        .send()
        .await
        .expect("POST /api/v1/urls")
        .json()
        .await
        .expect("JSON");
    let code = shortened["short_code"].as_str().expect("a code").to_owned();

    follow(&client, &shortener, &code, 50).await;
    // HEAD answers as GET does, and counts nothing.
    for _ in 0..5 {
        let res = client
            .head(format!("http://{}/{code}", shortener.addr()))
            .send()
            .await
            .expect("HEAD /{code}");
        assert_eq!(res.status(), StatusCode::FOUND);
    }
    wait::until("50 clicks counted", 100, || async {
        (total_clicks(&client, &shortener, &code).await == 50).then_some(())
    })
    .await;

    // Clicks still queued when SIGTERM comes are stored before the process exits.
    follow(&client, &shortener, &code, 20).await;
    shortener.terminate();
    let again = start(dir.path(), engine);

    assert_eq!(total_clicks(&client, &again, &code).await, 70);
    follow(&client, &again, &code, 1).await;
    let listed: Value = client
        .get(format!("http://{}/api/v1/links", again.addr()))
        .send()
        .await
        .expect("GET /api/v1/links")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["total_count"], 1, "{listed}");
    again.terminate();
}

#[async_std::test]
async fn the_key_tool_on_the_embedded_file_speaks_as_admin_does() {
    let dir = tempfile::tempdir().expect("a temp directory");
    let run = |args: &[&str]| shortener_admin(dir.path(), args);

    let unknown = run(&["keys", "revoke", "999999"]);
    assert!(!unknown.status.success());
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "shortener admin: no key has the id 999999\n"
    );
    let usage = run(&["keys", "create", "--name", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = String::from_utf8_lossy(&usage.stderr);
    assert!(
        usage.starts_with("shortener admin: --role is required"),
        "{usage}"
    );
    assert!(
        usage.contains("usage: shortener admin keys create"),
        "{usage}"
    );
}
