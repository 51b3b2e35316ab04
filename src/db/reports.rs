//! Reports: Flags received from other servers and reports member apps
//! file, with their state (open or resolved, forwarded or not). The Flag
//! itself is kept as its JSON (`body`); `moderation::reports` reads it.

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct Report {
    /// The Flag's id (ours, for reports the apps file).
    pub activity_id: String,
    /// Who reported: a remote actor, or our instance actor for app reports.
    pub actor: String,
    /// The Flag as JSON.
    pub body: String,
    pub created_at: i64,
    /// `remote` or `app`.
    pub source: String,
    pub app_name: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub forwarded_at: Option<i64>,
}

const COLUMNS: &str = "activity_id, actor, body, created_at, source, app_name, status, \
                       resolved_by, resolved_at, resolution, forwarded_at";

/// Stores a Flag received from `actor` (a replay is a no-op).
pub async fn add_remote(
    conn: &mut AnyConnection,
    activity_id: &str,
    actor: &str,
    body: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO reports (activity_id, actor, body, created_at, source) \
         VALUES ($1, $2, $3, $4, 'remote') ON CONFLICT DO NOTHING",
    )
    .bind(activity_id)
    .bind(actor)
    .bind(body)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a report a member app filed (its Flag, ready to forward).
pub async fn add_from_app(
    conn: &mut AnyConnection,
    activity_id: &str,
    actor: &str,
    body: &str,
    app: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO reports (activity_id, actor, body, created_at, source, app_name) \
         VALUES ($1, $2, $3, $4, 'app', $5)",
    )
    .bind(activity_id)
    .bind(actor)
    .bind(body)
    .bind(now_millis())
    .bind(app)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open reports first, then the newest.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<Report>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM reports \
         ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Report>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM reports WHERE activity_id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// Marks an open report resolved; false if it was not open.
pub async fn resolve(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    resolution: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE reports SET status = 'resolved', resolved_by = $2, resolved_at = $3, resolution = $4 \
         WHERE activity_id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(by)
    .bind(now_millis())
    .bind(resolution)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records the forward; false if it was already forwarded.
pub async fn mark_forwarded(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE reports SET forwarded_at = $2 WHERE activity_id = $1 AND forwarded_at IS NULL",
    )
    .bind(id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn open_count(db: &Db) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE status = 'open'")
            .fetch_one(db.pool())
            .await?,
    )
}
