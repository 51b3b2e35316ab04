-- The images an operator sets for an app: its avatar (AS2 `icon`) and its
-- header (AS2 `image`). At most one of each per app; an app without an
-- avatar is shown its generated one, without a header none. The bytes are
-- checked before they get here (PNG, JPEG, GIF or WebP, at most 2 MiB,
-- sides 1..=4096: src/actors/media.rs).
--
-- BYTEA is PostgreSQL's binary type. SQLite takes any type name: BYTEA
-- gives the column NUMERIC affinity, which stores a bound blob unchanged
-- (affinity only converts text), and sqlx's Any driver binds and reads
-- Vec<u8> on both (tests/avatars.rs runs on both).
CREATE TABLE app_media (
    app_name    TEXT NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('avatar', 'header')),
    media_type  TEXT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    bytes       BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (app_name, kind)
);
