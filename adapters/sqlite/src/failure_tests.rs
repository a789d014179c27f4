//! How the stores fail, as the core sees it: a file that is gone or held by another writer is
//! unavailable (what the breakers count and the HTTP adapter answers 503 to), and a row that
//! breaks today's rules is an unexpected error naming it, never a link served or a panic.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use application::ports::{
    ClickStore, KeyStore, NewKey, RepoError, StatsStore, StoreError, UrlRepo,
};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    ApiKey, ClickEvent, CountryCode, DayRange, EnrichedClick, KeyId, Link, LinkQuery, LongUrl,
    Role, ShortCode, Visibility, Visit,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{
    SqliteClickStore, SqliteConfig, SqliteDb, SqliteKeyStore, SqliteStatsStore, SqliteUrlRepo, open,
};

struct Stores {
    db: SqliteDb,
    links: SqliteUrlRepo,
    keys: SqliteKeyStore,
    clicks: SqliteClickStore,
    stats: SqliteStatsStore,
    config: SqliteConfig,
    _dir: tempfile::TempDir,
}

async fn stores(busy_timeout: Duration) -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig {
        path: dir.path().join("test.db"),
        readers: 2,
        busy_timeout,
    };
    let db = open(&config).await.unwrap();
    Stores {
        links: SqliteUrlRepo::new(db.clone()),
        keys: SqliteKeyStore::new(db.clone()),
        clicks: SqliteClickStore::new(db.clone()),
        stats: SqliteStatsStore::new(db.clone()),
        db,
        config,
        _dir: dir,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn code() -> ShortCode {
    ShortCode::parse("abcDEF12").unwrap()
}

fn link() -> Link {
    Link {
        code: code(),
        url: LongUrl::parse("https://example.com/").unwrap(),
        created_at: now(),
        owner: None,
    }
}

fn click() -> EnrichedClick {
    let event = ClickEvent::new(code(), Visit::new(None, Some("curl/8"), None), now());
    EnrichedClick::new(event, CountryCode::parse("DE"))
}

fn day_range() -> DayRange {
    let day = NaiveDate::from_ymd_opt(2023, 11, 14).unwrap();
    DayRange::new(day, day).unwrap()
}

#[async_std::test]
async fn every_call_on_a_closed_file_is_unavailable() {
    let s = stores(Duration::from_secs(5)).await;
    s.db.close().await;
    let new_key = NewKey {
        name: "ops".into(),
        role: Role::Admin,
        hash: ApiKey::from_secret([1; 32]).hash(),
        created_at: now(),
    };

    let unavailable = |r: Result<(), RepoError>| matches!(r, Err(RepoError::Unavailable(_)));
    assert!(unavailable(s.links.insert(&link()).await));
    assert!(unavailable(s.links.find(&code()).await.map(drop)));
    let every = Visibility::Every;
    assert!(unavailable(
        s.links.list(&LinkQuery::default(), every).await.map(drop)
    ));
    assert!(unavailable(s.links.delete(&code()).await.map(drop)));
    assert!(unavailable(s.keys.find(&new_key.hash).await.map(drop)));
    assert!(unavailable(s.keys.create(&new_key).await.map(drop)));
    assert!(unavailable(s.keys.list().await.map(drop)));
    assert!(unavailable(s.keys.revoke(KeyId(1), now()).await.map(drop)));

    let unavailable = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Unavailable(_)));
    assert!(unavailable(s.clicks.store(&[click()]).await.map(drop)));
    assert!(unavailable(s.stats.click_count(&code()).await.map(drop)));
    assert!(unavailable(
        s.stats.click_stats(&code(), day_range()).await.map(drop)
    ));
}

#[async_std::test]
async fn a_write_while_another_program_holds_the_lock_is_unavailable_then_succeeds() {
    let s = stores(Duration::from_millis(50)).await;
    // Another process on the file (`shortener admin`, say) takes the write lock and keeps it.
    let mut other = SqliteConnectOptions::new()
        .filename(&s.config.path)
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();

    assert!(matches!(
        s.links.insert(&link()).await,
        Err(RepoError::Unavailable(_))
    ));
    assert!(matches!(
        s.clicks.store(&[click()]).await,
        Err(StoreError::Unavailable(_))
    ));
    // Readers are not blocked by a writer in WAL mode.
    assert_eq!(s.stats.click_count(&code()).await, Ok(0));

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_eq!(s.links.insert(&link()).await, Ok(()));
    assert_eq!(s.clicks.store(&[click()]).await, Ok(1));
}

#[async_std::test]
async fn a_row_that_breaks_todays_rules_is_reported_not_served() {
    let s = stores(Duration::from_secs(5)).await;
    // Rows written by hand, or by a version with looser rules.
    sqlx::query(
        "INSERT INTO urls (short_code, original_url, created_at) \
         VALUES ('abcDEF12', 'javascript:alert(1)', 0)",
    )
    .execute(&s.db.writer)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO click_daily_rollups VALUES ('abcDEF12', '2023-11-14', 'DE', 'toaster', 'direct', 3)",
    )
    .execute(&s.db.writer)
    .await
    .unwrap();

    let found = s.links.find(&code()).await;
    let listed = s.links.list(&LinkQuery::default(), Visibility::Every).await;
    let stats = s.stats.click_stats(&code(), day_range()).await;

    match found {
        Err(RepoError::Unexpected(why)) => {
            assert!(
                why.contains("urls row abcDEF12 has a bad original_url"),
                "{why}"
            );
        }
        other => panic!("found {other:?}"),
    }
    assert!(
        matches!(listed, Err(RepoError::Unexpected(_))),
        "{listed:?}"
    );
    match stats {
        Err(StoreError::Unexpected(why)) => {
            assert!(why.contains("unknown device 'toaster'"), "{why}");
        }
        other => panic!("stats {other:?}"),
    }
}
