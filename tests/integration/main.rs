//! One test binary for everything that needs real services (zero2prod's layout): each module
//! is one adapter or one API, each test gets a fresh database (and a fresh topic).
//!
//! Every async test runs on async-std (`#[async_std::test]`): its `tokio1` feature keeps one
//! process-wide tokio runtime for the tokio-based drivers. A `#[tokio::test]` here could make
//! that runtime the test's own, which dies with the test.

// A failing fixture must stop the test.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod access_control;
mod admin_cli;
mod behind_nginx;
mod click_pipeline;
mod embedded;
mod end_to_end;
mod faults;
mod geoip_lookup;
mod grpc_api;
mod hostile_input;
mod http_api;
mod http_conformance;
mod migrate_cli;
mod observability;
mod pg_url_repo;
mod rate_limits;
mod rpc_app;
mod scale_out;
mod stack;
mod store_contract;
mod traces;
mod url_api_app;

/// A configuration environment holding just `vars`, for loading a binary's configuration in
/// process as its `main` would.
pub(crate) fn env_of<const N: usize>(
    vars: [(&'static str, String); N],
) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
}

/// A path of a service's dev server (`/metrics`, `/healthz`): its status and body.
pub(crate) async fn dev_get(
    client: &reqwest::Client,
    service: &integration_tests::process::Service,
    path: &str,
) -> (u16, String) {
    let res = client
        .get(format!("http://{}{path}", service.dev_addr()))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}
