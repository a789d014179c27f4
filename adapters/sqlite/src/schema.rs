//! The embedded file's schema. An embedded program owns its file: nothing else writes to it, so
//! the program applies its own schema at start instead of leaving it to a `migrate` step.
//!
//! The same tables as PostgreSQL's migrations, in SQLite's terms: STRICT tables, times as
//! microseconds since the Unix epoch (PostgreSQL's resolution, and an integer sorts as the time
//! does), days as `YYYY-MM-DD` text. `PRAGMA user_version` numbers the steps applied; each step
//! runs once, in one transaction with the new number.

use sqlx::{AssertSqlSafe, Connection, SqliteConnection};

/// Every step, in order; the file's `user_version` is how many have been applied.
pub(crate) const STEPS: &[&str] = &[r"
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE urls (
    id           INTEGER PRIMARY KEY,
    short_code   TEXT    NOT NULL UNIQUE,
    original_url TEXT    NOT NULL CHECK (length(CAST(original_url AS BLOB)) <= 2048),
    created_at   INTEGER NOT NULL,
    owner_key_id INTEGER REFERENCES api_keys (id)
) STRICT;

-- Listing sorts by created_at or original_url, behind the owner for a member's listing; id
-- breaks ties so pages never overlap.
CREATE INDEX urls_created_at_id_idx ON urls (created_at, id);
CREATE INDEX urls_original_url_id_idx ON urls (original_url, id);
CREATE INDEX urls_owner_created_at_id_idx ON urls (owner_key_id, created_at, id);
CREATE INDEX urls_owner_original_url_id_idx ON urls (owner_key_id, original_url, id);

CREATE TABLE clicks (
    event_id       BLOB    PRIMARY KEY CHECK (length(event_id) = 16),
    short_code     TEXT    NOT NULL,
    clicked_at     INTEGER NOT NULL,
    country_code   TEXT    NOT NULL,
    device_type    TEXT    NOT NULL,
    traffic_source TEXT    NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    referer        TEXT
) STRICT, WITHOUT ROWID;

CREATE INDEX clicks_short_code_clicked_at_idx ON clicks (short_code, clicked_at);

CREATE TABLE link_click_totals (
    short_code TEXT    PRIMARY KEY,
    clicks     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE click_daily_rollups (
    short_code     TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    country_code   TEXT    NOT NULL,
    device_type    TEXT    NOT NULL,
    traffic_source TEXT    NOT NULL,
    clicks         INTEGER NOT NULL,
    PRIMARY KEY (short_code, day, country_code, device_type, traffic_source)
) STRICT, WITHOUT ROWID;
"];

/// Why the schema could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the data file is at schema version {found}, newer than this program's {known}: run the \
         version that wrote it"
    )]
    Newer { found: i64, known: i64 },
    #[error("could not apply the schema: {0}")]
    Database(#[from] sqlx::Error),
}

/// Brings the file's schema up to date, one step per transaction.
///
/// # Errors
/// [`SchemaError`]: a file from a newer program, or a database error.
pub(crate) async fn apply(conn: &mut SqliteConnection) -> Result<(), SchemaError> {
    let known = i64::try_from(STEPS.len()).unwrap_or(i64::MAX);
    let found: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?;
    if found > known {
        return Err(SchemaError::Newer { found, known });
    }
    for (number, step) in (1..).zip(STEPS).skip(usize::try_from(found).unwrap_or(0)) {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(*step).execute(&mut *tx).await?;
        // PRAGMA takes no bound parameters; the number is ours.
        sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA user_version = {number}")))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
