-- Modern signatures: an actor may own several keys (its RSA publicKey and
-- the Ed25519 Multikeys of its assertionMethod), so each proven key keeps
-- its own text here: PEM, or a Multikey's publicKeyMultibase. Verification
-- reads it from this row; rows proven before this migration have none and
-- fall back to remote_actors.public_key_pem, the only key they knew.
-- remote_actors.key_id and public_key_pem now record the key last proven
-- and are not used to verify anything.
ALTER TABLE remote_keys ADD COLUMN public_key TEXT;
