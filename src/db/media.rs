//! Storage of the images an operator sets for an app (`app_media`): its
//! avatar and its header, at most one of each, bytes and all. The rules
//! they pass first are [`crate::actors::media`]'s. Writes take the
//! caller's connection, so a profile change and its `Update` commit
//! together.

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::actors::media::{AppMedia, Image, ImageInfo, MediaKind};
use crate::actors::AppName;
use crate::error::AppError;

/// A stored image, as served.
#[derive(Clone, Debug, FromRow)]
pub struct StoredImage {
    pub media_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: Vec<u8>,
    pub updated_at: i64,
}

#[derive(FromRow)]
struct InfoRow {
    kind: String,
    media_type: String,
    updated_at: i64,
}

/// One image of an app, if set.
pub async fn get(db: &Db, app: &AppName, kind: MediaKind) -> Result<Option<StoredImage>, AppError> {
    Ok(sqlx::query_as(
        "SELECT media_type, width, height, bytes, updated_at FROM app_media \
         WHERE app_name = $1 AND kind = $2",
    )
    .bind(app.as_str())
    .bind(kind.as_str())
    .fetch_optional(db.pool())
    .await?)
}

/// Which images are set for an app (for its actor document).
pub async fn info(db: &Db, app: &AppName) -> Result<AppMedia, AppError> {
    let mut conn = db.pool().acquire().await?;
    info_in(&mut conn, app).await
}

/// As [`info`], on the caller's connection (inside its transaction).
pub async fn info_in(conn: &mut AnyConnection, app: &AppName) -> Result<AppMedia, AppError> {
    let rows: Vec<InfoRow> =
        sqlx::query_as("SELECT kind, media_type, updated_at FROM app_media WHERE app_name = $1")
            .bind(app.as_str())
            .fetch_all(conn)
            .await?;
    let mut media = AppMedia::default();
    for row in rows {
        let info = Some(ImageInfo {
            media_type: row.media_type,
            updated_at: row.updated_at,
        });
        match MediaKind::parse(&row.kind) {
            Some(MediaKind::Avatar) => media.avatar = info,
            Some(MediaKind::Header) => media.header = info,
            None => {}
        }
    }
    Ok(media)
}

/// Sets (or replaces) one image of an app.
pub async fn put(
    conn: &mut AnyConnection,
    app: &AppName,
    kind: MediaKind,
    image: &Image,
) -> Result<(), AppError> {
    let width = i64::try_from(image.width)
        .map_err(|_| AppError::BadRequest(format!("the {kind} is too wide")))?;
    let height = i64::try_from(image.height)
        .map_err(|_| AppError::BadRequest(format!("the {kind} is too tall")))?;
    sqlx::query(
        "INSERT INTO app_media (app_name, kind, media_type, width, height, bytes, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (app_name, kind) DO UPDATE SET media_type = $3, width = $4, height = $5, \
         bytes = $6, updated_at = $7",
    )
    .bind(app.as_str())
    .bind(kind.as_str())
    .bind(image.media_type)
    .bind(width)
    .bind(height)
    .bind(image.bytes.as_slice())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes one image of an app. Returns whether there was one.
pub async fn remove(
    conn: &mut AnyConnection,
    app: &AppName,
    kind: MediaKind,
) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM app_media WHERE app_name = $1 AND kind = $2")
        .bind(app.as_str())
        .bind(kind.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
