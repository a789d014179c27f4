//! Data for the scenarios, written straight into PostgreSQL by set-based SQL (as a backfill
//! would), so that seeding millions of rows takes seconds, not the run.

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// `count` links with codes `{prefix}0000001`, `{prefix}0000002`, ... (the codes wrk asks for).
pub(crate) async fn links(db: &DatabaseConnection, prefix: char, count: u64) {
    exec(
        db,
        &format!(
            "INSERT INTO urls (short_code, original_url)
             SELECT '{prefix}' || lpad(i::text, 7, '0'), 'https://example.com/{prefix}/' || i
             FROM generate_series(1, {count}) AS i"
        ),
    )
    .await;
    settle(db, "urls").await;
}

/// A new admin key, made as `admin keys create` makes one, for the loads that need one.
pub(crate) async fn api_key(db: &DatabaseConnection) -> String {
    use application::ports::{RandomKeys, SystemClock};
    let keys = adapter_postgres::PgKeyStore::new(db.clone());
    let made = application::use_cases::create_key(
        &keys,
        &RandomKeys,
        &SystemClock,
        "bench",
        domain::Role::Admin,
    )
    .await;
    made.expect("a key").1.reveal().to_owned()
}

/// Grows `code`'s stored clicks from `from` to `to`: the rows, and the counter the consumer
/// keeps beside them.
pub(crate) async fn clicks(db: &DatabaseConnection, code: &str, from: u64, to: u64) {
    exec(
        db,
        &format!(
            "INSERT INTO clicks (event_id, short_code, clicked_at, device_type, traffic_source)
             SELECT gen_random_uuid(), '{code}', now() - (i % 30) * interval '1 day', 'Desktop', 'Direct'
             FROM generate_series({}, {to}) AS i",
            from + 1
        ),
    )
    .await;
    exec(
        db,
        &format!(
            "INSERT INTO link_click_totals (short_code, clicks) VALUES ('{code}', {to})
             ON CONFLICT (short_code) DO UPDATE SET clicks = EXCLUDED.clicks"
        ),
    )
    .await;
    settle(db, "clicks").await;
}

/// Vacuums and analyses a bulk-loaded table and writes its pages out, as an operator would
/// after a backfill: otherwise autovacuum and the checkpointer catch up on millions of new rows
/// during the next measurement, which is then of them and not of the scenario.
async fn settle(db: &DatabaseConnection, table: &str) {
    exec(db, &format!("VACUUM (ANALYZE) {table}")).await;
    exec(db, "CHECKPOINT").await;
}

/// Clicks counted so far, over every link.
pub(crate) async fn counted(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT coalesce(sum(clicks), 0)::bigint FROM link_click_totals",
        ))
        .await
        .expect("count the clicks")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("a bigint")
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}
