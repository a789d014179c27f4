//! The embedded shortener's rows: the same loads as the stack's, against the one binary on a
//! SQLite file, run after the stack has stopped so that the two never share the cores.

use std::time::{Duration, Instant};

use adapter_sqlite::SqliteClickStore;
use application::ports::NoGeoLocator;
use application::{IngestClicks, IngestService};
use chrono::Utc;
use domain::{ClickEvent, ShortCode, Visit};
use integration_tests::metrics::samples;
use integration_tests::process::{Log, Service, created_key, shortener_admin};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The shortener on a data directory of its own, seeded as the stack's database is.
pub(crate) struct Embedded {
    pub(crate) service: Service,
    pub(crate) key: String,
    dir: tempfile::TempDir,
}

impl Embedded {
    pub(crate) async fn start(warm: u64, cold: u64) -> Self {
        let dir = tempfile::tempdir().expect("a temp directory");
        // The schema first, as the shortener applies it, then the links by set-based SQL.
        let key = admin(dir.path());
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.path().join("shortener.db"))
            .connect()
            .await
            .expect("the data file");
        for (prefix, count) in [('w', warm), ('b', cold)] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
                 INSERT INTO urls (short_code, original_url, created_at)
                 SELECT '{prefix}' || printf('%07d', i), 'https://example.com/{prefix}/' || i, 0
                 FROM n"
            )))
            .execute(&mut conn)
            .await
            .expect("seed the links");
        }
        conn.close().await.expect("close the seeding connection");
        let service = serve(dir.path(), "tide");
        Self { service, key, dir }
    }

    /// Stops the shortener (as SIGTERM does) and starts it again on `engine`, on the same file.
    pub(crate) fn restart_on(self, engine: &str) -> Self {
        let Self { service, key, dir } = self;
        service.terminate();
        let service = serve(dir.path(), engine);
        Self { service, key, dir }
    }

    /// Clicks the shortener dropped so far because its queue was full.
    pub(crate) async fn dropped_clicks(&self) -> u64 {
        let url = format!("http://{}/metrics", self.service.dev_addr());
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        samples(&text, "click_events_rejected_total", &[]).sum::<f64>() as u64
    }

    /// Clicks per second stored by `ingest_clicks` into a SQLite file of its own, in the
    /// shortener's batches (`clicks.batch_size`), as the shortener's drain stores them.
    pub(crate) async fn ingest_rate(&self, events: usize, batch_size: usize) -> f64 {
        let config = adapter_sqlite::SqliteConfig {
            path: self.dir.path().join("ingest.db"),
            readers: 1,
            busy_timeout: Duration::from_secs(5),
        };
        let db = adapter_sqlite::open(&config).await.expect("open the file");
        let ingest = IngestService::new(SqliteClickStore::new(db.clone()), NoGeoLocator);
        let code = ShortCode::parse("i0000001").expect("a code");
        let visit = Visit::new(
            Some("203.0.113.9".parse().expect("an address")),
            Some("Mozilla/5.0 (iPhone; Mobile)"),
            Some("https://t.co/x"),
        );
        let started = Instant::now();
        let mut stored = 0;
        while stored < events {
            let batch: Vec<ClickEvent> = (0..batch_size.min(events - stored))
                .map(|_| ClickEvent::new(code, visit.clone(), Utc::now()))
                .collect();
            stored += ingest.ingest(batch).await.expect("stored").stored as usize;
        }
        let rate = stored as f64 / started.elapsed().as_secs_f64();
        db.close().await;
        rate
    }
}

/// The shortener on `dir` with its shipped configuration, on `engine`, rate limits off.
fn serve(dir: &std::path::Path, engine: &str) -> Service {
    let config = format!(
        "{}/../bootstrap/etc/shortener.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let vars = [
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("DEV_ADDR", "127.0.0.1:0".to_owned()),
        ("DATA_DIR", dir.display().to_string()),
        ("RATE_LIMITS_ENABLED", "false".to_owned()),
        ("HTTP_ENGINE", engine.to_owned()),
    ];
    Service::start_with("shortener", &config, &vars, Log::Discard)
}

/// `shortener admin keys create`, which also makes the file and its schema.
fn admin(dir: &std::path::Path) -> String {
    created_key(&shortener_admin(
        dir,
        &["keys", "create", "--name", "bench", "--role", "admin"],
    ))
}
