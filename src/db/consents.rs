//! Storage of remembered consent: which scopes a member allowed a
//! third-party client (`oauth_consents`), and revoking that access with
//! everything issued under it. Which scopes to store is decided by the
//! caller ([`crate::oauth::consent`]); this module only reads and writes.

use sqlx::FromRow;

use super::{now_millis, revocations, Db};
use crate::error::AppError;

/// The scopes a member has allowed this client, if they ever did.
pub async fn granted(db: &Db, user_id: &str, client_id: &str) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT scopes FROM oauth_consents WHERE user_id = $1 AND client_id = $2",
    )
    .bind(user_id)
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?)
}

/// How many times [`record`] re-reads after losing a race before giving up.
const RECORD_ATTEMPTS: usize = 5;

/// Records a consent: `merge` turns what was stored before (`None` for a
/// first consent) into what to store now. Two "Allow"s at once for the
/// same member and client must not lose each other's scopes, so the write
/// is a compare-and-set on the value read, retried with a fresh read when
/// another writer got there first (portable to both backends, unlike row
/// locks). Returns what was stored.
pub async fn record(
    db: &Db,
    user_id: &str,
    client_id: &str,
    merge: impl Fn(Option<&str>) -> String,
) -> Result<String, AppError> {
    for _ in 0..RECORD_ATTEMPTS {
        let now = now_millis();
        let before = granted(db, user_id, client_id).await?;
        let scopes = merge(before.as_deref());
        let written = match &before {
            None => sqlx::query(
                "INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id, client_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(client_id)
            .bind(&scopes)
            .bind(now)
            .execute(db.pool())
            .await?
            .rows_affected(),
            Some(old) => sqlx::query(
                "UPDATE oauth_consents SET scopes = $3, updated_at = $4 \
                 WHERE user_id = $1 AND client_id = $2 AND scopes = $5",
            )
            .bind(user_id)
            .bind(client_id)
            .bind(&scopes)
            .bind(now)
            .bind(old)
            .execute(db.pool())
            .await?
            .rows_affected(),
        };
        if written == 1 {
            return Ok(scopes);
        }
    }
    Err(AppError::Unavailable(
        "consent kept changing while it was being recorded".into(),
    ))
}

/// A third-party client a member has authorized, for the list of
/// authorized apps.
#[derive(Clone, Debug, FromRow)]
pub struct AuthorizedApp {
    pub client_id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: String,
    pub granted_at: i64,
    pub updated_at: i64,
}

/// Every client this member has authorized, most recently changed first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<AuthorizedApp>, AppError> {
    Ok(sqlx::query_as(
        "SELECT k.client_id, c.name, c.website, k.scopes, k.granted_at, k.updated_at \
         FROM oauth_consents k JOIN oauth_clients c ON c.client_id = k.client_id \
         WHERE k.user_id = $1 AND c.first_party = 0 \
         ORDER BY k.updated_at DESC, c.name, k.client_id",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?)
}

/// Ends a member's authorization of a client, in one transaction: the
/// remembered consent, every token family of theirs for that client
/// (access and refresh) and their codes. Returns false, changing nothing,
/// when the member had not authorized the client.
pub async fn revoke(db: &Db, user_id: &str, client_id: &str) -> Result<bool, AppError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let consents = sqlx::query("DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if consents == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    // Codes go first, redeemed ones too: a redemption in flight stores its
    // tokens only while its code row is there (`insert_code_tokens`), so
    // either it finishes before this (and its tokens are revoked below) or
    // it finds the code gone and stores nothing.
    sqlx::query("DELETE FROM oauth_codes WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
    // A refresh rotation committing while this runs adds successors that
    // PostgreSQL's statement snapshot did not see; the statement waited for
    // it on the rotated row's lock, so running it again catches them.
    // Nothing can add tokens to a family once all of it is revoked, so this
    // ends after a pass that changes nothing.
    loop {
        let changed = sqlx::query(
            "UPDATE oauth_tokens SET revoked_at = $3 WHERE revoked_at IS NULL AND family_id IN \
             (SELECT family_id FROM oauth_tokens WHERE user_id = $1 AND client_id = $2)",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            break;
        }
    }
    revocations::announce(db.backend(), &mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}
