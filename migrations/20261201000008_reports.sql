-- Reports become things an admin acts on: where they came from (a remote
-- server's Flag, or a member app through the API), whether they are open,
-- who resolved them, how and when, and when a report was forwarded to the
-- reported actor's server.
ALTER TABLE reports ADD COLUMN source TEXT NOT NULL DEFAULT 'remote' CHECK (source IN ('remote', 'app'));
ALTER TABLE reports ADD COLUMN app_name TEXT;
ALTER TABLE reports ADD COLUMN status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved'));
ALTER TABLE reports ADD COLUMN resolved_by TEXT;
ALTER TABLE reports ADD COLUMN resolved_at BIGINT;
ALTER TABLE reports ADD COLUMN resolution TEXT;
ALTER TABLE reports ADD COLUMN forwarded_at BIGINT;
CREATE INDEX reports_by_status ON reports (status, created_at);
