-- A counter that every change to domain_blocks or actor_moderation raises
-- in the same transaction. Hubs keep what the inbox's gate read of those
-- tables in memory and read this one row instead, a few times a second,
-- to learn that another process (the CLI, another hub) changed them.
CREATE TABLE moderation_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO moderation_version (id, version) VALUES (1, 0);
