//! Moderation of single remote actors: silenced or suspended, with the
//! admin's comment.

use sqlx::AnyConnection;

use super::{now_millis, Db};
use crate::error::AppError;

pub async fn set(
    conn: &mut AnyConnection,
    actor_id: &str,
    severity: &str,
    comment: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO actor_moderation (actor_id, severity, comment, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (actor_id) DO UPDATE SET severity = $2, comment = $3",
    )
    .bind(actor_id)
    .bind(severity)
    .bind(comment)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    super::gate::changed(conn).await
}

/// Lifts the actor's moderation; false if there was none.
pub async fn clear(conn: &mut AnyConnection, actor_id: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM actor_moderation WHERE actor_id = $1")
        .bind(actor_id)
        .execute(&mut *conn)
        .await?;
    super::gate::changed(conn).await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every follow between our apps and the actor, both ways.
pub async fn sever_follows(conn: &mut AnyConnection, actor_id: &str) -> Result<u64, AppError> {
    let mut ended = 0;
    for table in ["followers", "following"] {
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE actor_id = $1"))
            .bind(actor_id)
            .execute(&mut *conn)
            .await?;
        ended += done.rows_affected();
    }
    Ok(ended)
}

/// A remote actor as the admin list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: String,
    pub domain: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub fetched_at: i64,
    pub severity: Option<String>,
}

/// Known remote actors, most recently fetched first; on `domain` and its
/// subdomains when given.
pub async fn list(db: &Db, domain: Option<&str>, limit: i64) -> Result<Vec<Listed>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT a.id, a.domain, a.name, a.preferred_username, a.fetched_at, m.severity \
         FROM remote_actors a LEFT JOIN actor_moderation m ON m.actor_id = a.id \
         WHERE $1 = '' OR {} ORDER BY a.fetched_at DESC, a.id LIMIT $2",
        super::domain_blocks::within("a.domain", "$1")
    ))
    .bind(domain.unwrap_or("").trim().to_ascii_lowercase())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
