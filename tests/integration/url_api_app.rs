//! The HTTP link API started the way its binaries start it, on a free port: url-api on
//! PostgreSQL (the scaled-out stack), or the embedded shortener on a SQLite file, each on
//! either HTTP engine. Tests that hold for all take a [`Composition`] and an [`Engine`] and
//! run once for each pair.

use std::any::Any;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use adapter_http::Engine;
use adapter_postgres::PgKeyStore;
use adapter_sqlite::{SqliteConfig, SqliteKeyStore};
use application::ports::{KeyStore, RandomKeys, SystemClock};
use application::use_cases::create_key;
use async_std::channel::{Sender, bounded};
use async_std::task::JoinHandle;
use bootstrap::config::{LinkApiConfig, ShortenerConfig, UrlApiConfig};
use bootstrap::shortener::Shortener;
use bootstrap::url_api::UrlApi;
use domain::{ApiKey, Role};
use integration_tests::postgres::TestDatabase;
use integration_tests::process::{binary_path, shortener_admin};
use integration_tests::stores::sqlite_config;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

pub(crate) const BASE_URL: &str = "http://sho.rt";

/// Which binary serves the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Composition {
    /// url-api, on a fresh PostgreSQL database (no Kafka or analytics-rpc unless a test adds
    /// them).
    Stack,
    /// The embedded shortener, on a fresh data directory.
    Embedded,
}

/// Where the keys live, for making more of them.
enum Keys {
    Postgres(String),
    Sqlite(PathBuf),
}

pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    /// Sends an admin's key with every request.
    pub(crate) client: reqwest::Client,
    /// Sends no key.
    pub(crate) anonymous: reqwest::Client,
    /// The admin's key that `client` sends.
    pub(crate) admin_key: Option<ApiKey>,
    keys: Keys,
    stop: Sender<()>,
    running: JoinHandle<()>,
    /// The database or directory the app's data lives in, removed with the app.
    _home: Option<Box<dyn Any + Send + Sync>>,
}

impl TestApp {
    /// The composition on data of its own, with the shipped defaults but for the engine.
    pub(crate) async fn start(composition: Composition, engine: Engine) -> Self {
        Self::start_with(composition, engine, |_| {}).await
    }

    /// With some of the HTTP API's settings changed from the shipped defaults.
    pub(crate) async fn start_with(
        composition: Composition,
        engine: Engine,
        configure: impl FnOnce(&mut LinkApiConfig),
    ) -> Self {
        let configure = |config: &mut LinkApiConfig| {
            config.engine = engine;
            configure(config);
        };
        match composition {
            Composition::Stack => {
                let db = TestDatabase::create().await;
                let mut app = Self::spawn_with(&db.url, |config| configure(&mut config.api)).await;
                app._home = Some(Box::new(db));
                app
            }
            Composition::Embedded => {
                let dir = tempfile::tempdir().expect("a temp directory");
                let vars = [
                    ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
                    ("BASE_URL", BASE_URL.to_owned()),
                    ("DEV_ADDR", "127.0.0.1:0".to_owned()),
                    ("DATA_DIR", dir.path().display().to_string()),
                ];
                let mut config =
                    ShortenerConfig::load([], &crate::env_of(vars)).expect("test config");
                for_tests(&mut config.api);
                configure(&mut config.api);
                let file = config.storage.data_file();
                let shortener = Shortener::build(config).await.expect("shortener starts");
                let addr = shortener.local_addr();
                let (stop, stopped) = bounded::<()>(1);
                let running = async_std::task::spawn(shortener.run_until(async move {
                    let _ = stopped.recv().await;
                }));
                let keys = Keys::Sqlite(file);
                let admin = try_make_key(&keys, "test admin", Role::Admin).await;
                Self::started(addr, admin, keys, stop, running, Some(Box::new(dir)))
            }
        }
    }

    /// url-api on `engine`, on the database at `database_url`, which the caller owns.
    pub(crate) async fn spawn(database_url: &str, engine: Engine) -> Self {
        Self::spawn_with(database_url, |config| config.api.engine = engine).await
    }

    /// url-api with some settings changed from the shipped defaults.
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
        for_tests(&mut config.api);
        configure(&mut config);
        let api = UrlApi::build(config).await.expect("url-api starts");
        let addr = api.local_addr();
        let (stop, stopped) = bounded::<()>(1);
        let running = async_std::task::spawn(api.run_until(async move {
            let _ = stopped.recv().await;
        }));
        // A database the test made unreachable on purpose has no keys to make: such a test
        // asks only the public routes, and `client` then sends no key.
        let keys = Keys::Postgres(database_url.to_owned());
        let admin = try_make_key(&keys, "test admin", Role::Admin).await;
        Self::started(addr, admin, keys, stop, running, None)
    }

    fn started(
        addr: SocketAddr,
        admin: Option<ApiKey>,
        keys: Keys,
        stop: Sender<()>,
        running: JoinHandle<()>,
        home: Option<Box<dyn Any + Send + Sync>>,
    ) -> Self {
        Self {
            addr,
            client: client_with(admin.as_ref()),
            admin_key: admin,
            anonymous: client_with(None),
            keys,
            stop,
            running,
            _home: home,
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
        client_with(Some(&self.make_key("test", role).await))
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

/// The test machine's CPU is busy running tests: shedding would make results depend on it (the
/// shedder is tested on its own, with an injected CPU). A test is a load from one address: rate
/// limits are tested on their own (rate_limits.rs), with budgets a test can spend.
fn for_tests(config: &mut LinkApiConfig) {
    config.guards.shedding = false;
    config.rate_limits = None;
}

impl TestApp {
    /// The operator's key tool on this app's store, run as an operator runs it: the `admin`
    /// binary on the database, or `shortener admin` on the data directory.
    pub(crate) fn admin(&self, args: &[&str]) -> Output {
        match &self.keys {
            Keys::Postgres(url) => Command::new(binary_path("admin"))
                .args(args)
                .env("DATABASE_URL", url)
                .output()
                .expect("run admin"),
            Keys::Sqlite(file) => shortener_admin(file.parent().expect("the data directory"), args),
        }
    }

    /// A key made in the app's store as `admin keys create` makes one.
    pub(crate) async fn make_key(&self, name: &str, role: Role) -> ApiKey {
        try_make_key(&self.keys, name, role)
            .await
            .expect("a key made in the test's store")
    }
}

/// A key made in the PostgreSQL database at `database_url`, as the `admin` binary makes one.
pub(crate) async fn make_key(database_url: &str, name: &str, role: Role) -> ApiKey {
    try_make_key(&Keys::Postgres(database_url.to_owned()), name, role)
        .await
        .expect("a key made in the test's database")
}

async fn try_make_key(keys: &Keys, name: &str, role: Role) -> Option<ApiKey> {
    match keys {
        Keys::Postgres(url) => {
            let db = sea_orm::Database::connect(url).await.ok()?;
            made(&PgKeyStore::new(db), name, role).await
        }
        Keys::Sqlite(file) => {
            let config = SqliteConfig {
                path: file.clone(),
                ..sqlite_config(file.parent()?)
            };
            let db = adapter_sqlite::open(&config).await.ok()?;
            let key = made(&SqliteKeyStore::new(db.clone()), name, role).await;
            db.close().await;
            key
        }
    }
}

async fn made(keys: &impl KeyStore, name: &str, role: Role) -> Option<ApiKey> {
    let made = create_key(keys, &RandomKeys, &SystemClock, name, role).await;
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
