//! Storage of members (accounts) and their SSO sessions.

use sqlx::FromRow;

use super::{now_millis, revocations, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_admin: i64,
    pub disabled: i64,
    pub created_at: i64,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }
}

const SELECT_USER: &str =
    "SELECT id, username, email, password_hash, is_admin, disabled, created_at FROM users";

/// Inserts a member; a taken name is a [`AppError::Conflict`] naming it.
pub async fn insert(db: &Db, user: &User) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO users (id, username, email, password_hash, is_admin, disabled, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&user.id)
    .bind(&user.username)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(user.is_admin)
    .bind(user.disabled)
    .bind(user.created_at)
    .execute(db.pool())
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => {
            AppError::Conflict(format!("a member named '{}' exists already", user.username))
        }
        other => other,
    })?;
    Ok(())
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<User>, AppError> {
    Ok(
        sqlx::query_as(&format!("{SELECT_USER} WHERE username = $1"))
            .bind(username)
            .fetch_optional(db.pool())
            .await?,
    )
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT_USER} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn list(db: &Db) -> Result<Vec<User>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT_USER} ORDER BY username"))
        .fetch_all(db.pool())
        .await?)
}

/// Disables a member and ends everything they hold: sessions and tokens.
/// Returns false when there is no such member.
pub async fn disable(db: &Db, username: &str) -> Result<bool, AppError> {
    let Some(user) = by_username(db, username).await? else {
        return Ok(false);
    };
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM oauth_codes WHERE user_id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(&user.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    revocations::announce(db.backend(), &mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// A live session and its member.
#[derive(Clone, Debug, FromRow)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

pub async fn insert_session(
    db: &Db,
    id_hash: &str,
    user_id: &str,
    auth_time: i64,
    expires_at: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(auth_time)
    .bind(now_millis())
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The session with this id hash, if it has not expired and its member is
/// not disabled.
pub async fn session(db: &Db, id_hash: &str) -> Result<Option<Session>, AppError> {
    Ok(sqlx::query_as(
        "SELECT s.id_hash, s.user_id, s.auth_time, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
    )
    .bind(id_hash)
    .bind(now_millis())
    .fetch_optional(db.pool())
    .await?)
}

/// Ends a session: the row goes, and so do the tokens granted under it
/// (that is what "log out of every app" means for the apps).
pub async fn end_session(db: &Db, id_hash: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *tx)
        .await?;
    // Codes issued under the session but not yet redeemed end with it.
    sqlx::query("DELETE FROM oauth_codes WHERE session_hash = $1 AND used_at IS NULL")
        .bind(id_hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $2 WHERE session_hash = $1 AND revoked_at IS NULL",
    )
    .bind(id_hash)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    revocations::announce(db.backend(), &mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn prune_sessions(db: &Db) -> Result<u64, AppError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_millis())
        .execute(db.pool())
        .await?
        .rows_affected())
}
