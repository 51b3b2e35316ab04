-- What each app is told: who followed or asked to, liked, announced,
-- replied to or mentioned it, newest last (ids are time-ordered), once per
-- activity and kind. An app may register a webhook: each notification is
-- then also POSTed to it through the delivery queue (`kind = 'webhook'`),
-- signed with HMAC-SHA256 under the webhook's secret.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    app_name     TEXT NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('follow', 'follow_request', 'like', 'announce', 'reply', 'mention')),
    actor        TEXT NOT NULL,
    object_id    TEXT,
    activity_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (app_name, activity_id, kind)
);
CREATE INDEX notifications_by_app ON notifications (app_name, id);

CREATE TABLE app_webhooks (
    app_name    TEXT PRIMARY KEY REFERENCES apps (name) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

ALTER TABLE delivery_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'activity' CHECK (kind IN ('activity', 'webhook'));
