//! url-api started the way its binary starts it, on a free port.

use std::net::SocketAddr;

use adapter_postgres::PgKeyStore;
use application::ports::{RandomKeys, SystemClock};
use application::use_cases::create_key;
use async_std::channel::{Sender, bounded};
use async_std::task::JoinHandle;
use bootstrap::config::UrlApiConfig;
use bootstrap::url_api::UrlApi;
use domain::{ApiKey, Role};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

pub(crate) const BASE_URL: &str = "http://sho.rt";

pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    /// Sends an admin's key with every request.
    pub(crate) client: reqwest::Client,
    /// Sends no key.
    pub(crate) anonymous: reqwest::Client,
    /// The admin's key that `client` sends.
    pub(crate) admin_key: Option<ApiKey>,
    database_url: String,
    stop: Sender<()>,
    running: JoinHandle<()>,
}

impl TestApp {
    pub(crate) async fn spawn(database_url: &str) -> Self {
        Self::spawn_with(database_url, |_| {}).await
    }

    /// With some settings changed from the shipped defaults.
    pub(crate) async fn spawn_with(
        database_url: &str,
        configure: impl FnOnce(&mut UrlApiConfig),
    ) -> Self {
        let vars = [
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("BASE_URL", BASE_URL.to_owned()),
            ("DATABASE_URL", database_url.to_owned()),
            ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ];
        let env = crate::env_of(vars);
        let mut config = UrlApiConfig::load([], &env).expect("test config");
        // The test machine's CPU is busy running tests: shedding would make results depend on
        // it. The shedder is tested on its own, with an injected CPU.
        config.api.guards.shedding = false;
        // A test is a load from one address: rate limits are tested on their own
        // (rate_limits.rs), with budgets a test can spend.
        config.api.rate_limits = None;
        configure(&mut config);
        let api = UrlApi::build(config).await.expect("url-api starts");
        let addr = api.local_addr();
        let (stop, stopped) = bounded::<()>(1);
        let running = async_std::task::spawn(api.run_until(async move {
            let _ = stopped.recv().await;
        }));
        // A database the test made unreachable on purpose has no keys to make: such a test
        // asks only the public routes, and `client` then sends no key.
        let admin = try_make_key(database_url, "test admin", Role::Admin).await;
        Self {
            addr,
            client: client_with(admin.as_ref()),
            admin_key: admin,
            anonymous: client_with(None),
            database_url: database_url.to_owned(),
            stop,
            running,
        }
    }

    /// A client that sends a new key of `role` with every request, as `admin keys create`
    /// would make it.
    /// `Authorization: Bearer <the admin's key>`, for requests written by hand.
    pub(crate) fn authorization(&self) -> String {
        let key = self.admin_key.as_ref().expect("a database to make keys in");
        format!("Authorization: Bearer {}\r\n", key.reveal())
    }

    pub(crate) async fn client_as(&self, role: Role) -> reqwest::Client {
        client_with(Some(&make_key(&self.database_url, "test", role).await))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn shorten(&self, original_url: &str) -> serde_json::Value {
        let res = self
            .client
            .post(self.url("/api/v1/urls"))
            .json(&serde_json::json!({ "original_url": original_url }))
            .send()
            .await
            .expect("POST /api/v1/urls");
        assert_eq!(res.status(), 201, "shorten {original_url}");
        res.json().await.expect("JSON body")
    }

    /// Stops the server the way SIGTERM does and waits for it to finish draining.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(()).await;
        self.running.await;
    }
}

/// A key made in the database as the `admin` binary makes one.
pub(crate) async fn make_key(database_url: &str, name: &str, role: Role) -> ApiKey {
    try_make_key(database_url, name, role)
        .await
        .expect("a key made in the test's database")
}

async fn try_make_key(database_url: &str, name: &str, role: Role) -> Option<ApiKey> {
    let db = sea_orm::Database::connect(database_url).await.ok()?;
    let made = create_key(&PgKeyStore::new(db), &RandomKeys, &SystemClock, name, role).await;
    made.ok().map(|(_, key)| key)
}

/// An HTTP client that follows no redirects, and sends `key` as a bearer token if given.
pub(crate) fn client_with(key: Option<&ApiKey>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        let bearer = HeaderValue::from_str(&format!("Bearer {}", key.reveal())).expect("a header");
        headers.insert(AUTHORIZATION, bearer);
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("http client")
}
