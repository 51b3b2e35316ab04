-- The claim walks due jobs through an index of pending jobs only: a
-- delivered job leaves it (its done-mark writes one index entry fewer),
-- and the index stays as small as the queue, not as the week of history.
-- (state, seq) served claims ordered by seq, which no query does any more.
DROP INDEX delivery_jobs_due;
DROP INDEX delivery_jobs_pending;
CREATE INDEX delivery_jobs_due ON delivery_jobs (next_attempt_at) WHERE state = 'pending';
