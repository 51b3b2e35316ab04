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

/// The one INSERT of an app, for [`insert`] and [`seed_once`].
async fn insert_with<'e, E>(executor: E, app: &App, on_conflict: &str) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "INSERT INTO apps (name, display_name, summary, manually_approves_followers, created_at) \
         VALUES ($1, $2, $3, $4, $5) {on_conflict}"
    );
    Ok(sqlx::query(&sql)
        .bind(app.name.as_str())
        .bind(&app.display_name)
        .bind(&app.summary)
        .bind(i64::from(app.manually_approves_followers))
        .bind(app.created_at)
        .execute(executor)
        .await?
        .rows_affected())
}

/// Inserts an app; a taken name is a [`AppError::Conflict`] naming it.
pub async fn insert(db: &Db, app: &App) -> Result<(), AppError> {
    insert_with(db.pool(), app, "")
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => {
                AppError::Conflict(format!("app '{}' already exists", app.name))
            }
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
    let rows: Vec<AppRow> = sqlx::query_as(SELECT_APP).fetch_all(db.pool()).await?;
    let mut apps = rows
        .into_iter()
        .map(App::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    // Sorted here, not in SQL: PostgreSQL's collation and SQLite's byte
    // order disagree (`a_b` vs `aa`), and both backends must list alike.
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(apps)
}

pub async fn count(db: &Db) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM apps")
        .fetch_one(db.pool())
        .await?)
}

/// Deletes an app and, through `ON DELETE CASCADE`, its follow rows and
/// outbox; unless `force`, only when no follower (in any state) exists.
/// Returns whether it was deleted.
pub async fn delete(db: &Db, name: &AppName, force: bool) -> Result<bool, AppError> {
    let done = sqlx::query(
        "DELETE FROM apps WHERE name = $1 \
         AND ($2 = 1 OR NOT EXISTS (SELECT 1 FROM followers WHERE app_name = $1))",
    )
    .bind(name.as_str())
    .bind(i64::from(force))
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
    let mut tx = db.begin().await?;
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
        if insert_with(&mut *tx, app, "ON CONFLICT (name) DO NOTHING").await? > 0 {
            created.push(app.name.clone());
        }
    }
    tx.commit().await?;
    Ok(created)
}

/// Whether the app approves followers by hand.
pub async fn set_manual(db: &Db, name: &AppName, manual: bool) -> Result<(), AppError> {
    let done = sqlx::query("UPDATE apps SET manually_approves_followers = $2 WHERE name = $1")
        .bind(name.as_str())
        .bind(i64::from(manual))
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("no app named '{name}'")));
    }
    Ok(())
}

/// Writes an app's profile (display name, summary, whether it approves
/// followers by hand) on the caller's connection. Returns whether the app
/// exists.
pub async fn update_profile(conn: &mut sqlx::AnyConnection, app: &App) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE apps SET display_name = $2, summary = $3, manually_approves_followers = $4 \
         WHERE name = $1",
    )
    .bind(app.name.as_str())
    .bind(&app.display_name)
    .bind(&app.summary)
    .bind(i64::from(app.manually_approves_followers))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// As [`get`], inside a transaction (a handler must not take a second pool
/// connection while it holds one: under load that deadlocks the pool).
pub async fn get_in(
    conn: &mut sqlx::AnyConnection,
    name: &AppName,
) -> Result<Option<App>, AppError> {
    let row: Option<AppRow> = sqlx::query_as(&format!("{SELECT_APP} WHERE name = $1"))
        .bind(name.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(App::try_from).transpose()
}
