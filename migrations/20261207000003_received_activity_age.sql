-- The hourly pruning of received activities past retention finds them by
-- age: without this index each pass read the whole table (a million rows
-- and more on a busy hub), and deleted in one long transaction.
CREATE INDEX ap_activities_received ON ap_activities (local, created_at);
