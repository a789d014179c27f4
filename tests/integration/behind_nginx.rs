//! url-api behind Debian's nginx with nginx's default proxy settings, as a first deployment
//! puts it: nginx speaks HTTP/1.0 to its upstream and closes each connection.

use integration_tests::nginx::Nginx;
use integration_tests::postgres::TestDatabase;
use integration_tests::wait;
use reqwest::StatusCode;
use serde_json::{Value, json};

use adapter_http::Engine;
use rstest::rstest;

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
