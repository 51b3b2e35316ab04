//! Instance-wide settings, one text value per key: the public URL the hub
//! last served under (so CLI commands mint and print the same addresses as
//! the server), and the first-start seeding marker (`apps_seeded`, written
//! by `db::apps::seed_once`).

use super::Db;
use crate::error::AppError;

/// The key of the public URL the hub last served under.
pub const PUBLIC_URL: &str = "public_url";

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Sets `key` and returns the value it had.
pub async fn set(db: &Db, key: &str, value: &str) -> Result<Option<String>, AppError> {
    let mut tx = db.begin().await?;
    let old: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = $2",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(old)
}
