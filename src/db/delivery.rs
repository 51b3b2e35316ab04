//! The persistent delivery queue. Jobs are claimed with a lease: on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED` so several hub processes share
//! the queue without claiming the same job, on SQLite (one writer) by the
//! atomic `UPDATE … RETURNING` alone. A crashed worker's lease expires and
//! the job is claimed again; receivers dedup by activity id, so a retry
//! after a crash is delivered once in effect.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Backend, Db};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub activity_id: String,
    /// `activity` (an ActivityPub delivery) or `webhook` (a notification
    /// to an app's webhook).
    pub kind: String,
    /// For activities, the key id they are signed under; for webhooks, the
    /// app whose webhook secret signs them.
    pub key_id: String,
    pub inbox: String,
    pub host: String,
    /// What is sent: a webhook's own, or the activity as stored (empty if
    /// it no longer is), shared by the jobs of one claim.
    pub body: Arc<str>,
    pub attempts: i64,
    /// The lease this claim holds; outcomes are recorded only while it
    /// still holds, so a worker whose lease ran out cannot overwrite what
    /// the worker that took over recorded.
    pub lease_until: i64,
}

/// A claimed row: a job whose body (empty for an activity) is still to
/// be filled in from the stored activity.
#[derive(FromRow)]
struct ClaimedRow {
    id: String,
    activity_id: String,
    kind: String,
    key_id: String,
    inbox: String,
    host: String,
    body: String,
    attempts: i64,
    lease_until: i64,
}

/// Queues one activity for many inboxes, inside the caller's transaction
/// (the transactional outbox: the activity and its jobs commit together).
/// The activity must be stored (`ap_activities`, local) in the same
/// transaction: a job keeps no copy of the body, which a claim reads from
/// there (a fan-out to 100,000 inboxes once wrote 100,000 copies).
pub async fn enqueue(
    conn: &mut AnyConnection,
    activity_id: &str,
    object_id: Option<&str>,
    key_id: &str,
    inboxes: &[String],
) -> Result<usize, AppError> {
    if inboxes.is_empty() {
        return Ok(0);
    }
    // One sequence number per activity: a later activity about the same
    // object (Update after Create) always sorts after it.
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_jobs")
        .fetch_one(&mut *conn)
        .await?;
    let now = now_millis();
    let mut queued = 0;
    // Many rows per statement: a fan-out to 10,000 inboxes was 10,000
    // round trips inside the publishing request's transaction.
    for chunk in inboxes.chunks(ENQUEUE_ROWS) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = 6 + 3 * i;
                format!(
                    "(${p}, $1, $2, $3, $4, ${}, ${}, '', 'pending', 0, $5, 0, $5)",
                    p + 1,
                    p + 2
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO delivery_jobs (id, seq, activity_id, object_id, key_id, inbox, host, body, state, \
             attempts, next_attempt_at, lease_until, created_at) VALUES {} \
             ON CONFLICT (activity_id, inbox) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(seq)
            .bind(activity_id)
            .bind(object_id)
            .bind(key_id)
            .bind(now);
        for inbox in chunk {
            query = query
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(inbox.as_str())
                .bind(crate::net::authority_of(inbox).unwrap_or_default());
        }
        queued += query.execute(&mut *conn).await?.rows_affected() as usize;
    }
    Ok(queued)
}

/// Jobs inserted per statement when queueing (3 parameters each).
const ENQUEUE_ROWS: usize = 200;

