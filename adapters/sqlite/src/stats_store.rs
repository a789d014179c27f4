use std::cmp::Reverse;

use application::ports::{StatsStore, StoreError};
use async_trait::async_trait;
use domain::{ClickStats, CountryCode, DayRange, DeviceType, ShortCode, TrafficSource};
use sqlx::Row;

use crate::database::SqliteDb;
use crate::error::store_error;
use crate::time::{from_day, to_day};

/// `StatsStore` on the counters the click store keeps: never a scan of `clicks`.
#[derive(Debug, Clone)]
pub struct SqliteStatsStore {
    db: SqliteDb,
}

impl SqliteStatsStore {
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

// The link's rollups in the range, summed four ways in one statement (SQLite has no GROUPING
// SETS): each row says which breakdown it belongs to.
const STATS: &str = r"
SELECT 'day' AS breakdown, day AS name, sum(clicks) AS clicks FROM click_daily_rollups
WHERE short_code = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY day
UNION ALL
SELECT 'country', country_code, sum(clicks) FROM click_daily_rollups
WHERE short_code = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY country_code
UNION ALL
SELECT 'device', device_type, sum(clicks) FROM click_daily_rollups
WHERE short_code = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY device_type
UNION ALL
SELECT 'source', traffic_source, sum(clicks) FROM click_daily_rollups
WHERE short_code = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY traffic_source
";

#[async_trait]
impl StatsStore for SqliteStatsStore {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, StoreError> {
        let clicks: Option<i64> =
            sqlx::query_scalar("SELECT clicks FROM link_click_totals WHERE short_code = ?")
                .bind(code.as_str())
                .fetch_optional(&self.db.readers)
                .await
                .map_err(|e| store_error(&e))?;
        Ok(clicks.map_or(0, count))
    }

    async fn click_stats(
        &self,
        code: &ShortCode,
        range: DayRange,
    ) -> Result<ClickStats, StoreError> {
        let rows = sqlx::query(STATS)
            .bind(code.as_str())
            .bind(to_day(range.from()))
            .bind(to_day(range.to()))
            .fetch_all(&self.db.readers)
            .await
            .map_err(|e| store_error(&e))?;
        let mut stats = ClickStats::default();
        for row in rows {
            let breakdown: String = row.try_get(0).map_err(|e| store_error(&e))?;
            let name: String = row.try_get(1).map_err(|e| store_error(&e))?;
            let clicks = count(row.try_get(2).map_err(|e| store_error(&e))?);
            let unknown = || {
                StoreError::Unexpected(format!(
                    "click_daily_rollups holds an unknown {breakdown} '{name}'"
                ))
            };
            match breakdown.as_str() {
                "day" => {
                    stats
                        .by_day
                        .push((from_day(&name).ok_or_else(unknown)?, clicks));
                    stats.total += clicks;
                }
                "country" => stats
                    .by_country
                    .push((CountryCode::parse(&name).ok_or_else(unknown)?, clicks)),
                "device" => stats
                    .by_device
                    .push((DeviceType::parse(&name).ok_or_else(unknown)?, clicks)),
                "source" => stats
                    .by_source
                    .push((TrafficSource::parse(&name).ok_or_else(unknown)?, clicks)),
                _ => return Err(unknown()),
            }
        }
        // PostgreSQL's order: days ascending; every other breakdown by clicks, most first, then
        // by name.
        stats.by_day.sort_unstable();
        stats
            .by_country
            .sort_by_key(|&(name, n)| (Reverse(n), name));
        stats
            .by_device
            .sort_by_key(|&(name, n)| (Reverse(n), name.as_str()));
        stats
            .by_source
            .sort_by_key(|&(name, n)| (Reverse(n), name.as_str()));
        Ok(stats)
    }
}

/// Counters are never negative; a negative one would be a bug, shown as 0 rather than wrapped.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
