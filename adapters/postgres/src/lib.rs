//! PostgreSQL, through sea-orm: links (`PgUrlRepo`), API keys (`PgKeyStore`), clicks with
//! their counters (`PgClickStore`) and the stats read from those counters (`PgStatsStore`).
//! Driver types stay inside this crate: the core sees only its ports and their errors.

mod click_store;
mod connection;
mod error;
mod key_entity;
mod key_store;
mod metrics;
mod queries;
mod stats_store;
mod url_entity;
mod url_repo;

pub use click_store::PgClickStore;
pub use connection::{PgConfig, connect, ping};
pub use key_store::PgKeyStore;
/// The pool `connect` returns, for the wiring to hand to the adapters and probes.
pub use sea_orm::DatabaseConnection;
pub use stats_store::PgStatsStore;
pub use url_repo::PgUrlRepo;
