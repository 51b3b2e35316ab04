//! Remote actors: the documents we fetched and which keys (ids and texts)
//! each actor proved it owns: the key cache signatures verify from.

use sqlx::{AnyConnection, FromRow};

use super::Db;
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct RemoteActor {
    pub id: String,
    pub domain: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: i64,
    /// What our pages show of it (see `formats::actor::ActorProfile`).
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub profile_url: Option<String>,
    pub icon_url: Option<String>,
}

const COLUMNS: &str = "a.id, a.domain, a.inbox, a.shared_inbox, a.key_id, a.public_key_pem, \
                       a.fetched_at, a.name, a.preferred_username, a.profile_url, a.icon_url";

/// The actor proven to own `key_id` (see [`claim_key`]) and the key's
/// text (PEM or multibase).
pub async fn by_key_id(db: &Db, key_id: &str) -> Result<Option<(RemoteActor, String)>, AppError> {
    #[derive(FromRow)]
    struct Owned {
        #[sqlx(flatten)]
        actor: RemoteActor,
        key_text: String,
    }
    let owned: Option<Owned> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, COALESCE(k.public_key, a.public_key_pem) AS key_text \
         FROM remote_keys k JOIN remote_actors a ON a.id = k.actor_id WHERE k.key_id = $1"
    ))
    .bind(key_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(owned.map(|o| (o.actor, o.key_text)))
}

/// Records that `actor_id` owns `key_id`, whose text is `public_key`,
/// replacing any earlier owner. Call only once ownership is proven: the
/// one mapping signatures resolve by.
pub async fn claim_key(
    db: &Db,
    key_id: &str,
    actor_id: &str,
    public_key: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO remote_keys (key_id, actor_id, public_key) VALUES ($1, $2, $3) \
         ON CONFLICT (key_id) DO UPDATE SET actor_id = $2, public_key = $3",
    )
    .bind(key_id)
    .bind(actor_id)
    .bind(public_key)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<RemoteActor>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM remote_actors a WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn upsert_in(conn: &mut AnyConnection, a: &RemoteActor) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO remote_actors (id, domain, inbox, shared_inbox, key_id, public_key_pem, fetched_at, \
         name, preferred_username, profile_url, icon_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET domain = $2, inbox = $3, shared_inbox = $4, key_id = $5, \
         public_key_pem = $6, fetched_at = $7, name = $8, preferred_username = $9, \
         profile_url = $10, icon_url = $11",
    )
    .bind(&a.id)
    .bind(&a.domain)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.key_id)
    .bind(&a.public_key_pem)
    .bind(a.fetched_at)
    .bind(&a.name)
    .bind(&a.preferred_username)
    .bind(&a.profile_url)
    .bind(&a.icon_url)
    .execute(conn)
    .await?;
    Ok(())
}

/// An actor's own `Update` of itself, inside the inbox's transaction: its
/// endpoints and listed key change (its keys: [`reconcile_keys`]).
pub async fn refresh_in(conn: &mut AnyConnection, a: &RemoteActor) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE remote_actors SET inbox = $2, shared_inbox = $3, key_id = $4, public_key_pem = $5, \
         fetched_at = $6, name = $7, preferred_username = $8, profile_url = $9, icon_url = $10 \
         WHERE id = $1",
    )
    .bind(&a.id)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.key_id)
    .bind(&a.public_key_pem)
    .bind(a.fetched_at)
    .bind(&a.name)
    .bind(&a.preferred_username)
    .bind(&a.profile_url)
    .bind(&a.icon_url)
    .execute(conn)
    .await?;
    Ok(())
}

/// Brings the keys `actor_id` proved it owns in line with the keys its
/// document lists now (`listed`: ids and texts): a key it no longer lists
/// is forgotten, and a listed one takes its current text. Keys it lists
/// but never proved are not claimed here ([`claim_key`] does that).
pub async fn reconcile_keys(
    conn: &mut AnyConnection,
    actor_id: &str,
    listed: &[(String, String)],
) -> Result<(), AppError> {
    let owned: Vec<String> =
        sqlx::query_scalar("SELECT key_id FROM remote_keys WHERE actor_id = $1")
            .bind(actor_id)
            .fetch_all(&mut *conn)
            .await?;
    for key_id in owned {
        match listed.iter().find(|(id, _)| *id == key_id) {
            Some((_, text)) => {
                sqlx::query("UPDATE remote_keys SET public_key = $1 WHERE key_id = $2")
                    .bind(text)
                    .bind(&key_id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM remote_keys WHERE key_id = $1")
                    .bind(&key_id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM remote_actors WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
