-- Sign-in attempts counted by the login throttle, shared by every process
-- of a deployment so its limits hold for the whole deployment rather than
-- per process. One row is one attempt against one key: 'account:NAME' or
-- 'ip:ADDRESS'. A refused attempt removes its rows, a successful one its
-- account's rows and its own IP row; rows older than the window are
-- deleted as new attempts come.
CREATE TABLE login_attempts (
    id            TEXT PRIMARY KEY,
    throttle_key  TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX login_attempts_key_at ON login_attempts (throttle_key, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
