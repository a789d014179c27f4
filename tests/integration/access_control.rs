//! API keys and ownership through a real url-api on a real PostgreSQL: who may list, read,
//! delete and shorten, and what a missing, wrong or revoked key gets.

use std::time::{Duration, Instant};

use adapter_postgres::PgKeyStore;
use application::ports::SystemClock;
use application::use_cases::revoke_key;
use domain::{ApiKey, Role};
use integration_tests::postgres::TestDatabase;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use adapter_http::Engine;

use crate::url_api_app::{Composition, TestApp, client_with, make_key};
use rstest::rstest;

async fn shorten(client: &Client, app: &TestApp, url: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/urls"))
        .json(&json!({ "original_url": url }))
        .send()
        .await
        .unwrap()
}

async fn code_made_by(client: &Client, app: &TestApp, url: &str) -> String {
    let res = shorten(client, app, url).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["short_code"].as_str().unwrap().to_owned()
}

async fn listed(client: &Client, app: &TestApp) -> Vec<String> {
    let res = client
        .get(app.url("/api/v1/links?per_page=100&sort=original_url&order=asc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["original_url"].as_str().unwrap().to_owned())
        .collect()
}

/// 401, problem+json, and the challenge.
async fn assert_401(res: reqwest::Response, challenge: &str) -> Value {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], challenge);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    res.json().await.unwrap()
}

#[rstest]
#[async_std::test]
async fn every_management_route_needs_a_key_and_redirects_need_none(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let code = code_made_by(&app.client, &app, "https://example.com/kept").await;
    let anonymous = &app.anonymous;

    let requests = [
        anonymous.get(app.url("/api/v1/links")),
        anonymous.get(app.url(&format!("/api/v1/links/{code}"))),
        anonymous.delete(app.url(&format!("/api/v1/links/{code}"))),
        anonymous
            .post(app.url("/api/v1/urls"))
            .json(&json!({ "original_url": "https://example.com/" })),
    ];
    for request in requests {
        let problem = assert_401(request.send().await.unwrap(), "Bearer").await;
        assert_eq!(problem["type"], "urn:shortener:problem:unauthorized");
    }

    let redirect = anonymous
        .get(app.url(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let head = anonymous
        .head(app.url(&format!("/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::FOUND);
    let document = anonymous
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), StatusCode::OK);
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn a_wrong_or_malformed_key_is_refused_with_the_reason(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let never_made = ApiKey::from_secret([42; 32]);

    for (header, value, detail) in [
        (
            "authorization",
            format!("Bearer {}", never_made.reveal()),
            "the API key is not known",
        ),
        (
            "x-api-key",
            never_made.reveal().to_owned(),
            "the API key is not known",
        ),
        (
            "authorization",
            "Bearer hunter2".to_owned(),
            "the API key is malformed: an API key starts with sk_",
        ),
        (
            "authorization",
            "Basic dXNlcjpwYXNz".to_owned(),
            "the Authorization header must use the Bearer scheme",
        ),
    ] {
        let res = app
            .anonymous
            .get(app.url("/api/v1/links"))
            .header(header, &value)
            .send()
            .await
            .unwrap();
        let problem = assert_401(res, r#"Bearer error="invalid_token""#).await;
        assert_eq!(problem["detail"], detail, "{header}: {value}");
    }
    app.stop().await;
}

#[async_std::test]
async fn a_revoked_key_stops_working_within_the_key_cache_ttl() {
    let db = TestDatabase::create().await;
    let app = TestApp::spawn_with(&db.url, |config| {
        config.api.auth.key_cache_ttl = Duration::from_millis(200);
    })
    .await;
    let key = make_key(&db.url, "to revoke", Role::Member).await;
    let client = client_with(Some(&key));
    assert_eq!(listed(&client, &app).await, Vec::<String>::new());

    let keys = PgKeyStore::new(db.connect().await);
    let record = keys_named(&keys, "to revoke").await;
    revoke_key(&keys, &SystemClock, record).await.unwrap();

    // Revoked through another process (as `admin keys revoke` is): refused once the TTL passes.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = client.get(app.url("/api/v1/links")).send().await.unwrap();
        if res.status() == StatusCode::UNAUTHORIZED {
            let problem = assert_401(res, r#"Bearer error="invalid_token""#).await;
            assert_eq!(problem["detail"], "the API key has been revoked");
            break;
        }
        assert!(Instant::now() < deadline, "the revoked key still works");
        async_std::task::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

async fn keys_named(keys: &PgKeyStore, name: &str) -> domain::KeyId {
    use application::ports::KeyStore;
    keys.list()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name == name)
        .unwrap()
        .id
}

#[rstest]
#[async_std::test]
async fn a_member_sees_and_deletes_only_its_own_links_and_an_admin_all(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start(composition, engine).await;
    let alice = app.client_as(Role::Member).await;
    let bob = app.client_as(Role::Member).await;
    let admin = &app.client;
    code_made_by(&alice, &app, "https://example.com/alice-1").await;
    code_made_by(&alice, &app, "https://example.com/alice-2").await;
    let bobs = code_made_by(&bob, &app, "https://example.com/bob-1").await;
    code_made_by(admin, &app, "https://example.com/admin-1").await;

    assert_eq!(
        listed(&alice, &app).await,
        ["https://example.com/alice-1", "https://example.com/alice-2"]
    );
    assert_eq!(listed(&bob, &app).await, ["https://example.com/bob-1"]);
    assert_eq!(listed(admin, &app).await.len(), 4);

    // Bob's link does not exist as far as Alice can tell.
    let detail = alice
        .get(app.url(&format!("/api/v1/links/{bobs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), StatusCode::NOT_FOUND);
    let delete = alice
        .delete(app.url(&format!("/api/v1/links/{bobs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    let still = app
        .anonymous
        .get(app.url(&format!("/{bobs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::FOUND);

    // Bob reads his own; an admin reads and deletes anyone's.
    let own = bob
        .get(app.url(&format!("/api/v1/links/{bobs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let deleted = admin
        .delete(app.url(&format!("/api/v1/links/{bobs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(listed(&bob, &app).await, Vec::<String>::new());
    app.stop().await;
}

#[rstest]
#[async_std::test]
async fn anonymous_shortening_when_allowed_makes_links_only_admins_manage(
    #[values(Composition::Stack, Composition::Embedded)] composition: Composition,
    #[values(Engine::Tide, Engine::Axum)] engine: Engine,
) {
    let app = TestApp::start_with(composition, engine, |config| {
        config.auth.anonymous_shorten = true
    })
    .await;
    let member = app.client_as(Role::Member).await;

    let code = code_made_by(&app.anonymous, &app, "https://example.com/anonymous").await;

    assert_eq!(listed(&member, &app).await, Vec::<String>::new());
    let detail = member
        .get(app.url(&format!("/api/v1/links/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        listed(&app.client, &app).await,
        ["https://example.com/anonymous"]
    );
    // Listing still needs a key.
    let res = app
        .anonymous
        .get(app.url("/api/v1/links"))
        .send()
        .await
        .unwrap();
    assert_401(res, "Bearer").await;
    app.stop().await;
}
