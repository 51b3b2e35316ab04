//! What the inbox asks before doing any work on an activity, in one round
//! trip: the block on the sender's domain, the sender's own moderation, and
//! whether the activity is already recorded. Three questions asked on every
//! inbox request; asked apart they were three round trips, which on
//! PostgreSQL cost more than verifying the signature.

use sqlx::FromRow;

use super::domain_blocks::{self, DomainBlock};
use super::Db;
use crate::error::AppError;

/// The answers.
#[derive(Debug, Default)]
pub struct Gate {
    /// The block that applies to the domain (its own or a parent's).
    pub domain_block: Option<DomainBlock>,
    /// The actor's own severity, if it is moderated.
    pub actor_severity: Option<String>,
    /// Whether an activity with this id is recorded already.
    pub known: bool,
}

#[derive(FromRow)]
struct Row {
    blocked: Option<String>,
    actor_severity: Option<String>,
    known: i64,
}

/// Asks the three questions about an activity `id` from `actor` on `domain`.
pub async fn ask(db: &Db, domain: &str, actor: &str, id: &str) -> Result<Gate, AppError> {
    let row: Row = sqlx::query_as(&format!(
        "SELECT \
           (SELECT domain FROM domain_blocks WHERE {} ORDER BY LENGTH(domain) DESC LIMIT 1) AS blocked, \
           (SELECT severity FROM actor_moderation WHERE actor_id = $2) AS actor_severity, \
           (SELECT COUNT(*) FROM ap_activities WHERE id = $3) AS known",
        domain_blocks::within("$1", "domain")
    ))
    .bind(domain_blocks::normal(domain))
    .bind(actor)
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    // Blocks are rare: their options are read only when there is one.
    let domain_block = match row.blocked {
        Some(_) => domain_blocks::matching(db, domain).await?,
        None => None,
    };
    Ok(Gate {
        domain_block,
        actor_severity: row.actor_severity,
        known: row.known > 0,
    })
}
