//! Storage of member apps and the first-start seeding marker.

use sqlx::FromRow;

use super::{now_millis, Db};
use crate::actors::{App, AppName};
use crate::error::AppError;

#[derive(FromRow)]
struct AppRow {
    name: String,
    display_name: String,
    summary: String,
    manually_approves_followers: i64,
    created_at: i64,
}

impl TryFrom<AppRow> for App {
    type Error = AppError;
    fn try_from(r: AppRow) -> Result<App, AppError> {
        Ok(App {
            name: AppName::parse(&r.name)
                .map_err(|e| AppError::Internal(format!("stored app name is invalid: {e}")))?,
            display_name: r.display_name,
            summary: r.summary,
            manually_approves_followers: r.manually_approves_followers != 0,
            created_at: r.created_at,
        })
    }
}

const SELECT_APP: &str =
    "SELECT name, display_name, summary, manually_approves_followers, created_at FROM apps";

/// Inserts an app; a taken name is a [`AppError::Conflict`] naming it.
pub async fn insert(db: &Db, app: &App) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO apps (name, display_name, summary, manually_approves_followers, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(app.name.as_str())
    .bind(&app.display_name)
    .bind(&app.summary)
    .bind(i64::from(app.manually_approves_followers))
    .bind(app.created_at)
    .execute(db.pool())
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(format!("app '{}' already exists", app.name)),
        other => other,
    })?;
    Ok(())
}

pub async fn get(db: &Db, name: &AppName) -> Result<Option<App>, AppError> {
    let row: Option<AppRow> = sqlx::query_as(&format!("{SELECT_APP} WHERE name = $1"))
        .bind(name.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(App::try_from).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<App>, AppError> {
    let rows: Vec<AppRow> = sqlx::query_as(&format!("{SELECT_APP} ORDER BY name"))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(App::try_from).collect()
}

pub async fn count(db: &Db) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM apps")
        .fetch_one(db.pool())
        .await?)
}

/// Deletes an app and, through `ON DELETE CASCADE`, its follow rows and
/// outbox. Returns whether it existed.
pub async fn delete(db: &Db, name: &AppName) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM apps WHERE name = $1")
        .bind(name.as_str())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Seeds the given apps exactly once in the life of a database.
///
/// The marker and the apps are written in one transaction, so a crash leaves
/// either nothing (the next start seeds) or everything. Two processes racing
/// on a fresh PostgreSQL database serialise on the marker's primary key.
/// Returns the apps this call created.
pub async fn seed_once(db: &Db, seed: &[App]) -> Result<Vec<AppName>, AppError> {
    let mut tx = db.pool().begin().await?;
    let marker = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('apps_seeded', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(now_millis().to_string())
    .execute(&mut *tx)
    .await?;
    if marker.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let mut created = Vec::new();
    for app in seed {
        let done = sqlx::query(
            "INSERT INTO apps (name, display_name, summary, manually_approves_followers, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(app.name.as_str())
        .bind(&app.display_name)
        .bind(&app.summary)
        .bind(i64::from(app.manually_approves_followers))
        .bind(app.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            created.push(app.name.clone());
        }
    }
    tx.commit().await?;
    Ok(created)
}
