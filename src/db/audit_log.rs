//! The moderation audit log: appended to in the transaction of the action
//! it records, read newest first. There is deliberately no update or
//! delete here.

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    /// An admin's user name, or `cli`.
    pub actor: String,
    /// e.g. `domain_block.create`.
    pub action: String,
    pub target: String,
    pub comment: String,
    /// The change, as JSON.
    pub details: String,
}

/// Appends an entry; time-ordered ids keep entries of one millisecond in
/// the order they were written.
pub async fn append(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    target: &str,
    comment: &str,
    details: &serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, target, comment, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_millis())
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(comment)
    .bind(details.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Entry>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, target, comment, details FROM audit_log \
         ORDER BY at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Every entry, oldest first (for export).
pub async fn all(db: &Db) -> Result<Vec<Entry>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, target, comment, details FROM audit_log ORDER BY at, id",
    )
    .fetch_all(db.pool())
    .await?)
}
