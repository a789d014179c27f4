use crate::sql_migration::SqlMigration;

const UP: &str = r"
-- Keys are revoked, never deleted: the links they made keep naming them. Only the SHA-256 of a
-- key is kept (see domain::ApiKey), and authentication looks it up by that hash.
CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT        NOT NULL
                           CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    hash       BYTEA       NOT NULL CONSTRAINT api_keys_hash_key UNIQUE
                           CONSTRAINT api_keys_hash_length CHECK (octet_length(hash) = 32),
    role       TEXT        NOT NULL CONSTRAINT api_keys_role CHECK (role IN ('admin', 'member')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- The key that made a link; NULL for links made anonymously (and for every link made before
-- keys existed), which only admins manage. A nullable column without a default is added
-- without rewriting the table.
ALTER TABLE urls ADD COLUMN owner_key_id BIGINT REFERENCES api_keys (id);

-- A member's listing is one owner's links in either order: the same index ranges as the
-- admin's listing, behind the owner.
CREATE INDEX urls_owner_created_at_id_idx ON urls (owner_key_id, created_at, id);
CREATE INDEX urls_owner_original_url_id_idx ON urls (owner_key_id, original_url, id);
";

const DOWN: &str = "
ALTER TABLE urls DROP COLUMN owner_key_id;
DROP TABLE api_keys;
";

pub(crate) const MIGRATION: SqlMigration = SqlMigration {
    name: "m20261201_000004_create_api_keys",
    up: UP,
    down: DOWN,
};
