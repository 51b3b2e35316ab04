-- Delivery claims leave out unavailable hosts with one list per claim
-- (db::delivery::claim): this index keeps that list a lookup of the few
-- unavailable hosts, not a scan of every host ever heard from.
CREATE INDEX hosts_unavailable ON hosts (host) WHERE unavailable = 1;
