//! The login throttle's counters (`login_attempts`): one row per sign-in
//! attempt and key, shared by every process on the database. The rules
//! (what counts, what the limits are) are in `oauth::throttle`.

use super::Db;
use crate::error::AppError;

/// Records one attempt against each key at `at` (Unix ms), under the given
/// row ids (one per key), and deletes every row older than `expired_before`
/// on the way, so the table holds one window's worth of attempts.
pub async fn record(
    db: &Db,
    rows: &[(&str, &str)],
    at: i64,
    expired_before: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM login_attempts WHERE at < $1")
        .bind(expired_before)
        .execute(&mut *tx)
        .await?;
    for (id, key) in rows {
        sqlx::query("INSERT INTO login_attempts (id, throttle_key, at) VALUES ($1, $2, $3)")
            .bind(*id)
            .bind(*key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The times of the newest `limit` attempts against `key` since `since`,
/// newest first, leaving out the row `except` (the caller's own).
pub async fn recent(
    db: &Db,
    key: &str,
    since: i64,
    except: &str,
    limit: u32,
) -> Result<Vec<i64>, AppError> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT at FROM login_attempts WHERE throttle_key = $1 AND at >= $2 AND id <> $3 \
         ORDER BY at DESC LIMIT $4",
    )
    .bind(key)
    .bind(since)
    .bind(except)
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(at,)| at).collect())
}

/// Deletes the rows with these ids.
pub async fn forget(db: &Db, ids: &[&str]) -> Result<(), AppError> {
    for id in ids {
        sqlx::query("DELETE FROM login_attempts WHERE id = $1")
            .bind(*id)
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// Deletes every attempt against `key`.
pub async fn clear(db: &Db, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM login_attempts WHERE throttle_key = $1")
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}
