//! Storage of the authorization server: registered clients, authorization
//! codes, access/refresh tokens and the id_token signing key. Secrets are
//! looked up by their SHA-256 hash; the clear values never reach SQL.

use sqlx::FromRow;

use super::{now_millis, revocations, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow)]
pub struct Client {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub name: String,
    pub website: Option<String>,
    /// Newline-separated, each compared exactly.
    pub redirect_uris: String,
    pub scopes: String,
    pub first_party: i64,
    pub app_name: Option<String>,
    pub created_at: i64,
}

impl Client {
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris.lines().filter(|l| !l.is_empty())
    }
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
    pub fn is_first_party(&self) -> bool {
        self.first_party != 0
    }
}

const SELECT_CLIENT: &str = "SELECT client_id, secret_hash, name, website, redirect_uris, scopes, \
     first_party, app_name, created_at FROM oauth_clients";

/// The one INSERT of a client, for [`insert_client`] and
/// [`upsert_app_client`].
async fn insert_client_with(db: &Db, c: &Client, on_conflict: &str) -> Result<(), AppError> {
    let sql = format!(
        "INSERT INTO oauth_clients (client_id, secret_hash, name, website, redirect_uris, scopes, \
         first_party, app_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) {on_conflict}"
    );
    sqlx::query(&sql)
        .bind(&c.client_id)
        .bind(&c.secret_hash)
        .bind(&c.name)
        .bind(&c.website)
        .bind(&c.redirect_uris)
        .bind(&c.scopes)
        .bind(c.first_party)
        .bind(&c.app_name)
        .bind(c.created_at)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn insert_client(db: &Db, c: &Client) -> Result<(), AppError> {
    insert_client_with(db, c, "").await
}

/// Creates or replaces a member app's client (new secret, new redirect
/// URIs); tokens issued under an old secret stay valid until they expire.
pub async fn upsert_app_client(db: &Db, c: &Client) -> Result<(), AppError> {
    insert_client_with(
        db,
        c,
        "ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
         redirect_uris = excluded.redirect_uris, scopes = excluded.scopes",
    )
    .await
}

pub async fn client(db: &Db, client_id: &str) -> Result<Option<Client>, AppError> {
    Ok(
        sqlx::query_as(&format!("{SELECT_CLIENT} WHERE client_id = $1"))
            .bind(client_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

pub async fn clients(db: &Db) -> Result<Vec<Client>, AppError> {
    Ok(
        sqlx::query_as(&format!("{SELECT_CLIENT} ORDER BY first_party DESC, name"))
            .fetch_all(db.pool())
            .await?,
    )
}

/// An authorization code as stored (the code itself only as its hash).
#[derive(Clone, Debug, FromRow)]
pub struct Code {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: i64,
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE challenge as oxide-auth encodes it (method + challenge).
    pub pkce: Option<String>,
    pub auth_time: i64,
    pub session_hash: Option<String>,
    pub family_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_code(db: &Db, c: &Code) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_given, \
         scope, nonce, pkce, auth_time, session_hash, family_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $13, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&c.code_hash)
    .bind(&c.client_id)
    .bind(&c.user_id)
    .bind(&c.redirect_uri)
    .bind(&c.scope)
    .bind(&c.nonce)
    .bind(&c.pkce)
    .bind(c.auth_time)
    .bind(&c.session_hash)
    .bind(&c.family_id)
    .bind(c.created_at)
    .bind(c.expires_at)
    .bind(c.redirect_uri_given)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// What presenting a code found.
pub enum CodeUse {
    /// First use: the code, now marked used.
    Fresh(Box<Code>),
    /// The code was used before: everything issued from it is revoked.
    Replayed {
        client_id: String,
    },
    Unknown,
}

/// Marks a code used, exactly once even under concurrent presentations; a
/// second presentation revokes the tokens the first one obtained (RFC 6749
/// §4.1.2: the code may have been stolen).
pub async fn use_code(db: &Db, code_hash: &str) -> Result<CodeUse, AppError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let claimed =
        sqlx::query("UPDATE oauth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL")
            .bind(code_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let code: Option<Code> = sqlx::query_as(
        "SELECT code_hash, client_id, user_id, redirect_uri, redirect_uri_given, scope, nonce, pkce, \
         auth_time, session_hash, family_id, created_at, expires_at, used_at FROM oauth_codes \
         WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let result = match code {
        None => CodeUse::Unknown,
        Some(code) if claimed == 1 => CodeUse::Fresh(Box::new(code)),
        Some(code) => {
            // Marking the replay takes the code row's lock, so it waits for
            // a concurrent first use to store its tokens (see
            // `insert_code_tokens`) and then revokes them too.
            sqlx::query("UPDATE oauth_codes SET replayed_at = $2 WHERE code_hash = $1")
                .bind(code_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE oauth_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            )
            .bind(&code.family_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            revocations::announce(db.backend(), &mut *tx).await?;
            CodeUse::Replayed {
                client_id: code.client_id,
            }
        }
    };
    tx.commit().await?;
    Ok(result)
}

/// A token to store.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub token_hash: String,
    pub kind: &'static str,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub family_id: String,
    pub session_hash: Option<String>,
    pub auth_time: Option<i64>,
    pub expires_at: i64,
}

/// Rows per multi-row INSERT (10 parameters each, far below either
/// backend's parameter limit).
const ROWS_PER_INSERT: usize = 64;

/// Inserts tokens in as few statements as possible: each statement is a
/// round trip to the database's thread or server, and those round trips,
/// not SQL, dominate the cost.
async fn insert_tokens_in(
    conn: &mut sqlx::AnyConnection,
    tokens: &[NewToken],
    now: i64,
) -> Result<(), AppError> {
    for chunk in tokens.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO oauth_tokens (token_hash, kind, client_id, user_id, scope, family_id, \
             session_hash, auth_time, created_at, expires_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 10;
            if i > 0 {
                sql.push_str(", ");
            }
            let row: Vec<String> = (1..=10).map(|k| format!("${}", b + k)).collect();
            sql.push('(');
            sql.push_str(&row.join(", "));
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for t in chunk {
            query = query
                .bind(&t.token_hash)
                .bind(t.kind)
                .bind(&t.client_id)
                .bind(&t.user_id)
                .bind(&t.scope)
                .bind(&t.family_id)
                .bind(&t.session_hash)
                .bind(t.auth_time)
                .bind(now)
                .bind(t.expires_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Stores tokens issued together (an access token and its refresh token,
/// or a group commit's batch) in one transaction.
pub async fn insert_tokens(db: &Db, tokens: &[NewToken]) -> Result<(), AppError> {
    let now = now_millis();
    if tokens.len() <= ROWS_PER_INSERT {
        // One statement is atomic by itself.
        let mut conn = db.pool().acquire().await?;
        return insert_tokens_in(&mut conn, tokens, now).await;
    }
    let mut tx = db.begin().await?;
    insert_tokens_in(&mut tx, tokens, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores the tokens a code was redeemed for, unless the code has been
/// replayed meanwhile: the row lock taken here orders this against
/// [`use_code`]'s replay branch on PostgreSQL (SQLite serialises writers).
/// Returns false when the code was replayed (nothing stored).
pub async fn insert_code_tokens(
    db: &Db,
    code_hash: &str,
    tokens: &[NewToken],
) -> Result<bool, AppError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let live = sqlx::query(
        "UPDATE oauth_codes SET used_at = used_at WHERE code_hash = $1 AND replayed_at IS NULL",
    )
    .bind(code_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if live != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_tokens_in(&mut tx, tokens, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// A stored token with its client's member app, as the resource guard and
/// introspection need it.
#[derive(Clone, Debug, FromRow)]
pub struct Token {
    pub kind: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub scope: String,
    pub family_id: String,
    pub session_hash: Option<String>,
    pub auth_time: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub app_name: Option<String>,
}

impl Token {
    /// Usable now: not expired, revoked or (for refresh tokens) rotated.
    pub fn is_active(&self, now: i64) -> bool {
        self.expires_at > now && self.revoked_at.is_none() && self.rotated_at.is_none()
    }
}

pub async fn token(db: &Db, token_hash: &str) -> Result<Option<Token>, AppError> {
    Ok(sqlx::query_as(
        "SELECT t.kind, t.client_id, t.user_id, u.username, t.scope, t.family_id, t.session_hash, \
         t.auth_time, t.created_at, t.expires_at, t.rotated_at, t.revoked_at, c.app_name \
         FROM oauth_tokens t JOIN oauth_clients c ON c.client_id = t.client_id \
         LEFT JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND (t.user_id IS NULL OR u.disabled = 0)",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// What presenting a refresh token found.
pub enum Rotation {
    /// The old token is now rotated and the new ones are stored.
    Rotated,
    /// The token had been rotated or revoked before: its family is revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

/// Rotates a refresh token: marks it used and stores its successors, in
/// one transaction. Presenting a token that was already rotated means two
/// parties hold it, so the whole family (every token from that grant) is
/// revoked (RFC 9700 §4.14.2).
pub async fn rotate_refresh(
    db: &Db,
    old_hash: &str,
    client_id: &str,
    successors: &[NewToken],
) -> Result<Rotation, AppError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(
        "UPDATE oauth_tokens SET rotated_at = $2 WHERE token_hash = $1 AND kind = 'refresh' \
         AND client_id = $3 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(old_hash)
    .bind(now)
    .bind(client_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed == 1 {
        insert_tokens_in(&mut tx, successors, now).await?;
        tx.commit().await?;
        return Ok(Rotation::Rotated);
    }
    let family: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT family_id, rotated_at, revoked_at FROM oauth_tokens \
         WHERE token_hash = $1 AND kind = 'refresh' AND client_id = $2",
    )
    .bind(old_hash)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match family {
        Some((family_id, rotated, revoked)) if rotated.is_some() || revoked.is_some() => {
            sqlx::query(
                "UPDATE oauth_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            )
            .bind(&family_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            revocations::announce(db.backend(), &mut *tx).await?;
            Rotation::Reused
        }
        _ => Rotation::Invalid,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Revokes one access token, or a refresh token with its whole family.
/// Only the client the token was issued to may revoke it; anything else is
/// silently ignored (RFC 7009 answers 200 either way). Returns whether
/// anything was revoked.
pub async fn revoke(db: &Db, token_hash: &str, client_id: &str) -> Result<bool, AppError> {
    let now = now_millis();
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT kind, family_id FROM oauth_tokens WHERE token_hash = $1 AND client_id = $2",
    )
    .bind(token_hash)
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    let (sql, key) = match row {
        Some((kind, family)) if kind == "refresh" => (
            "UPDATE oauth_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            family,
        ),
        Some(_) => (
            "UPDATE oauth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
            token_hash.to_string(),
        ),
        None => return Ok(false),
    };
    let changed = sqlx::query(sql)
        .bind(&key)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected();
    if changed > 0 {
        revocations::announce(db.backend(), db.pool()).await?;
    }
    Ok(changed > 0)
}

/// Deletes codes and tokens that expired more than a day ago (kept that
/// long so a late replay is still recognised and answered clearly).
pub async fn prune(db: &Db) -> Result<u64, AppError> {
    let cutoff = now_millis() - 24 * 3600 * 1000;
    let codes = sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
        .bind(cutoff)
        .execute(db.pool())
        .await?
        .rows_affected();
    let tokens = sqlx::query("DELETE FROM oauth_tokens WHERE expires_at < $1")
        .bind(cutoff)
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(codes + tokens)
}

/// The id_token signing key (PKCS#1 DER, base64), if one was made.
pub async fn oidc_key(db: &Db) -> Result<Option<(String, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT kid, private_key_der FROM oidc_keys ORDER BY created_at, kid LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?)
}

/// Stores the signing key unless one exists; concurrent first starts agree
/// on the first one (callers reload).
pub async fn insert_oidc_key_if_absent(db: &Db, kid: &str, der_b64: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_keys")
        .fetch_one(&mut *tx)
        .await?;
    if existing == 0 {
        sqlx::query(
            "INSERT INTO oidc_keys (kid, private_key_der, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kid) DO NOTHING",
        )
        .bind(kid)
        .bind(der_b64)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
