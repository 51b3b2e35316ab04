-- Domain blocks with Mastodon's severities and options (the table is
-- rebuilt: SQLite cannot change a CHECK constraint in place). Existing
-- blocks were all suspensions; their reason becomes the private comment.
CREATE TABLE domain_blocks_new (
    domain           TEXT PRIMARY KEY,
    severity         TEXT NOT NULL CHECK (severity IN ('silence', 'suspend', 'noop')),
    reject_media     BIGINT NOT NULL DEFAULT 0 CHECK (reject_media IN (0, 1)),
    reject_reports   BIGINT NOT NULL DEFAULT 0 CHECK (reject_reports IN (0, 1)),
    private_comment  TEXT NOT NULL DEFAULT '',
    public_comment   TEXT NOT NULL DEFAULT '',
    obfuscate        BIGINT NOT NULL DEFAULT 0 CHECK (obfuscate IN (0, 1)),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
INSERT INTO domain_blocks_new (domain, severity, private_comment, created_at, updated_at)
    SELECT domain, severity, reason, created_at, created_at FROM domain_blocks;
DROP TABLE domain_blocks;
ALTER TABLE domain_blocks_new RENAME TO domain_blocks;

-- Every moderation action, appended and never changed: who (an admin's
-- name, or `cli`), what, on what, when, with the comment given and the
-- details of the change as JSON. The code has no UPDATE or DELETE for it.
CREATE TABLE audit_log (
    id        TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    comment   TEXT NOT NULL DEFAULT '',
    details   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_time ON audit_log (at, id);
