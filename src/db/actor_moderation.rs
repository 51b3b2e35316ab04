//! Moderation of single remote actors: silenced or suspended, with the
//! admin's comment.

use sqlx::AnyConnection;

use super::{now_millis, Db};
use crate::error::AppError;

/// `silence` or `suspend`, if the actor is moderated.
pub async fn severity(db: &Db, actor_id: &str) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT severity FROM actor_moderation WHERE actor_id = $1")
            .bind(actor_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

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
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts the actor's moderation; false if there was none.
pub async fn clear(conn: &mut AnyConnection, actor_id: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM actor_moderation WHERE actor_id = $1")
        .bind(actor_id)
        .execute(conn)
        .await?;
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
