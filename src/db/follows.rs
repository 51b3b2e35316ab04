//! Follow relationships in both directions: remote actors following our
//! apps (`followers`) and our apps following remote actors (`following`).

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::actors::AppName;
use crate::error::AppError;

/// Records (or refreshes) a follower in `state` ('pending' or 'accepted').
pub async fn add_follower(
    conn: &mut AnyConnection,
    app: &AppName,
    actor: &str,
    inbox: &str,
    shared_inbox: Option<&str>,
    follow_id: &str,
    state: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO followers (app_name, actor_id, inbox, shared_inbox, state, follow_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (app_name, actor_id) DO UPDATE SET inbox = $3, shared_inbox = $4, follow_id = $6, \
         state = CASE WHEN followers.state = 'accepted' THEN 'accepted' ELSE $5 END",
    )
    .bind(app.as_str())
    .bind(actor)
    .bind(inbox)
    .bind(shared_inbox)
    .bind(state)
    .bind(follow_id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_follower(
    conn: &mut AnyConnection,
    app: &AppName,
    actor: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM followers WHERE app_name = $1 AND actor_id = $2")
        .bind(app.as_str())
        .bind(actor)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes a remote actor from every follow relationship (it was deleted).
pub async fn forget_actor(conn: &mut AnyConnection, actor: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM followers WHERE actor_id = $1")
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM following WHERE actor_id = $1")
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, FromRow)]
pub struct Follower {
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub state: String,
    pub follow_id: Option<String>,
}

pub async fn follower(db: &Db, app: &AppName, actor: &str) -> Result<Option<Follower>, AppError> {
    Ok(sqlx::query_as(
        "SELECT actor_id, inbox, shared_inbox, state, follow_id FROM followers WHERE app_name = $1 AND actor_id = $2",
    )
    .bind(app.as_str())
    .bind(actor)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn followers_in_state(
    db: &Db,
    app: &AppName,
    state: &str,
) -> Result<Vec<Follower>, AppError> {
    Ok(sqlx::query_as(
        "SELECT actor_id, inbox, shared_inbox, state, follow_id FROM followers WHERE app_name = $1 AND state = $2 ORDER BY created_at",
    )
    .bind(app.as_str())
    .bind(state)
    .fetch_all(db.pool())
    .await?)
}

/// Inboxes to deliver an app's posts to: accepted followers, collapsed onto
/// shared inboxes (one POST per shared inbox).
pub async fn delivery_inboxes(
    conn: &mut AnyConnection,
    app: &AppName,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM followers WHERE app_name = $1 AND state = 'accepted'",
    )
    .bind(app.as_str())
    .fetch_all(conn)
    .await?)
}

pub async fn add_following(
    conn: &mut AnyConnection,
    app: &AppName,
    actor: &str,
    inbox: &str,
    follow_id: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO following (app_name, actor_id, inbox, state, follow_id, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5) \
         ON CONFLICT (app_name, actor_id) DO UPDATE SET inbox = $3, state = 'pending', follow_id = $4",
    )
    .bind(app.as_str())
    .bind(actor)
    .bind(inbox)
    .bind(follow_id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks our follow accepted, found by its Follow id or by (target actor).
pub async fn accept_following(
    conn: &mut AnyConnection,
    follow_id: Option<&str>,
    target: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE following SET state = 'accepted' WHERE actor_id = $2 AND (follow_id = $1 OR $1 = '')",
    )
    .bind(follow_id.unwrap_or(""))
    .bind(target)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn remove_following(
    conn: &mut AnyConnection,
    app: Option<&AppName>,
    target: &str,
) -> Result<bool, AppError> {
    let done =
        sqlx::query("DELETE FROM following WHERE actor_id = $2 AND ($1 = '' OR app_name = $1)")
            .bind(app.map(AppName::as_str).unwrap_or(""))
            .bind(target)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

#[derive(Debug, FromRow)]
pub struct Following {
    pub actor_id: String,
    pub inbox: String,
    pub state: String,
    pub follow_id: Option<String>,
}

pub async fn following(db: &Db, app: &AppName, actor: &str) -> Result<Option<Following>, AppError> {
    Ok(sqlx::query_as(
        "SELECT actor_id, inbox, state, follow_id FROM following WHERE app_name = $1 AND actor_id = $2",
    )
    .bind(app.as_str())
    .bind(actor)
    .fetch_optional(db.pool())
    .await?)
}

/// Removes a follower by the id of its Follow (an Undo that names only the
/// id).
pub async fn remove_follower_by_follow_id(
    conn: &mut AnyConnection,
    actor: &str,
    follow_id: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query("DELETE FROM followers WHERE actor_id = $1 AND follow_id = $2")
        .bind(actor)
        .bind(follow_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Drops our follow of `target` that a Reject names (by its Follow id, or
/// every app's follow of that actor when the Reject names none).
pub async fn reject_following(
    conn: &mut AnyConnection,
    follow_id: Option<&str>,
    target: &str,
) -> Result<bool, AppError> {
    let done =
        sqlx::query("DELETE FROM following WHERE actor_id = $2 AND (follow_id = $1 OR $1 = '')")
            .bind(follow_id.unwrap_or(""))
            .bind(target)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}