/// Queues a notification for an app's webhook, inside the caller's
/// transaction; `id` (the notification's) is its activity id, so a
/// notification is queued once.
pub async fn enqueue_webhook(
    conn: &mut AnyConnection,
    id: &str,
    app: &str,
    body: &str,
    url: &str,
) -> Result<(), AppError> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_jobs")
        .fetch_one(&mut *conn)
        .await?;
    let now = now_millis();
    sqlx::query(
        "INSERT INTO delivery_jobs (id, seq, activity_id, object_id, key_id, inbox, host, body, state, \
         attempts, next_attempt_at, lease_until, created_at, kind) \
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, 'pending', 0, $8, 0, $8, 'webhook') \
         ON CONFLICT (activity_id, inbox) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(seq)
    .bind(id)
    .bind(app)
    .bind(url)
    .bind(crate::net::authority_of(url).unwrap_or_default())
    .bind(body)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` due jobs for `lease_ms`. A job waits while an
/// earlier job about the same object to the same inbox is still pending,
/// and while its host is marked unavailable.
pub async fn claim(db: &Db, limit: i64, lease_ms: i64) -> Result<Vec<Job>, AppError> {
    let now = now_millis();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = claim_sql(lock);
    let rows: Vec<ClaimedRow> = if db.backend() == Backend::Postgres {
        // SKIP LOCKED lets claims run beside the outcomes' writers; inside
        // their groups they would hold their locks until each group ends.
        sqlx::query_as(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(db.pool())
            .await?
    } else {
        // A claim is a write: on SQLite it goes through the one writer with
        // the outcomes it competes with, instead of sleeping on the write
        // lock.
        let sql: Arc<str> = sql.into();
        db.group()
            .run(move |conn| {
                let sql = sql.clone();
                Box::pin(async move {
                    Ok(sqlx::query_as(&sql)
                        .bind(now + lease_ms)
                        .bind(now)
                        .bind(limit)
                        .fetch_all(conn)
                        .await?)
                })
            })
            .await?
    };
    match bodies(db, &rows).await {
        Ok(bodies) => Ok(with_bodies(rows, &bodies)),
        Err(e) => {
            // Committed, so leased: given back at once rather than left
            // until the lease runs out.
            let leases: Vec<(String, i64)> =
                rows.into_iter().map(|r| (r.id, r.lease_until)).collect();
            if let Err(release) = release(db, &leases).await {
                tracing::warn!(error = %release, jobs = leases.len(),
                    "cannot give back claimed jobs; they are claimed again when their lease ends");
            }
            Err(e)
        }
    }
}

/// The claim: `$1` the new lease's end, `$2` now, `$3` the limit.
fn claim_sql(lock: &str) -> String {
    // Due jobs in the order they fell due, walking the index of pending
    // jobs by next_attempt_at and stopping at the limit. Ordered by seq, both
    // backends walked every pending job of a fan-out on each claim (SQLite
    // sorted them all; PostgreSQL stepped over the delivered ones), which
    // made a fan-out to 100,000 inboxes quadratic. Order per object and
    // inbox is kept by the first NOT EXISTS, not by this order.
    // Unavailable hosts are a NOT IN, not a NOT EXISTS: as an anti-join
    // PostgreSQL estimated that it removed every job whose host has a row
    // in `hosts` (one host took all 100,000 jobs of a fan-out), expected one
    // row, and chose to sort every pending job instead of walking the index
    // to the limit: 420 ms a claim at 100,000 jobs instead of 12.
    // `p.state || ''` keeps the pending-jobs index out of the order check,
    // so that it is always a lookup on (inbox, object_id, seq): with
    // statistics taken while no job was pending (a queue of delivered jobs,
    // then a fan-out), PostgreSQL estimated one pending row and scanned
    // every pending job for each candidate, 60-90 ms a claim at 10,000.
    format!(
        "UPDATE delivery_jobs SET lease_until = $1, attempts = attempts + 1 WHERE id IN ( \
           SELECT j.id FROM delivery_jobs j \
           WHERE j.state = 'pending' AND j.next_attempt_at <= $2 AND j.lease_until <= $2 \
             AND NOT EXISTS (SELECT 1 FROM delivery_jobs p WHERE p.inbox = j.inbox \
                 AND p.object_id = j.object_id AND p.seq < j.seq AND p.state || '' = 'pending') \
             AND j.host NOT IN (SELECT h.host FROM hosts h WHERE h.unavailable = 1 AND h.host IS NOT NULL) \
           ORDER BY j.next_attempt_at LIMIT $3 {lock}) \
         RETURNING id, activity_id, kind, key_id, inbox, host, body, attempts, lease_until"
    )
}

/// The bodies of the claimed jobs' activities: read once per activity of
/// the claim (a fan-out's claim is one activity), not once per job. Read
/// per job in the claim, the same body crossed from the database once per
/// inbox.
async fn bodies(db: &Db, rows: &[ClaimedRow]) -> Result<HashMap<String, Arc<str>>, AppError> {
    let mut wanted: Vec<&str> = rows
        .iter()
        .filter(|r| r.body.is_empty())
        .map(|r| r.activity_id.as_str())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut bodies: HashMap<String, Arc<str>> = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(BODY_READS) {
        let sql = format!(
            "SELECT id, body FROM ap_activities WHERE local = 1 AND id IN ({})",
            super::placeholders(chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for (id, body) in query.fetch_all(db.pool()).await? {
            bodies.insert(id, body.into());
        }
    }
    Ok(bodies)
}

/// The jobs, each with its body (an activity's shared, not copied).
fn with_bodies(rows: Vec<ClaimedRow>, bodies: &HashMap<String, Arc<str>>) -> Vec<Job> {
    let none: Arc<str> = Arc::from("");
    rows.into_iter()
        .map(|r| Job {
            body: if r.body.is_empty() {
                // No longer stored: the attempt says so and gives up.
                bodies.get(&r.activity_id).unwrap_or(&none).clone()
            } else {
                r.body.into()
            },
            id: r.id,
            activity_id: r.activity_id,
            kind: r.kind,
            key_id: r.key_id,
            inbox: r.inbox,
            host: r.host,
            attempts: r.attempts,
            lease_until: r.lease_until,
        })
        .collect()
}

/// Activities whose bodies are read per statement.
const BODY_READS: usize = 100;

/// Records an outcome, but only while `job`'s lease still holds. Outcomes
/// arrive as fast as deliveries finish: they are committed in groups
/// ([`super::group`]), and this returns once the outcome is durable.
async fn finish(
    db: &Db,
    job: &Job,
    sql: &'static str,
    error: Option<&str>,
    at_ms: i64,
) -> Result<(), AppError> {
    let (id, lease) = (job.id.clone(), job.lease_until);
    let error = error.map(str::to_string);
    db.group()
        .run(move |conn| {
            let (id, error) = (id.clone(), error.clone());
            Box::pin(async move {
                sqlx::query(sql)
                    .bind(id)
                    .bind(lease)
                    .bind(error)
                    .bind(at_ms)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
}

/// Marks many delivered jobs done at once, each only while its lease (the
/// second of each pair) still holds: one statement per 64 jobs, committed
/// in one group. A fan-out finishes thousands of jobs a second, and one
/// statement each was a hand-off to the database per delivery.
pub async fn mark_done_many(db: &Db, jobs: Vec<(String, i64)>) -> Result<(), AppError> {
    let jobs = Arc::new(jobs);
    let at = now_millis();
    db.group()
        .run(move |conn| {
            let jobs = jobs.clone();
            Box::pin(async move {
                for chunk in jobs.chunks(64) {
                    let matches: Vec<String> = (0..chunk.len())
                        .map(|i| format!("(id = ${} AND lease_until = ${})", 2 * i + 2, 2 * i + 3))
                        .collect();
                    let sql = format!(
                        "UPDATE delivery_jobs SET state = 'done', lease_until = 0, last_error = NULL, \
                         next_attempt_at = $1 WHERE {}",
                        matches.join(" OR ")
                    );
                    let mut query = sqlx::query(&sql).bind(at);
                    for (id, lease) in chunk {
                        query = query.bind(id.as_str()).bind(*lease);
                    }
                    query.execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .await
}

/// Gives back claimed jobs that were never attempted (the worker is
/// stopping): claimable again at once, their attempt not counted.
pub async fn release(db: &Db, jobs: &[(String, i64)]) -> Result<(), AppError> {
    for (id, lease) in jobs {
        sqlx::query(
            "UPDATE delivery_jobs SET lease_until = 0, attempts = attempts - 1 \
             WHERE id = $1 AND lease_until = $2",
        )
        .bind(id)
        .bind(lease)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

pub async fn mark_dead(db: &Db, job: &Job, error: &str) -> Result<(), AppError> {
    finish(
        db,
        job,
        "UPDATE delivery_jobs SET state = 'dead', lease_until = 0, last_error = $3, next_attempt_at = $4 \
         WHERE id = $1 AND lease_until = $2",
        Some(error),
        now_millis(),
    )
    .await
}

pub async fn retry_at(db: &Db, job: &Job, at_ms: i64, error: &str) -> Result<(), AppError> {
    finish(
        db,
        job,
        "UPDATE delivery_jobs SET lease_until = 0, last_error = $3, next_attempt_at = $4 \
         WHERE id = $1 AND lease_until = $2",
        Some(error),
        at_ms,
    )
    .await
}

#[derive(Debug, FromRow)]
pub struct HostStatus {
    pub host: String,
    pub pending: i64,
    pub failed: i64,
    pub dead: i64,
    pub done: i64,
}

/// Counts per host: pending, failed (pending after at least one failed
/// attempt), dead and done.
pub async fn status(db: &Db) -> Result<Vec<HostStatus>, AppError> {
    Ok(sqlx::query_as(
        "SELECT host, \
           SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending, \
           SUM(CASE WHEN state = 'pending' AND last_error IS NOT NULL THEN 1 ELSE 0 END) AS failed, \
           SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead, \
           SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS done \
         FROM delivery_jobs GROUP BY host ORDER BY host",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Pending jobs in all; the worker sleeps when there are none due.
pub async fn pending_count(db: &Db) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM delivery_jobs WHERE state = 'pending'")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Refreshes PostgreSQL's statistics of the queue. Taken while no job was
/// pending (a week of delivered jobs, then a fan-out queued), they say a
/// pending job is rare, and the claim is planned as a scan and sort of
/// every pending job instead of a walk of the due index that stops at its
/// limit: 10-23 ms a claim at 10,000 pending jobs instead of 2, growing
/// with the queue, until autovacuum analyzes the table (which may be after
/// the fan-out is over). SQLite keeps no statistics unless asked to, so its
/// plans do not move and it is left alone.
pub async fn refresh_statistics(db: &Db) -> Result<(), AppError> {
    if db.backend() == Backend::Postgres {
        // The two columns the due index and its predicate are planned on.
        sqlx::query("ANALYZE delivery_jobs (state, next_attempt_at)")
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// Forgets delivered jobs older than `older_than_ms` (dead ones stay for
/// the operator to inspect).
pub async fn prune_done(db: &Db, older_than_ms: i64) -> Result<u64, AppError> {
    let done = sqlx::query("DELETE FROM delivery_jobs WHERE state = 'done' AND created_at < $1")
        .bind(now_millis() - older_than_ms)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use federation_tests::database::{Backend as TestBackend, TestDatabase};

    use super::*;

    /// The per-object order check must stay a lookup on (inbox,
    /// object_id, seq) when PostgreSQL's statistics say no job is pending
    /// (taken after a fan-out was delivered, before the next was queued):
    /// planned on an index of pending jobs it scanned all of them for
    /// each candidate. A plan, not a timing: the same plan is what made
    /// claims take 60-98 ms.
    #[tokio::test]
    async fn the_order_check_is_a_lookup_whatever_the_statistics_say() {
        let Some(test_db) = TestDatabase::create(TestBackend::Postgres).await else {
            return;
        };
        let db = Db::connect(&test_db.url, 2, true).await.unwrap();
        db.migrate().await.unwrap();
        let jobs = |state: &str, seq: i64| {
            format!(
                "INSERT INTO delivery_jobs (id, seq, activity_id, object_id, key_id, inbox, host, body, \
                 state, attempts, next_attempt_at, lease_until, created_at) \
                 SELECT 'job-{state}-' || i, {seq}, 'https://h.example/a/{seq}', 'https://h.example/o/{seq}', \
                 'k', 'https://peer.example/users/u' || i || '/inbox', 'peer.example', '', '{state}', 0, \
                 1000, 0, 1000 FROM generate_series(1, 2000) AS i"
            )
        };
        let mut conn = db.pool().acquire().await.unwrap();
        for sql in [
            jobs("done", 1),
            "ANALYZE delivery_jobs".to_string(),
            jobs("pending", 2),
            "SET plan_cache_mode = force_generic_plan".to_string(),
            format!(
                "PREPARE claim (BIGINT, BIGINT, BIGINT) AS {}",
                claim_sql("FOR UPDATE SKIP LOCKED")
            ),
        ] {
            sqlx::query(&sql).execute(&mut *conn).await.unwrap();
        }
        let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE claim (61000, 2000, 64)")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let order_check: Vec<&String> = plan
            .iter()
            .filter(|line| line.contains("on delivery_jobs p "))
            .collect();
        assert!(
            !order_check.is_empty()
                && order_check
                    .iter()
                    .all(|line| line.contains("Index Scan using delivery_jobs_order")),
            "the order check is not a lookup on delivery_jobs_order:\n{}",
            plan.join("\n")
        );
    }
}
