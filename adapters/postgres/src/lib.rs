//! PostgreSQL, through sea-orm. Driver types stay inside this crate: the core sees only its
//! ports and `RepoError`.

mod connection;
mod error;
mod url_entity;
mod url_repo;

pub use connection::{PgConfig, connect};
pub use url_repo::PgUrlRepo;
