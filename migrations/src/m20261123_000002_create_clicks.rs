use crate::sql_migration::SqlMigration;

// One row per click event. event_id is the primary key, so a redelivered event inserts nothing
// (INSERT ... ON CONFLICT DO NOTHING). No foreign key to urls: a link's clicks outlive the link,
// and the consumer must never block on the link table.
const UP: &str = r"
CREATE TABLE clicks (
    event_id       UUID        PRIMARY KEY,
    short_code     TEXT        NOT NULL,
    clicked_at     TIMESTAMPTZ NOT NULL,
    country_code   CHAR(2)     NOT NULL DEFAULT 'XX',
    device_type    TEXT        NOT NULL,
    traffic_source TEXT        NOT NULL,
    ip             INET,
    user_agent     TEXT,
    referer        TEXT,
    ingested_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per-link stats over a time range.
CREATE INDEX clicks_short_code_clicked_at_idx ON clicks (short_code, clicked_at);
";

const DOWN: &str = "DROP TABLE clicks;";

pub(crate) const MIGRATION: SqlMigration = SqlMigration {
    name: "m20261123_000002_create_clicks",
    up: UP,
    down: DOWN,
};
