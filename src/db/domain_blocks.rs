//! Domain blocks: the domains whose servers the hub refuses (today every
//! block is a suspension), matched with their subdomains.

use sqlx::FromRow;

use super::{now_millis, Db};
use crate::error::AppError;

/// How a domain is stored and compared: lower case, and `evil.example.` is
/// `evil.example` (a trailing dot must not dodge a block, or a removal).
fn normal(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `domain` or a parent domain is suspended (one query; the
/// block list is short, and this runs on every inbox request).
pub async fn is_blocked(db: &Db, domain: &str) -> Result<bool, AppError> {
    let hit: Option<String> = sqlx::query_scalar(
        "SELECT domain FROM domain_blocks WHERE domain = $1 OR $1 LIKE ('%.' || domain) LIMIT 1",
    )
    .bind(normal(domain))
    .fetch_optional(db.pool())
    .await?;
    Ok(hit.is_some())
}

#[derive(Debug, FromRow)]
pub struct DomainBlock {
    pub domain: String,
    pub severity: String,
    pub reason: String,
    pub created_at: i64,
}

pub async fn add(db: &Db, domain: &str, reason: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO domain_blocks (domain, severity, reason, created_at) VALUES ($1, 'suspend', $2, $3) \
         ON CONFLICT (domain) DO UPDATE SET reason = $2",
    )
    .bind(normal(domain))
    .bind(reason)
    .bind(now_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn remove(db: &Db, domain: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1")
        .bind(normal(domain))
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn list(db: &Db) -> Result<Vec<DomainBlock>, AppError> {
    Ok(sqlx::query_as(
        "SELECT domain, severity, reason, created_at FROM domain_blocks ORDER BY domain",
    )
    .fetch_all(db.pool())
    .await?)
}

#[cfg(test)]
mod tests {
    use super::normal;

    #[test]
    fn a_domain_is_stored_and_matched_in_one_form() {
        assert_eq!(normal(" Evil.Example. "), "evil.example");
        assert_eq!(normal("evil.example"), "evil.example");
    }
}
