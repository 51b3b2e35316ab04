-- Double-knock (RFC 9421 first, draft-cavage for hosts that refuse it):
-- until when (ms since the epoch) a host that refused an RFC 9421
-- signature is sent draft-cavage only. NULL: RFC 9421 first.
ALTER TABLE hosts ADD COLUMN cavage_until BIGINT;
