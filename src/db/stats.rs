//! Counts for the admin dashboard, one query.

use sqlx::FromRow;

use super::Db;
use crate::error::AppError;

#[derive(Debug, Default, FromRow)]
pub struct Counts {
    pub apps: i64,
    pub members: i64,
    pub local_posts: i64,
    pub remote_posts: i64,
    pub remote_actors: i64,
    pub domain_blocks: i64,
    pub reports: i64,
}

pub async fn counts(db: &Db) -> Result<Counts, AppError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM apps) AS apps, \
                (SELECT COUNT(*) FROM users) AS members, \
                (SELECT COUNT(*) FROM objects WHERE local = 1 AND deleted IS NULL) AS local_posts, \
                (SELECT COUNT(*) FROM objects WHERE local = 0 AND deleted IS NULL) AS remote_posts, \
                (SELECT COUNT(*) FROM remote_actors) AS remote_actors, \
                (SELECT COUNT(*) FROM domain_blocks) AS domain_blocks, \
                (SELECT COUNT(*) FROM reports) AS reports",
    )
    .fetch_one(db.pool())
    .await?)
}
