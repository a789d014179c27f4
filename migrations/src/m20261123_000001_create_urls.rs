use crate::sql_migration::SqlMigration;

const UP: &str = r"
CREATE TABLE urls (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    short_code   TEXT        NOT NULL CONSTRAINT urls_short_code_key UNIQUE
                             CONSTRAINT urls_short_code_format CHECK (short_code ~ '^[0-9A-Za-z]{8}$'),
    original_url TEXT        NOT NULL
                             CONSTRAINT urls_original_url_length CHECK (octet_length(original_url) <= 2048),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Listing sorts by created_at or original_url; id breaks ties so pages never overlap.
CREATE INDEX urls_created_at_id_idx ON urls (created_at, id);
CREATE INDEX urls_original_url_id_idx ON urls (original_url, id);

-- search is a substring match (ILIKE '%term%'), which only a trigram index can serve.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX urls_original_url_trgm_idx ON urls USING gin (original_url gin_trgm_ops);
";

const DOWN: &str = "DROP TABLE urls;";

pub(crate) const MIGRATION: SqlMigration = SqlMigration {
    name: "m20261123_000001_create_urls",
    up: UP,
    down: DOWN,
};
