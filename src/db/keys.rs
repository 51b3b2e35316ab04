//! Storage of the instance keypair (one row, created once).

use sqlx::FromRow;

use super::Db;
use crate::error::AppError;

/// The keypair as stored: PEM for RSA, base64 for Ed25519.
#[derive(FromRow)]
pub struct StoredKeys {
    pub rsa_private_pem: String,
    pub rsa_public_pem: String,
    pub ed25519_pkcs8: String,
    pub ed25519_public: String,
    pub created_at: i64,
}

pub async fn load(db: &Db) -> Result<Option<StoredKeys>, AppError> {
    Ok(sqlx::query_as(
        "SELECT rsa_private_pem, rsa_public_pem, ed25519_pkcs8, ed25519_public, created_at \
         FROM instance_keys WHERE id = 'instance'",
    )
    .fetch_optional(db.pool())
    .await?)
}

/// Stores the keypair unless one exists already. The first writer wins, so
/// concurrent first starts agree on one key; callers reload afterwards.
pub async fn insert_if_absent(db: &Db, keys: &StoredKeys) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO instance_keys (id, rsa_private_pem, rsa_public_pem, ed25519_pkcs8, ed25519_public, created_at) \
         VALUES ('instance', $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&keys.rsa_private_pem)
    .bind(&keys.rsa_public_pem)
    .bind(&keys.ed25519_pkcs8)
    .bind(&keys.ed25519_public)
    .bind(keys.created_at)
    .execute(db.pool())
    .await?;
    Ok(())
}
