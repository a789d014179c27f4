use application::ports::{StatsStore, StoreError};
use async_trait::async_trait;
use chrono::NaiveDate;
use domain::{ClickStats, CountryCode, DayRange, DeviceType, ShortCode, TrafficSource};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};

use crate::error::stats_error;
use crate::metrics::SqlMetrics;

/// `StatsStore` on the counters the click store keeps: never a scan of `clicks`.
#[derive(Debug, Clone)]
pub struct PgStatsStore {
    db: DatabaseConnection,
    metrics: SqlMetrics,
}

impl PgStatsStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            metrics: SqlMetrics::new(),
        }
    }
}

const COUNT: &str = "SELECT clicks FROM link_click_totals WHERE short_code = $1";

// One pass over the link's rollups in the range, summed five ways at once. GROUPING() tells
// which breakdown a row belongs to (a bit per column, 1 = rolled up).
const STATS: &str = r"
SELECT GROUPING(day, country_code, device_type, traffic_source) AS grouping,
       day, country_code, device_type, traffic_source, sum(clicks)::bigint AS clicks
FROM click_daily_rollups
WHERE short_code = $1 AND day BETWEEN $2 AND $3
GROUP BY GROUPING SETS ((day), (country_code), (device_type), (traffic_source), ())
ORDER BY grouping, day, clicks DESC, country_code, device_type, traffic_source
";

// GROUPING() bit patterns of each set: day is the most significant of the four columns.
const BY_DAY: i32 = 0b0111;
const BY_COUNTRY: i32 = 0b1011;
const BY_DEVICE: i32 = 0b1101;
const BY_SOURCE: i32 = 0b1110;
const TOTAL: i32 = 0b1111;

#[async_trait]
impl StatsStore for PgStatsStore {
    async fn click_count(&self, code: &ShortCode) -> Result<u64, StoreError> {
        let statement =
            Statement::from_sql_and_values(DbBackend::Postgres, COUNT, [code.as_str().into()]);
        let row = self
            .metrics
            .measure("click_count", async {
                self.db
                    .query_one_raw(statement)
                    .await
                    .map_err(|e| stats_error(&e))
            })
            .await?;
        match row {
            Some(row) => Ok(count(
                row.try_get_by_index::<i64>(0)
                    .map_err(|e| stats_error(&e))?,
            )),
            None => Ok(0),
        }
    }

    async fn click_stats(
        &self,
        code: &ShortCode,
        range: DayRange,
    ) -> Result<ClickStats, StoreError> {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            STATS,
            [code.as_str().into(), range.from().into(), range.to().into()],
        );
        let rows = self
            .metrics
            .measure("click_stats", async {
                self.db
                    .query_all_raw(statement)
                    .await
                    .map_err(|e| stats_error(&e))
            })
            .await?;
        let mut stats = ClickStats::default();
        for row in rows {
            add_row(&mut stats, &row).map_err(|e| stats_error(&e))?;
        }
        Ok(stats)
    }
}

fn add_row(stats: &mut ClickStats, row: &QueryResult) -> Result<(), sea_orm::DbErr> {
    let clicks = count(row.try_get::<Option<i64>>("", "clicks")?.unwrap_or(0));
    let text = |column: &str| row.try_get::<Option<String>>("", column);
    let unknown = |what: &str, value: &str| {
        sea_orm::DbErr::Custom(format!(
            "click_daily_rollups holds an unknown {what} '{value}'"
        ))
    };
    match row.try_get::<i32>("", "grouping")? {
        BY_DAY => {
            if let Some(day) = row.try_get::<Option<NaiveDate>>("", "day")? {
                stats.by_day.push((day, clicks));
            }
        }
        BY_COUNTRY => {
            let code = text("country_code")?.unwrap_or_default();
            let country = CountryCode::parse(&code).ok_or_else(|| unknown("country", &code))?;
            stats.by_country.push((country, clicks));
        }
        BY_DEVICE => {
            let name = text("device_type")?.unwrap_or_default();
            let device = DeviceType::parse(&name).ok_or_else(|| unknown("device type", &name))?;
            stats.by_device.push((device, clicks));
        }
        BY_SOURCE => {
            let name = text("traffic_source")?.unwrap_or_default();
            let source =
                TrafficSource::parse(&name).ok_or_else(|| unknown("traffic source", &name))?;
            stats.by_source.push((source, clicks));
        }
        TOTAL => stats.total = clicks,
        _ => {}
    }
    Ok(())
}

/// Counters are never negative; a negative one would be a bug, shown as 0 rather than wrapped.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
