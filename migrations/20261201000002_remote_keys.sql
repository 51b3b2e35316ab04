-- Which actor owns a key id: one owner per key id, written only once
-- ownership is proven (the document at the key's URL names the actor, and
-- the actor's own document lists the key). remote_actors.key_id stays the
-- key an actor's document lists first, which anyone's document can claim,
-- so signatures are never resolved through it. Rows start empty: keys are
-- fetched again and proven on first use.
CREATE TABLE remote_keys (
    key_id    TEXT PRIMARY KEY,
    actor_id  TEXT NOT NULL REFERENCES remote_actors (id) ON DELETE CASCADE
);
CREATE INDEX remote_keys_actor ON remote_keys (actor_id);
