//! SQLite, for the embedded shortener: links (`SqliteUrlRepo`), API keys (`SqliteKeyStore`),
//! clicks with their counters (`SqliteClickStore`) and the stats read from those counters
//! (`SqliteStatsStore`), all in one file. The same semantics as the PostgreSQL adapter, held to
//! it by one contract test (tests/integration/store_contract.rs). Driver types stay inside this
//! crate: the core sees only its ports and their errors.

mod click_store;
mod database;
mod error;
#[cfg(test)]
mod failure_tests;
mod key_store;
mod schema;
mod stats_store;
mod time;
mod url_repo;

pub use click_store::SqliteClickStore;
pub use database::{OpenError, SqliteConfig, SqliteDb, open};
pub use key_store::SqliteKeyStore;
pub use schema::SchemaError;
pub use stats_store::SqliteStatsStore;
pub use url_repo::SqliteUrlRepo;
