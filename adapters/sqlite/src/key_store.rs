use application::ports::{KeyRecord, KeyStore, NewKey, RepoError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{KeyHash, KeyId, Role};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use crate::database::SqliteDb;
use crate::error::repo_error;
use crate::time::{from_micros, to_micros};

/// `KeyStore` on the `api_keys` table.
#[derive(Debug, Clone)]
pub struct SqliteKeyStore {
    db: SqliteDb,
}

impl SqliteKeyStore {
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

const COLUMNS: &str = "id, name, role, created_at, revoked_at";

#[async_trait]
impl KeyStore for SqliteKeyStore {
    async fn find(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, RepoError> {
        // Written out, not formatted from COLUMNS: authentication's cache misses build no string.
        sqlx::query("SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE hash = ?")
            .bind(hash.0.as_slice())
            .fetch_optional(&self.db.readers)
            .await
            .map_err(|e| repo_error(&e))?
            .map(|row| into_record(&row))
            .transpose()
    }

    async fn create(&self, key: &NewKey) -> Result<KeyRecord, RepoError> {
        // The one unique key here is the hash, which 256 random bits never repeat: a clash is a
        // bug, reported as the database's refusal rather than as a taken code.
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO api_keys (name, hash, role, created_at) VALUES (?, ?, ?, ?) \
             RETURNING {COLUMNS}"
        )))
        .bind(&key.name)
        .bind(key.hash.0.as_slice())
        .bind(key.role.as_str())
        .bind(to_micros(key.created_at))
        .fetch_one(&self.db.writer)
        .await
        .map_err(|e| repo_error(&e))?;
        into_record(&row)
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, RepoError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY id"
        )))
        .fetch_all(&self.db.readers)
        .await
        .map_err(|e| repo_error(&e))?
        .iter()
        .map(into_record)
        .collect()
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<KeyRecord>, RepoError> {
        // The first revocation's time stays: revoking twice changes nothing.
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? \
             RETURNING {COLUMNS}"
        )))
        .bind(to_micros(at))
        .bind(id.0)
        .fetch_optional(&self.db.writer)
        .await
        .map_err(|e| repo_error(&e))?
        .map(|row| into_record(&row))
        .transpose()
    }
}

fn into_record(row: &SqliteRow) -> Result<KeyRecord, RepoError> {
    let read = |e: sqlx::Error| RepoError::Unexpected(format!("api_keys row: {e}"));
    let id: i64 = row.try_get("id").map_err(read)?;
    let broken = |what: &str| RepoError::Unexpected(format!("api_keys row {id} has a bad {what}"));
    let role: String = row.try_get("role").map_err(read)?;
    let created_at: i64 = row.try_get("created_at").map_err(read)?;
    let revoked_at: Option<i64> = row.try_get("revoked_at").map_err(read)?;
    Ok(KeyRecord {
        id: KeyId(id),
        name: row.try_get("name").map_err(read)?,
        role: role.parse::<Role>().map_err(|_| broken("role"))?,
        created_at: from_micros(created_at).ok_or_else(|| broken("created_at"))?,
        revoked_at: match revoked_at {
            Some(micros) => Some(from_micros(micros).ok_or_else(|| broken("revoked_at"))?),
            None => None,
        },
    })
}
