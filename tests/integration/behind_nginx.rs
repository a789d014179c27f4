//! url-api behind Debian's nginx with nginx's default proxy settings, as a first deployment
//! puts it: nginx speaks HTTP/1.0 to its upstream and closes each connection.

use adapter_ratelimit::LimitSettings;
use integration_tests::nginx::Nginx;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use reqwest::StatusCode;
use serde_json::{Value, json};

use adapter_http::Engine;
use rstest::rstest;

use crate::rate_limits::per_minute;
use crate::url_api_app::TestApp;

#[rstest]
#[async_std::test]
async fn shorten_follow_and_list_through_a_default_nginx(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db.url, engine).await;
    let nginx = Nginx::start(app.addr);
    let through = |path: &str| format!("http://{}{path}", nginx.addr);

    let res = app
        .client
        .post(through("/api/v1/urls"))
        .json(&json!({"original_url": "https://example.com/behind-nginx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["short_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = app
        .client
        .get(through(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"],
        "https://example.com/behind-nginx"
    );

    let res = app
        .client
        .get(through("/api/v1/links"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["links"][0]["short_code"], code.as_str());

    // nginx logs a request once it has finished it, which can be just after the client has
    // its response.
    let nginx = &nginx;
    wait::until(
        "nginx's access log of the three requests",
        100,
        || async move {
            let log = nginx.access_log();
            (log.lines().count() == 3).then_some(())
        },
    )
    .await;
    app.stop().await;
}

/// Behind nginx configured as most guides say (`$proxy_add_x_forwarded_for`), a visitor who
/// writes an `X-Forwarded-For` or `Forwarded` of its own still spends its own budget: url-api
/// believes only the address nginx appended.
#[rstest]
#[async_std::test]
async fn a_visitor_cannot_pass_for_another_through_a_forwarding_nginx(
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn_with(&db.url, |config| {
        config.api.engine = engine;
        config.api.trusted_proxies = 1;
        config.api.rate_limits = Some(LimitSettings {
            shorten: per_minute(10),
            manage: per_minute(10),
            redirect: per_minute(3),
            max_spenders: 1000,
        });
    })
    .await;
    let nginx = Nginx::start_forwarding(app.addr);
    let code = app.shorten("https://example.com/spoofed").await["short_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut statuses = Vec::new();
    for n in 0..4 {
        let res = app
            .anonymous
            .get(format!("http://{}/{code}", nginx.addr))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .header("forwarded", format!("for=198.51.100.{n}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [302, 302, 302, 429]);

    // The header is read: straight to url-api, with no proxy to append, its one entry is taken
    // for the visitor, who has a budget of its own.
    let res = app
        .anonymous
        .get(app.url(&format!("/{code}")))
        .header("x-forwarded-for", "203.0.113.77")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    app.stop().await;
}
