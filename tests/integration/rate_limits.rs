//! Rate limits through a real url-api: 429 after a burst, with `Retry-After` and the
//! `RateLimit` headers, each key and each budget counted apart.

use std::time::Duration;

use adapter_ratelimit::LimitSettings;
use application::ports::Quota;
use domain::{ApiKey, Role};
use reqwest::StatusCode;
use rstest::rstest;
use serde_json::{Value, json};

use adapter_http::Engine;

use crate::url_api_app::{Composition, TestApp};

pub(crate) fn per_minute(limit: u32) -> Quota {
    Quota {
        limit,
        window: Duration::from_secs(60),
    }
}

async fn app(composition: Composition, engine: Engine) -> TestApp {
    TestApp::start_with(composition, engine, |config| {
        config.rate_limits = Some(LimitSettings {
            shorten: per_minute(3),
            manage: per_minute(5),
            redirect: per_minute(4),
            max_spenders: 1000,
        });
    })
    .await
}

#[rstest]
#[async_std::test]
async fn a_burst_over_the_budget_gets_429_with_when_to_retry(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = app(composition, engine).await;
    let shorten = |client: &reqwest::Client| {
        client
            .post(app.url("/api/v1/urls"))
            .json(&json!({ "original_url": "https://example.com/burst" }))
            .send()
    };

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = shorten(&app.client).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["ratelimit-policy"], "\"shorten\";q=3;w=60");
        remaining.push(res.headers()["ratelimit"].to_str().unwrap().to_owned());
    }
    assert_eq!(
        remaining,
        [
            "\"shorten\";r=2;t=20",
            "\"shorten\";r=1;t=40",
            "\"shorten\";r=0;t=60"
        ]
    );

    let refused = shorten(&app.client).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "urn:shortener:problem:rate-limited");

    // Another key has a budget of its own; the same key's other budgets are untouched.
    let other = app.client_as(Role::Member).await;
    assert_eq!(shorten(&other).await.unwrap().status(), StatusCode::CREATED);
    let listed = app
        .client
        .get(app.url("/api/v1/links"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn redirects_are_limited_by_address_and_so_are_guessed_keys(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = app(composition, engine).await;
    let code = app.shorten("https://example.com/popular").await["short_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = app
            .anonymous
            .get(app.url(&format!("/{code}")))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [302, 302, 302, 302, 429]);

    // Guessing keys spends the guesser's address's budget, like any other request.
    let mut statuses = Vec::new();
    for n in 0..6u8 {
        let res = app
            .anonymous
            .get(app.url("/api/v1/links"))
            .bearer_auth(ApiKey::from_secret([n; 32]).reveal())
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    app.stop().await;
}
