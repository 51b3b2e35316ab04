-- OAuth2 / OpenID Connect: members, their browser sessions, registered
-- clients, authorization codes, tokens and the id_token signing key.
-- Same dialect rules as the foundations migration. Every secret a client or
-- browser holds (session ids, client secrets, codes, tokens) is stored as
-- its SHA-256 hash; passwords as argon2id PHC strings.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    is_admin       BIGINT NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled       BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     BIGINT NOT NULL
);

-- Server-side SSO sessions; the cookie carries the id, the row its hash.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- first_party = 1: a member app (app_name set), trusted without consent.
-- secret_hash NULL: a public client (PKCE required).
CREATE TABLE oauth_clients (
    client_id      TEXT PRIMARY KEY,
    secret_hash    TEXT,
    name           TEXT NOT NULL,
    website        TEXT,
    redirect_uris  TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    first_party    BIGINT NOT NULL DEFAULT 0 CHECK (first_party IN (0, 1)),
    app_name       TEXT REFERENCES apps (name) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_clients_by_app ON oauth_clients (app_name);

-- Authorization codes: single use (used_at), short-lived. family_id ties
-- the code to every token issued from it, so a replay can revoke them.
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    -- 1 when the authorize request named redirect_uri: the token request
    -- must then name the same one (RFC 6749 §4.1.3).
    redirect_uri_given BIGINT NOT NULL CHECK (redirect_uri_given IN (0, 1)),
    scope           TEXT NOT NULL,
    nonce           TEXT,
    pkce            TEXT,
    auth_time       BIGINT NOT NULL,
    session_hash    TEXT,
    family_id       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    -- Set when the code is presented a second time; tokens are only stored
    -- for a code not replayed, under a lock on this row.
    replayed_at     BIGINT
);
CREATE INDEX oauth_codes_by_session ON oauth_codes (session_hash);

-- Access and refresh tokens. user_id NULL: a client_credentials token,
-- acting as the client (and, for a member app, as its actor). A refresh
-- token that has been rotated keeps its row (rotated_at) so that its reuse
-- is recognised and revokes the family.
CREATE TABLE oauth_tokens (
    token_hash    TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id     TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    family_id     TEXT NOT NULL,
    session_hash  TEXT,
    auth_time     BIGINT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    rotated_at    BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX oauth_tokens_by_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_by_session ON oauth_tokens (session_hash);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (expires_at);

-- The id_token signing key, apart from the federation keypair: rotating
-- one must never touch the other.
CREATE TABLE oidc_keys (
    kid              TEXT PRIMARY KEY,
    private_key_der  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
