//! Every store port on a fresh backend, PostgreSQL or SQLite, for the contract tests that hold
//! both adapters to the same semantics.

use std::sync::Arc;
use std::time::Duration;

use adapter_postgres::{PgClickStore, PgKeyStore, PgStatsStore, PgUrlRepo};
use adapter_sqlite::{
    SqliteClickStore, SqliteConfig, SqliteKeyStore, SqliteStatsStore, SqliteUrlRepo,
};
use application::ports::{ClickStore, KeyStore, StatsStore, UrlRepo};

use crate::postgres::TestDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

pub struct TestStores {
    pub links: Arc<dyn UrlRepo>,
    pub keys: Arc<dyn KeyStore>,
    pub clicks: Arc<dyn ClickStore>,
    pub stats: Arc<dyn StatsStore>,
    /// What holds the data, dropped (and removed) with the stores.
    _home: Box<dyn std::any::Any + Send + Sync>,
}

impl TestStores {
    /// The four stores on a database or file no other test uses.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => {
                let home = TestDatabase::create().await;
                let db = home.connect().await;
                Self {
                    links: Arc::new(PgUrlRepo::new(db.clone())),
                    keys: Arc::new(PgKeyStore::new(db.clone())),
                    clicks: Arc::new(PgClickStore::new(&db)),
                    stats: Arc::new(PgStatsStore::new(db)),
                    _home: Box::new(home),
                }
            }
            Backend::Sqlite => {
                let home = tempfile::tempdir().expect("a temp directory");
                let db = adapter_sqlite::open(&sqlite_config(home.path()))
                    .await
                    .expect("open the test file");
                Self {
                    links: Arc::new(SqliteUrlRepo::new(db.clone())),
                    keys: Arc::new(SqliteKeyStore::new(db.clone())),
                    clicks: Arc::new(SqliteClickStore::new(db.clone())),
                    stats: Arc::new(SqliteStatsStore::new(db)),
                    _home: Box::new(home),
                }
            }
        }
    }
}

/// A test's SQLite file in `dir`.
pub fn sqlite_config(dir: &std::path::Path) -> SqliteConfig {
    SqliteConfig {
        path: dir.join("shortener.db"),
        readers: 4,
        busy_timeout: Duration::from_secs(5),
    }
}
