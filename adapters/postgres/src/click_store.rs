use std::collections::HashSet;

use application::ports::{ClickStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::EnrichedClick;
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::{self, PgPool};
use uuid::Uuid;

use crate::error::store_error;
use crate::metrics::SqlMetrics;

/// `ClickStore` on the `clicks`, `link_click_totals` and `click_daily_rollups` tables.
///
/// One statement per batch: the clicks go in as arrays through `unnest` (one round trip however
/// large the batch), `ON CONFLICT (event_id) DO NOTHING` skips redelivered events, and the
/// counters grow by exactly the rows that were new. One statement is one transaction, so a
/// batch is counted entirely or not at all.
///
/// This is the one query written against sqlx directly: sea-orm's values can't bind arrays
/// with NULL elements (a click without a user agent).
#[derive(Debug, Clone)]
pub struct PgClickStore {
    pool: PgPool,
    metrics: SqlMetrics,
}

impl PgClickStore {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            pool: db.get_postgres_connection_pool().clone(),
            metrics: SqlMetrics::new(),
        }
    }
}

const STORE_BATCH: &str = r"
WITH batch AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::text[])
        AS b(event_id, short_code, clicked_at, country_code, device_type, traffic_source,
             ip, user_agent, referer)
), inserted AS (
    INSERT INTO clicks (event_id, short_code, clicked_at, country_code, device_type,
                        traffic_source, ip, user_agent, referer)
    SELECT event_id, short_code, clicked_at, country_code, device_type, traffic_source,
           ip::inet, user_agent, referer
    FROM batch
    ON CONFLICT (event_id) DO NOTHING
    RETURNING short_code, clicked_at, country_code, device_type, traffic_source
), totals AS (
    INSERT INTO link_click_totals AS t (short_code, clicks)
    SELECT short_code, count(*) FROM inserted GROUP BY short_code
    ON CONFLICT (short_code) DO UPDATE SET clicks = t.clicks + EXCLUDED.clicks
), rollups AS (
    INSERT INTO click_daily_rollups AS r
        (short_code, day, country_code, device_type, traffic_source, clicks)
    SELECT short_code, (clicked_at AT TIME ZONE 'UTC')::date, country_code, device_type,
           traffic_source, count(*)
    FROM inserted
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (short_code, day, country_code, device_type, traffic_source)
        DO UPDATE SET clicks = r.clicks + EXCLUDED.clicks
)
SELECT count(*) FROM inserted
";

/// The batch as one array per column, borrowing from the clicks.
#[derive(Default)]
struct Columns<'a> {
    event_id: Vec<Uuid>,
    short_code: Vec<&'a str>,
    clicked_at: Vec<DateTime<Utc>>,
    country_code: Vec<&'a str>,
    device_type: Vec<&'static str>,
    traffic_source: Vec<&'static str>,
    ip: Vec<Option<String>>,
    user_agent: Vec<Option<&'a str>>,
    referer: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(clicks: &'a [EnrichedClick]) -> Self {
        let mut columns = Self::default();
        // The same event twice in one batch would make the counters' upserts touch a row twice.
        let mut seen = HashSet::with_capacity(clicks.len());
        for click in clicks.iter().filter(|c| seen.insert(c.event.event_id)) {
            let event = &click.event;
            columns.event_id.push(event.event_id);
            columns.short_code.push(event.short_code.as_str());
            columns.clicked_at.push(event.occurred_at);
            columns.country_code.push(click.country.as_str());
            columns.device_type.push(click.device.as_str());
            columns.traffic_source.push(click.source.as_str());
            columns.ip.push(event.visit.ip.map(|ip| ip.to_string()));
            columns.user_agent.push(event.visit.user_agent.as_deref());
            columns.referer.push(event.visit.referer.as_deref());
        }
        columns
    }
}

#[async_trait]
impl ClickStore for PgClickStore {
    async fn store(&self, clicks: &[EnrichedClick]) -> Result<u64, StoreError> {
        if clicks.is_empty() {
            return Ok(0);
        }
        let c = Columns::of(clicks);
        let query = sqlx::query_scalar(STORE_BATCH)
            .bind(c.event_id)
            .bind(c.short_code)
            .bind(c.clicked_at)
            .bind(c.country_code)
            .bind(c.device_type)
            .bind(c.traffic_source)
            .bind(c.ip)
            .bind(c.user_agent)
            .bind(c.referer);
        let inserted: i64 = self
            .metrics
            .measure("store_clicks", async {
                query
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| store_error(&e))
            })
            .await?;
        Ok(u64::try_from(inserted).unwrap_or(0))
    }
}
