use std::collections::{BTreeMap, HashSet};

use application::ports::{ClickStore, StoreError};
use async_trait::async_trait;
use domain::EnrichedClick;

use crate::database::SqliteDb;
use crate::error::store_error;
use crate::time::{to_day, to_micros};

/// `ClickStore` on the `clicks`, `link_click_totals` and `click_daily_rollups` tables.
///
/// One transaction per batch: each click goes in with `ON CONFLICT (event_id) DO NOTHING`, so a
/// redelivered event is skipped, and the counters then grow by exactly the clicks that were
/// new, one upsert per counter row. A batch is counted entirely or not at all.
#[derive(Debug, Clone)]
pub struct SqliteClickStore {
    db: SqliteDb,
}

impl SqliteClickStore {
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

/// A daily rollup's key: code, day, country, device, source.
type RollupKey<'a> = (&'a str, String, &'a str, &'static str, &'static str);

#[async_trait]
impl ClickStore for SqliteClickStore {
    async fn store(&self, clicks: &[EnrichedClick]) -> Result<u64, StoreError> {
        if clicks.is_empty() {
            return Ok(0);
        }
        let failed = |e: sqlx::Error| store_error(&e);
        let mut tx = self.db.writer.begin().await.map_err(failed)?;
        let mut seen = HashSet::with_capacity(clicks.len());
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        let mut rollups: BTreeMap<RollupKey<'_>, i64> = BTreeMap::new();
        let mut stored = 0;
        for click in clicks.iter().filter(|c| seen.insert(c.event.event_id)) {
            let event = &click.event;
            let inserted = sqlx::query(
                "INSERT INTO clicks (event_id, short_code, clicked_at, country_code, device_type, \
                 traffic_source, ip, user_agent, referer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(event.event_id.as_bytes().as_slice())
            .bind(event.short_code.as_str())
            .bind(to_micros(event.occurred_at))
            .bind(click.country.as_str())
            .bind(click.device.as_str())
            .bind(click.source.as_str())
            .bind(event.visit.ip.map(|ip| ip.to_string()))
            .bind(event.visit.user_agent.as_deref())
            .bind(event.visit.referer.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
            if inserted.rows_affected() == 0 {
                continue;
            }
            stored += 1;
            *totals.entry(event.short_code.as_str()).or_default() += 1;
            let day = to_day(event.occurred_at.date_naive());
            let key = (
                event.short_code.as_str(),
                day,
                click.country.as_str(),
                click.device.as_str(),
                click.source.as_str(),
            );
            *rollups.entry(key).or_default() += 1;
        }
        for (code, clicks) in totals {
            sqlx::query(
                "INSERT INTO link_click_totals (short_code, clicks) VALUES (?, ?) \
                 ON CONFLICT (short_code) DO UPDATE SET clicks = clicks + excluded.clicks",
            )
            .bind(code)
            .bind(clicks)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        for ((code, day, country, device, source), clicks) in rollups {
            sqlx::query(
                "INSERT INTO click_daily_rollups (short_code, day, country_code, device_type, \
                 traffic_source, clicks) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (short_code, day, country_code, device_type, traffic_source) \
                 DO UPDATE SET clicks = clicks + excluded.clicks",
            )
            .bind(code)
            .bind(day)
            .bind(country)
            .bind(device)
            .bind(source)
            .bind(clicks)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)?;
        Ok(stored)
    }
}
