//! Reads behind the actors' collections (followers, following, outbox) and
//! the usage counts NodeInfo reports.

use super::Db;
use crate::actors::AppName;
use crate::error::AppError;

/// Which collection of an app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Followers,
    Following,
    Outbox,
}

impl Collection {
    pub fn parse(segment: &str) -> Option<Collection> {
        match segment {
            "followers" => Some(Collection::Followers),
            "following" => Some(Collection::Following),
            "outbox" => Some(Collection::Outbox),
            _ => None,
        }
    }

    pub fn segment(self) -> &'static str {
        match self {
            Collection::Followers => "followers",
            Collection::Following => "following",
            Collection::Outbox => "outbox",
        }
    }

    fn count_sql(self) -> &'static str {
        match self {
            Collection::Followers => {
                "SELECT COUNT(*) FROM followers WHERE app_name = $1 AND state = 'accepted'"
            }
            Collection::Following => {
                "SELECT COUNT(*) FROM following WHERE app_name = $1 AND state = 'accepted'"
            }
            Collection::Outbox => {
                "SELECT COUNT(*) FROM ap_activities WHERE app_name = $1 AND local = 1"
            }
        }
    }

    /// Newest first; the item is an actor id (follow collections) or the
    /// activity's JSON (outbox).
    fn page_sql(self) -> &'static str {
        match self {
            Collection::Followers => {
                "SELECT actor_id FROM followers WHERE app_name = $1 AND state = 'accepted' \
                 ORDER BY created_at DESC, actor_id LIMIT $2 OFFSET $3"
            }
            Collection::Following => {
                "SELECT actor_id FROM following WHERE app_name = $1 AND state = 'accepted' \
                 ORDER BY created_at DESC, actor_id LIMIT $2 OFFSET $3"
            }
            Collection::Outbox => {
                "SELECT body FROM ap_activities WHERE app_name = $1 AND local = 1 \
                 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
            }
        }
    }
}

pub async fn count(db: &Db, app: &AppName, which: Collection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(which.count_sql())
        .bind(app.as_str())
        .fetch_one(db.pool())
        .await?)
}

/// One page of a collection, newest first.
pub async fn page(
    db: &Db,
    app: &AppName,
    which: Collection,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(which.page_sql())
        .bind(app.as_str())
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?)
}

/// Followers in any state; `apps remove` refuses while there are some.
pub async fn followers_any_state(db: &Db, app: &AppName) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM followers WHERE app_name = $1")
            .bind(app.as_str())
            .fetch_one(db.pool())
            .await?,
    )
}

/// Local posts (Create activities) across all apps, for NodeInfo.
pub async fn local_posts(db: &Db) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM ap_activities WHERE local = 1 AND activity_type = 'Create'",
    )
    .fetch_one(db.pool())
    .await?)
}

/// Apps that published something since `since_millis`, for NodeInfo's
/// active-user counts.
pub async fn active_apps(db: &Db, since_millis: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(DISTINCT app_name) FROM ap_activities WHERE local = 1 AND created_at >= $1",
    )
    .bind(since_millis)
    .fetch_one(db.pool())
    .await?)
}
