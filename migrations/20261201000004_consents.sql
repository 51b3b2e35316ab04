-- Remembered consent: the scopes a member allowed a third-party client, so
-- that a later authorization request for the same or fewer scopes is not
-- asked again (as Mastodon does). One row per (member, client); `scopes`
-- is the union of every "Allow", space-separated, sorted and deduplicated.
-- Revoking access deletes the row together with the member's tokens and
-- codes for that client. First-party member apps never have a row: they
-- are trusted without consent.
CREATE TABLE oauth_consents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
-- For the cascade when a client is deleted.
CREATE INDEX oauth_consents_by_client ON oauth_consents (client_id);

-- Revoking one member's access for one client finds their tokens here
-- rather than by scanning every token. Client-credentials tokens (no
-- member, the bulk of the table) stay out of the index, so issuing them
-- costs no more than before.
CREATE INDEX oauth_tokens_by_member ON oauth_tokens (user_id, client_id)
    WHERE user_id IS NOT NULL;
