use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Pool settings. The URL may hold a password: it is never logged from here.
#[derive(Clone)]
pub struct PgConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a query may wait for a free connection, or for a new one to open, before the
    /// call fails as unavailable. Keeps a dead database from piling up requests.
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// A lazy pool: nothing connects until the first query, so a service starts (and reports
/// itself not ready) while its database is still down, and recovers when it comes up.
///
/// # Errors
/// Only when the URL itself is unusable.
pub async fn connect(config: &PgConfig) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .max_connections(config.max_connections)
        .min_connections(0)
        .connect_timeout(config.acquire_timeout)
        .acquire_timeout(config.acquire_timeout)
        .connect_lazy(true)
        // Statement logging at info would flood the logs with every redirect.
        .sqlx_logging(false);
    Database::connect(options).await
}

/// The readiness check: a round trip to the server.
///
/// # Errors
/// Why the database can't be reached, as one line.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.ping().await.map_err(|e| e.to_string())
}
