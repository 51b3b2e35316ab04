-- Federation core: remote actors and their keys, received objects,
-- reactions, reports, domain blocks, app tokens and the delivery queue.
-- Same dialect rules as the foundations migration.

-- Remote actors we have fetched (key cache; refetched on rotation).
CREATE TABLE remote_actors (
    id              TEXT PRIMARY KEY,
    domain          TEXT NOT NULL,
    inbox           TEXT NOT NULL,
    shared_inbox    TEXT,
    key_id          TEXT NOT NULL,
    public_key_pem  TEXT NOT NULL,
    fetched_at      BIGINT NOT NULL
);
CREATE INDEX remote_actors_key ON remote_actors (key_id);

-- Posts: our apps' (local = 1) and those received from others.
CREATE TABLE objects (
    id            TEXT PRIMARY KEY,
    app_name      TEXT REFERENCES apps (name) ON DELETE CASCADE,
    attributed_to TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    name          TEXT,
    content       TEXT NOT NULL,
    in_reply_to   TEXT,
    local         BIGINT NOT NULL CHECK (local IN (0, 1)),
    published     BIGINT NOT NULL,
    updated       BIGINT,
    deleted       BIGINT
);
CREATE INDEX objects_by_author ON objects (attributed_to);
CREATE INDEX objects_by_parent ON objects (in_reply_to);

-- Likes and announces, received or sent; one per (kind, actor, object).
CREATE TABLE reactions (
    activity_id  TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('Like', 'Announce')),
    actor        TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (kind, actor, object_id)
);
CREATE INDEX reactions_by_object ON reactions (object_id, kind);

-- Flag activities, kept for the Moderation issue.
CREATE TABLE reports (
    activity_id  TEXT PRIMARY KEY,
    actor        TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- Domains whose traffic is refused at ingress ('suspend'); the Moderation
-- issue adds severities.
CREATE TABLE domain_blocks (
    domain      TEXT PRIMARY KEY,
    severity    TEXT NOT NULL CHECK (severity IN ('suspend')),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

-- Bearer tokens for the publishing API, stored as SHA-256 hex.
CREATE TABLE app_tokens (
    token_hash  TEXT PRIMARY KEY,
    app_name    TEXT NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);

-- The persistent delivery queue: one row per (activity, inbox).
CREATE TABLE delivery_jobs (
    id               TEXT PRIMARY KEY,
    seq              BIGINT NOT NULL,
    activity_id      TEXT NOT NULL,
    object_id        TEXT,
    key_id           TEXT NOT NULL,
    inbox            TEXT NOT NULL,
    host             TEXT NOT NULL,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (state, next_attempt_at);
-- Lets a claim walk pending jobs in seq order and stop at its LIMIT.
CREATE INDEX delivery_jobs_pending ON delivery_jobs (state, seq);
CREATE INDEX delivery_jobs_order ON delivery_jobs (inbox, object_id, seq);
CREATE INDEX delivery_jobs_seq ON delivery_jobs (seq);

-- Per-host delivery health: a host failing for days is skipped until it is
-- heard from again.
CREATE TABLE hosts (
    host           TEXT PRIMARY KEY,
    failing_since  BIGINT,
    unavailable    BIGINT NOT NULL DEFAULT 0 CHECK (unavailable IN (0, 1)),
    last_success   BIGINT
);
