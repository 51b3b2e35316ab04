//! Domain blocks: the domains the hub moderates, with Mastodon's severities
//! and options, matched with their subdomains. The rules (what a valid
//! block is, what each severity does) are `crate::moderation`'s.

use sqlx::{AnyConnection, FromRow};

use super::Db;
use crate::error::AppError;

/// How a domain is stored and compared: lower case, and `evil.example.` is
/// `evil.example` (a trailing dot must not dodge a block, or a removal).
pub(super) fn normal(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// SQL that is true when `host` is `domain` or one of its subdomains.
/// Not `LIKE '%.' || domain`: `_` is a `LIKE` wildcard and may appear in
/// a domain, so `a_b.example` would match `x.aZb.example`.
pub fn within(host: &str, domain: &str) -> String {
    format!(
        "({host} = {domain} OR (LENGTH({host}) > LENGTH({domain}) \
         AND SUBSTR({host}, LENGTH({host}) - LENGTH({domain})) = '.' || {domain}))"
    )
}

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct DomainBlock {
    pub domain: String,
    /// `silence`, `suspend` or `noop`.
    pub severity: String,
    pub reject_media: i64,
    pub reject_reports: i64,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "domain, severity, reject_media, reject_reports, private_comment, \
                       public_comment, obfuscate, created_at, updated_at";

/// The block that applies to `domain`: its own, else its nearest parent's
/// (one query; the list is short, and this runs on every inbox request).
pub async fn matching(db: &Db, domain: &str) -> Result<Option<DomainBlock>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE {} ORDER BY LENGTH(domain) DESC LIMIT 1",
        within("$1", "domain")
    ))
    .bind(normal(domain))
    .fetch_optional(db.pool())
    .await?)
}

pub async fn get_in(
    conn: &mut AnyConnection,
    domain: &str,
) -> Result<Option<DomainBlock>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE domain = $1"
    ))
    .bind(normal(domain))
    .fetch_optional(conn)
    .await?)
}

/// Inserts or replaces the block of `b.domain` (keeping its creation time).
pub async fn upsert(conn: &mut AnyConnection, b: &DomainBlock) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO domain_blocks (domain, severity, reject_media, reject_reports, private_comment, \
         public_comment, obfuscate, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (domain) DO UPDATE SET severity = $2, reject_media = $3, reject_reports = $4, \
         private_comment = $5, public_comment = $6, obfuscate = $7, updated_at = $9",
    )
    .bind(normal(&b.domain))
    .bind(&b.severity)
    .bind(b.reject_media)
    .bind(b.reject_reports)
    .bind(&b.private_comment)
    .bind(&b.public_comment)
    .bind(b.obfuscate)
    .bind(b.created_at)
    .bind(b.updated_at)
    .execute(&mut *conn)
    .await?;
    super::gate::changed(conn).await
}

pub async fn remove(conn: &mut AnyConnection, domain: &str) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1")
        .bind(normal(domain))
        .execute(&mut *conn)
        .await?;
    super::gate::changed(conn).await?;
    Ok(done.rows_affected() > 0)
}

pub async fn list(db: &Db) -> Result<Vec<DomainBlock>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM domain_blocks ORDER BY domain"
    ))
    .fetch_all(db.pool())
    .await?)
}

/// Ends every follow between the hub's apps and actors on `domain` or its
/// subdomains, both ways (a suspension severs them, as Mastodon's does).
/// Returns how many were ended.
pub async fn sever_follows(conn: &mut AnyConnection, domain: &str) -> Result<u64, AppError> {
    let domain = normal(domain);
    let mut ended = 0;
    for table in ["followers", "following"] {
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE actor_id IN (SELECT id FROM remote_actors WHERE {})",
            within("domain", "$1")
        ))
        .bind(&domain)
        .execute(&mut *conn)
        .await?;
        ended += done.rows_affected();
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::{normal, within};

    #[test]
    fn subdomains_match_by_label_not_by_pattern() {
        let sql = within("h", "d");
        assert!(!sql.contains("LIKE"), "{sql}");
    }

    #[test]
    fn a_domain_is_stored_and_matched_in_one_form() {
        assert_eq!(normal(" Evil.Example. "), "evil.example");
        assert_eq!(normal("evil.example"), "evil.example");
    }
}
