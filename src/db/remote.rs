//! Remote actors (our key cache), domain blocks and per-host delivery
//! health.

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct RemoteActor {
    pub id: String,
    pub domain: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: i64,
}

const SELECT: &str =
    "SELECT id, domain, inbox, shared_inbox, key_id, public_key_pem, fetched_at FROM remote_actors";

/// The actor proven to own `key_id` (see [`claim_key`]).
pub async fn by_key_id(db: &Db, key_id: &str) -> Result<Option<RemoteActor>, AppError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.domain, a.inbox, a.shared_inbox, a.key_id, a.public_key_pem, a.fetched_at \
         FROM remote_keys k JOIN remote_actors a ON a.id = k.actor_id WHERE k.key_id = $1",
    )
    .bind(key_id)
    .fetch_optional(db.pool())
    .await?)
}

/// Records that `actor_id` owns `key_id`, replacing any earlier owner. Call
/// only once ownership is proven: the one mapping signatures resolve by.
pub async fn claim_key(db: &Db, key_id: &str, actor_id: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO remote_keys (key_id, actor_id) VALUES ($1, $2) \
         ON CONFLICT (key_id) DO UPDATE SET actor_id = $2",
    )
    .bind(key_id)
    .bind(actor_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<RemoteActor>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn upsert(db: &Db, a: &RemoteActor) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO remote_actors (id, domain, inbox, shared_inbox, key_id, public_key_pem, fetched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET domain = $2, inbox = $3, shared_inbox = $4, key_id = $5, \
         public_key_pem = $6, fetched_at = $7",
    )
    .bind(&a.id)
    .bind(&a.domain)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.key_id)
    .bind(&a.public_key_pem)
    .bind(a.fetched_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// An actor's own `Update` of itself, inside the inbox's transaction: its
/// endpoints and listed key change; which keys it proved it owns
/// (`remote_keys`) does not.
pub async fn refresh_in(conn: &mut AnyConnection, a: &RemoteActor) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE remote_actors SET inbox = $2, shared_inbox = $3, key_id = $4, public_key_pem = $5, \
         fetched_at = $6 WHERE id = $1",
    )
    .bind(&a.id)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.key_id)
    .bind(&a.public_key_pem)
    .bind(a.fetched_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM remote_actors WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `domain` or a parent domain is suspended (one query; the
/// block list is short, and this runs on every inbox request).
pub async fn is_blocked(db: &Db, domain: &str) -> Result<bool, AppError> {
    let hit: Option<String> = sqlx::query_scalar(
        "SELECT domain FROM domain_blocks WHERE domain = $1 OR $1 LIKE ('%.' || domain) LIMIT 1",
    )
    // `evil.example.` is `evil.example`: a trailing dot must not dodge a block.
    .bind(domain.trim_end_matches('.').to_ascii_lowercase())
    .fetch_optional(db.pool())
    .await?;
    Ok(hit.is_some())
}

#[derive(Debug, FromRow)]
pub struct DomainBlock {
    pub domain: String,
    pub severity: String,
    pub reason: String,
    pub created_at: i64,
}

pub async fn add_block(db: &Db, domain: &str, reason: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO domain_blocks (domain, severity, reason, created_at) VALUES ($1, 'suspend', $2, $3) \
         ON CONFLICT (domain) DO UPDATE SET reason = $2",
    )
    .bind(domain.trim_end_matches('.').to_ascii_lowercase())
    .bind(reason)
    .bind(now_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn remove_block(db: &Db, domain: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1")
        .bind(domain.to_ascii_lowercase())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn list_blocks(db: &Db) -> Result<Vec<DomainBlock>, AppError> {
    Ok(sqlx::query_as(
        "SELECT domain, severity, reason, created_at FROM domain_blocks ORDER BY domain",
    )
    .fetch_all(db.pool())
    .await?)
}

/// A host was heard from (it delivered to us or accepted a delivery): it
/// is available again. Reads first: this runs on every inbox request, and
/// a write each time would serialise them on SQLite's one writer.
pub async fn host_alive(db: &Db, host: &str) -> Result<(), AppError> {
    let failing: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM hosts WHERE host = $1 AND (failing_since IS NOT NULL OR unavailable = 1)",
    )
    .bind(host)
    .fetch_optional(db.pool())
    .await?;
    if failing.is_none() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO hosts (host, failing_since, unavailable, last_success) VALUES ($1, NULL, 0, $2) \
         ON CONFLICT (host) DO UPDATE SET failing_since = NULL, unavailable = 0, last_success = $2",
    )
    .bind(host)
    .bind(now_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records whether `host` takes `application/sexp`, as its actors'
/// documents say.
pub async fn set_host_sexp(db: &Db, host: &str, sexp: bool) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO hosts (host, unavailable, sexp) VALUES ($1, 0, $2) \
         ON CONFLICT (host) DO UPDATE SET sexp = $2",
    )
    .bind(host)
    .bind(i64::from(sexp))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Those of `hosts` that take `application/sexp`.
pub async fn sexp_hosts(
    db: &Db,
    hosts: &[&str],
) -> Result<std::collections::HashSet<String>, AppError> {
    if hosts.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=hosts.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT host FROM hosts WHERE sexp = 1 AND host IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for host in hosts {
        query = query.bind(*host);
    }
    Ok(query.fetch_all(db.pool()).await?.into_iter().collect())
}

/// Records a failed delivery; marks the host unavailable once it has been
/// failing for `unavailable_after_ms`.
pub async fn host_failed(db: &Db, host: &str, unavailable_after_ms: i64) -> Result<(), AppError> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO hosts (host, failing_since, unavailable) VALUES ($1, $2, 0) \
         ON CONFLICT (host) DO UPDATE SET failing_since = COALESCE(hosts.failing_since, $2)",
    )
    .bind(host)
    .bind(now)
    .execute(db.pool())
    .await?;
    sqlx::query("UPDATE hosts SET unavailable = 1 WHERE host = $1 AND failing_since <= $2")
        .bind(host)
        .bind(now - unavailable_after_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}
