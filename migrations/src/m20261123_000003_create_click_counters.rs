use crate::sql_migration::SqlMigration;

// Counting must cost the same at ten clicks and at ten million, so the consumer keeps these up
// to date in the same statement that inserts the clicks (see adapters/postgres click_store.rs):
// a total per link, and per-day rollups by the dimensions that stats are asked for.
const UP: &str = r"
CREATE TABLE link_click_totals (
    short_code TEXT   PRIMARY KEY,
    clicks     BIGINT NOT NULL
);

CREATE TABLE click_daily_rollups (
    short_code     TEXT    NOT NULL,
    day            DATE    NOT NULL,
    country_code   CHAR(2) NOT NULL,
    device_type    TEXT    NOT NULL,
    traffic_source TEXT    NOT NULL,
    clicks         BIGINT  NOT NULL,
    PRIMARY KEY (short_code, day, country_code, device_type, traffic_source)
);
";

const DOWN: &str = "DROP TABLE click_daily_rollups; DROP TABLE link_click_totals;";

pub(crate) const MIGRATION: SqlMigration = SqlMigration {
    name: "m20261123_000003_create_click_counters",
    up: UP,
    down: DOWN,
};
