-- Moderation of single remote actors (Mastodon's account silence and
-- suspension), and posts an admin hid from this hub's pages and timeline.
CREATE TABLE actor_moderation (
    actor_id    TEXT PRIMARY KEY,
    severity    TEXT NOT NULL CHECK (severity IN ('silence', 'suspend')),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
ALTER TABLE objects ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));
