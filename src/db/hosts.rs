//! Per-host state: delivery health (failing since, unavailable), whether a
//! host takes `application/sexp`, and whether it refused RFC 9421
//! signatures (double-knock).

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::{now_millis, Db};
use crate::error::AppError;

/// A host was heard from (it delivered to us or accepted a delivery): it
/// is available again. Reads first: this runs on every inbox request, and
/// a write each time would serialise them on SQLite's one writer.
pub async fn alive(db: &Db, host: &str) -> Result<(), AppError> {
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
pub async fn set_sexp(db: &Db, host: &str, sexp: bool) -> Result<(), AppError> {
    let mut conn = db.pool().acquire().await?;
    set_sexp_in(&mut conn, host, sexp).await
}

/// [`set_sexp`] inside a transaction. Writes only when the answer
/// changes: every actor of a host says the same, and an upsert each time
/// made first contacts with that host's actors queue on its row's lock
/// (12 ms each on PostgreSQL when 100,000 of them arrived together).
pub async fn set_sexp_in(conn: &mut AnyConnection, host: &str, sexp: bool) -> Result<(), AppError> {
    let known: Option<i64> = sqlx::query_scalar("SELECT sexp FROM hosts WHERE host = $1")
        .bind(host)
        .fetch_optional(&mut *conn)
        .await?;
    if known == Some(i64::from(sexp)) {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO hosts (host, unavailable, sexp) VALUES ($1, 0, $2) \
         ON CONFLICT (host) DO UPDATE SET sexp = $2",
    )
    .bind(host)
    .bind(i64::from(sexp))
    .execute(conn)
    .await?;
    Ok(())
}

/// How to talk to a host, as far as it has told us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ways {
    /// It takes `application/sexp`.
    pub sexp: bool,
    /// It refused an RFC 9421 signature: draft-cavage until then (ms).
    pub cavage_until: Option<i64>,
}

/// What is known of each of `hosts` (those not listed: nothing).
pub async fn ways(db: &Db, hosts: &[&str]) -> Result<HashMap<String, Ways>, AppError> {
    if hosts.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT host, sexp, cavage_until FROM hosts WHERE host IN ({})",
        super::placeholders(hosts.len())
    );
    let mut query = sqlx::query_as::<_, (String, i64, Option<i64>)>(&sql);
    for host in hosts {
        query = query.bind(*host);
    }
    Ok(query
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(|(host, sexp, cavage_until)| {
            (
                host,
                Ways {
                    sexp: sexp == 1,
                    cavage_until,
                },
            )
        })
        .collect())
}

/// Records that `host` refused RFC 9421: draft-cavage until `until_ms`;
/// or, with `None`, that it took RFC 9421 again.
pub async fn set_cavage_until(db: &Db, host: &str, until_ms: Option<i64>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO hosts (host, unavailable, cavage_until) VALUES ($1, 0, $2) \
         ON CONFLICT (host) DO UPDATE SET cavage_until = $2",
    )
    .bind(host)
    .bind(until_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed delivery; marks the host unavailable once it has been
/// failing for `unavailable_after_ms`.
pub async fn failed(db: &Db, host: &str, unavailable_after_ms: i64) -> Result<(), AppError> {
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

/// A host whose deliveries are failing.
#[derive(Debug, sqlx::FromRow)]
pub struct Troubled {
    pub host: String,
    pub failing_since: Option<i64>,
    /// Whether deliveries to it are suspended until it is heard from.
    pub unavailable: i64,
}

/// Hosts failing or marked unavailable, the longest failing first (and
/// those without a start last: SQLite and PostgreSQL sort NULL apart).
pub async fn troubled(db: &Db) -> Result<Vec<Troubled>, AppError> {
    Ok(sqlx::query_as(
        "SELECT host, failing_since, unavailable FROM hosts \
         WHERE failing_since IS NOT NULL OR unavailable = 1 \
         ORDER BY failing_since IS NULL, failing_since, host LIMIT 100",
    )
    .fetch_all(db.pool())
    .await?)
}
