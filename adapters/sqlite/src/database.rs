use std::path::PathBuf;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::schema::{self, SchemaError};

/// Where the file is and how it is shared.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
    /// Connections that only read. WAL lets them read while the one writer writes.
    pub readers: u32,
    /// How long a statement waits for the writer (or for a lock) before the call fails as
    /// unavailable.
    pub busy_timeout: Duration,
}

/// The open file: one writer and a few readers over it. SQLite takes one writer at a time
/// anyway; a pool of one makes writers queue in the process, where a timeout can see them,
/// rather than spin on the file lock.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub(crate) writer: SqlitePool,
    pub(crate) readers: SqlitePool,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{path}: {source}")]
    Schema {
        path: String,
        #[source]
        source: SchemaError,
    },
}

/// Opens (or creates) the file, in WAL mode, and brings its schema up to date.
///
/// # Errors
/// [`OpenError`]: the file can't be opened or created, or its schema can't be applied.
pub async fn open(config: &SqliteConfig) -> Result<SqliteDb, OpenError> {
    let path = config.path.display().to_string();
    let open_error = |source| OpenError::Open {
        path: path.clone(),
        source,
    };
    let options = SqliteConnectOptions::new()
        .filename(&config.path)
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode NORMAL is durable against a crash of the process; a power cut may lose the
        // last transactions, never corrupt the file.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(config.busy_timeout)
        .foreign_keys(true);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(config.busy_timeout)
        .connect_with(options.clone().create_if_missing(true))
        .await
        .map_err(open_error)?;
    let mut conn = writer.acquire().await.map_err(open_error)?;
    schema::apply(&mut conn)
        .await
        .map_err(|source| OpenError::Schema {
            path: path.clone(),
            source,
        })?;
    drop(conn);
    let readers = SqlitePoolOptions::new()
        .max_connections(config.readers.max(1))
        .acquire_timeout(config.busy_timeout)
        .connect_with(options.read_only(true))
        .await
        .map_err(open_error)?;
    Ok(SqliteDb { writer, readers })
}

impl SqliteDb {
    /// The readiness check: a statement on the writer, which is what a full disk or a lost
    /// file would stop first.
    ///
    /// # Errors
    /// Why the file can't be used, as one line.
    pub async fn ping(&self) -> Result<(), String> {
        sqlx::query("SELECT 1")
            .execute(&self.writer)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Closes every connection; the last one out folds the WAL back into the file.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(dir: &tempfile::TempDir) -> SqliteConfig {
        SqliteConfig {
            path: dir.path().join("test.db"),
            readers: 2,
            busy_timeout: Duration::from_secs(5),
        }
    }

    #[async_std::test]
    async fn a_new_file_is_made_in_wal_mode_with_the_whole_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&config(&dir)).await.unwrap();

        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db.readers)
            .await
            .unwrap();
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&db.readers)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(version, i64::try_from(schema::STEPS.len()).unwrap());
        assert_eq!(db.ping().await, Ok(()));
    }

    #[async_std::test]
    async fn reopening_keeps_the_data_and_applies_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&config(&dir)).await.unwrap();
        sqlx::query("INSERT INTO link_click_totals VALUES ('abcDEF12', 7)")
            .execute(&db.writer)
            .await
            .unwrap();
        db.close().await;

        let again = open(&config(&dir)).await.unwrap();
        let clicks: i64 = sqlx::query_scalar("SELECT clicks FROM link_click_totals")
            .fetch_one(&again.readers)
            .await
            .unwrap();
        assert_eq!(clicks, 7);
    }

    #[async_std::test]
    async fn a_file_from_a_newer_program_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&config(&dir)).await.unwrap();
        sqlx::query("PRAGMA user_version = 99")
            .execute(&db.writer)
            .await
            .unwrap();
        db.close().await;

        let refused = open(&config(&dir)).await.unwrap_err();

        assert!(
            refused
                .to_string()
                .contains("schema version 99, newer than"),
            "{refused}"
        );
    }

    #[async_std::test]
    async fn readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&config(&dir)).await.unwrap();

        let written = sqlx::query("INSERT INTO link_click_totals VALUES ('abcDEF12', 1)")
            .execute(&db.readers)
            .await;

        assert!(written.is_err());
    }

    #[async_std::test]
    async fn a_directory_that_does_not_exist_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = SqliteConfig {
            path: dir.path().join("missing").join("test.db"),
            ..config(&dir)
        };

        let refused = open(&config).await.unwrap_err();

        assert!(refused.to_string().contains("missing/test.db"), "{refused}");
    }
}
