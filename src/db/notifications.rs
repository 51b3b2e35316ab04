//! Notifications per app, and each app's webhook (URL and secret).

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq, serde::Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(skip)]
    pub app_name: String,
    /// follow, follow_request, like, announce, reply or mention.
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: String,
    #[serde(rename = "object")]
    pub object_id: Option<String>,
    #[serde(rename = "activity")]
    pub activity_id: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Records a notification; false when the same activity already made one
/// of this kind for this app (a replay).
pub async fn insert(conn: &mut AnyConnection, n: &Notification) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO notifications (id, app_name, kind, actor, object_id, activity_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&n.id)
    .bind(&n.app_name)
    .bind(&n.kind)
    .bind(&n.actor)
    .bind(&n.object_id)
    .bind(&n.activity_id)
    .bind(n.created_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// An app's notifications, newest first, older than `max_id` if given.
pub async fn list(
    db: &Db,
    app: &str,
    max_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Notification>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, app_name, kind, actor, object_id, activity_id, created_at FROM notifications \
         WHERE app_name = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(app)
    .bind(max_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

#[derive(Clone, Debug, FromRow)]
pub struct Webhook {
    pub app_name: String,
    pub url: String,
    pub secret: String,
}

pub async fn webhook_in(conn: &mut AnyConnection, app: &str) -> Result<Option<Webhook>, AppError> {
    Ok(
        sqlx::query_as("SELECT app_name, url, secret FROM app_webhooks WHERE app_name = $1")
            .bind(app)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn webhook(db: &Db, app: &str) -> Result<Option<Webhook>, AppError> {
    let mut conn = db.pool().acquire().await?;
    webhook_in(&mut conn, app).await
}

pub async fn set_webhook(db: &Db, app: &str, url: &str, secret: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO app_webhooks (app_name, url, secret, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (app_name) DO UPDATE SET url = $2, secret = $3",
    )
    .bind(app)
    .bind(url)
    .bind(secret)
    .bind(now_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn remove_webhook(db: &Db, app: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM app_webhooks WHERE app_name = $1")
        .bind(app)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}
