//! Posts (ours and received) and reactions to them.

use sqlx::{AnyConnection, FromRow};

use super::{now_millis, Db};
use crate::error::AppError;

#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct StoredObject {
    pub id: String,
    pub app_name: Option<String>,
    pub attributed_to: String,
    pub object_type: String,
    pub name: Option<String>,
    /// HTML: sanitised, or rendered from `source_sexp`.
    pub content: String,
    /// The canonical text of the markup tree, for posts written in sexp.
    pub source_sexp: Option<String>,
    pub in_reply_to: Option<String>,
    pub local: i64,
    pub published: i64,
    pub updated: Option<i64>,
    pub deleted: Option<i64>,
}

const SELECT: &str =
    "SELECT id, app_name, attributed_to, object_type, name, content, source_sexp, in_reply_to, \
                      local, published, updated, deleted FROM objects";

pub async fn get(db: &Db, id: &str) -> Result<Option<StoredObject>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn get_in(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredObject>, AppError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Inserts a post; an existing id is left alone (a re-delivered Create).
pub async fn insert(conn: &mut AnyConnection, o: &StoredObject) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO objects (id, app_name, attributed_to, object_type, name, content, source_sexp, \
         in_reply_to, local, published, updated, deleted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&o.id)
    .bind(&o.app_name)
    .bind(&o.attributed_to)
    .bind(&o.object_type)
    .bind(&o.name)
    .bind(&o.content)
    .bind(&o.source_sexp)
    .bind(&o.in_reply_to)
    .bind(o.local)
    .bind(o.published)
    .bind(o.updated)
    .bind(o.deleted)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// What an author can change in a post.
#[derive(Debug, Clone, Copy)]
pub struct PostText<'a> {
    pub name: Option<&'a str>,
    pub content: &'a str,
    pub source_sexp: Option<&'a str>,
}

/// Replaces a live post's text. Returns whether a live post was updated.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    text: &PostText<'_>,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE objects SET name = $2, content = $3, source_sexp = $4, updated = $5 \
         WHERE id = $1 AND deleted IS NULL",
    )
    .bind(id)
    .bind(text.name)
    .bind(text.content)
    .bind(text.source_sexp)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Turns a post into a Tombstone: its text goes, its id stays.
pub async fn tombstone(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE objects SET content = '', source_sexp = NULL, name = NULL, deleted = $2 \
         WHERE id = $1 AND deleted IS NULL",
    )
    .bind(id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes everything a deleted remote actor left here.
pub async fn delete_by_author(conn: &mut AnyConnection, actor: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM objects WHERE attributed_to = $1 AND local = 0")
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM reactions WHERE actor = $1")
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The condition (on `objects o` joined to `remote_actors a` on its
/// author) that keeps what moderation hides out: posts an admin hid, and
/// posts by actors suspended (themselves or by their domain), or silenced
/// unless an app follows the author. Local posts have no `remote_actors`
/// row and pass the domain test, which is `domain_blocks::within` spelt
/// out (a constant cannot call it).
const VISIBLE: &str = "o.hidden = 0 \
     AND NOT EXISTS (SELECT 1 FROM domain_blocks b \
       WHERE (a.domain = b.domain OR (LENGTH(a.domain) > LENGTH(b.domain) \
         AND SUBSTR(a.domain, LENGTH(a.domain) - LENGTH(b.domain)) = '.' || b.domain)) \
       AND (b.severity = 'suspend' OR (b.severity = 'silence' AND NOT EXISTS \
       (SELECT 1 FROM following f WHERE f.actor_id = o.attributed_to AND f.state = 'accepted')))) \
     AND NOT EXISTS (SELECT 1 FROM actor_moderation m WHERE m.actor_id = o.attributed_to \
       AND (m.severity = 'suspend' OR NOT EXISTS \
       (SELECT 1 FROM following f WHERE f.actor_id = o.attributed_to AND f.state = 'accepted')))";

const O_COLUMNS: &str = "o.id, o.app_name, o.attributed_to, o.object_type, o.name, o.content, \
     o.source_sexp, o.in_reply_to, o.local, o.published, o.updated, o.deleted";

/// Newest posts first (the timeline), received and local, without what
/// moderation hides and without deleted ones, after `cursor`.
pub async fn recent(
    db: &Db,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<StoredObject>, AppError> {
    let (published, id) = Cursor::bounds(cursor);
    Ok(sqlx::query_as(&format!(
        "SELECT {O_COLUMNS} FROM objects o LEFT JOIN remote_actors a ON a.id = o.attributed_to \
         WHERE {VISIBLE} AND o.deleted IS NULL \
         AND (o.published < $1 OR (o.published = $1 AND o.id < $2)) \
         ORDER BY o.published DESC, o.id DESC LIMIT $3"
    ))
    .bind(published)
    .bind(id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A post as the admin timeline shows it: with its author's name, whether
/// an admin hid it, and how its author and their domain are moderated.
#[derive(Clone, Debug, FromRow)]
pub struct TimelineRow {
    #[sqlx(flatten)]
    pub object: StoredObject,
    pub hidden: i64,
    pub author_name: Option<String>,
    pub author_username: Option<String>,
    /// `silence` or `suspend`, for the author.
    pub actor_severity: Option<String>,
    /// The domain block's severity, for the author's domain.
    pub domain_severity: Option<String>,
}

/// Every stored post, newest first, before `cursor`, as admins see them:
/// nothing left out, each with how it is moderated.
pub async fn admin_timeline(
    db: &Db,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<TimelineRow>, AppError> {
    let (published, id) = Cursor::bounds(cursor);
    Ok(sqlx::query_as(&format!(
        "SELECT {O_COLUMNS}, o.hidden, a.name AS author_name, a.preferred_username AS author_username, \
         (SELECT m.severity FROM actor_moderation m WHERE m.actor_id = o.attributed_to) AS actor_severity, \
         (SELECT b.severity FROM domain_blocks b WHERE {} \
          ORDER BY LENGTH(b.domain) DESC LIMIT 1) AS domain_severity \
         FROM objects o LEFT JOIN remote_actors a ON a.id = o.attributed_to \
         WHERE o.deleted IS NULL AND (o.published < $1 OR (o.published = $1 AND o.id < $2)) \
         ORDER BY o.published DESC, o.id DESC LIMIT $3",
        super::domain_blocks::within("a.domain", "b.domain")
    ))
    .bind(published)
    .bind(id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Hides or shows a post on this hub; false if there is no such post.
pub async fn set_hidden(
    conn: &mut AnyConnection,
    id: &str,
    hidden: bool,
) -> Result<bool, AppError> {
    let done = sqlx::query("UPDATE objects SET hidden = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(hidden))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A point in an app's posts, newest first: the (published, id) of the
/// last post shown, so a page never repeats or skips a post that arrives
/// meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub published: i64,
    pub id: String,
}

impl Cursor {
    /// The `(published, id)` a query compares against: the cursor's, or
    /// with none, one past the newest possible post.
    fn bounds(cursor: Option<&Cursor>) -> (i64, &str) {
        match cursor {
            Some(c) => (c.published, c.id.as_str()),
            None => (i64::MAX, ""),
        }
    }
}

/// An app's live posts, newest first, after `cursor`.
pub async fn app_posts(
    db: &Db,
    app: &str,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<StoredObject>, AppError> {
    let (published, id) = Cursor::bounds(cursor);
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE app_name = $1 AND local = 1 AND deleted IS NULL \
         AND (published < $3 OR (published = $3 AND id < $4)) \
         ORDER BY published DESC, id DESC LIMIT $2"
    ))
    .bind(app)
    .bind(limit)
    .bind(published)
    .bind(id)
    .fetch_all(db.pool())
    .await?)
}

/// How many live posts an app has (what its profile counts).
pub async fn count_app_posts(db: &Db, app: &str) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM objects WHERE app_name = $1 AND local = 1 AND deleted IS NULL",
    )
    .bind(app)
    .fetch_one(db.pool())
    .await?)
}

/// Likes, shares and live replies of a post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub likes: i64,
    pub shares: i64,
    pub replies: i64,
}

/// The counts of several posts in two queries (not three per post).
pub async fn counts(
    db: &Db,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, Counts>, AppError> {
    let mut out: std::collections::HashMap<String, Counts> = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = super::placeholders(ids.len());
    let reactions = format!(
        "SELECT object_id, kind, COUNT(*) FROM reactions WHERE object_id IN ({list}) \
         GROUP BY object_id, kind"
    );
    let mut query = sqlx::query_as::<_, (String, String, i64)>(&reactions);
    for id in ids {
        query = query.bind(*id);
    }
    for (id, kind, n) in query.fetch_all(db.pool()).await? {
        let entry = out.entry(id).or_default();
        match kind.as_str() {
            "Like" => entry.likes = n,
            "Announce" => entry.shares = n,
            _ => {}
        }
    }
    let replies = format!(
        "SELECT in_reply_to, COUNT(*) FROM objects WHERE in_reply_to IN ({list}) \
         AND deleted IS NULL GROUP BY in_reply_to"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&replies);
    for id in ids {
        query = query.bind(*id);
    }
    for (id, n) in query.fetch_all(db.pool()).await? {
        out.entry(id).or_default().replies = n;
    }
    Ok(out)
}

/// A reply with what is known of its author (nothing, when the author is
/// ours or was never fetched).
#[derive(Clone, Debug, FromRow)]
pub struct Reply {
    #[sqlx(flatten)]
    pub object: StoredObject,
    pub author_name: Option<String>,
    pub author_username: Option<String>,
    pub author_url: Option<String>,
}

/// The oldest `limit` live replies to a post, in the order they were
/// written, without what moderation hides.
pub async fn replies(db: &Db, id: &str, limit: i64) -> Result<Vec<Reply>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {O_COLUMNS}, a.name AS author_name, a.preferred_username AS author_username, \
         a.profile_url AS author_url \
         FROM objects o LEFT JOIN remote_actors a ON a.id = o.attributed_to \
         WHERE o.in_reply_to = $1 AND o.deleted IS NULL AND {VISIBLE} \
         ORDER BY o.published, o.id LIMIT $2"
    ))
    .bind(id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Records a Like or Announce; a duplicate (same kind, actor, object) is a
/// no-op. Returns whether it was new.
pub async fn add_reaction(
    conn: &mut AnyConnection,
    activity_id: &str,
    kind: &str,
    actor: &str,
    object_id: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO reactions (activity_id, kind, actor, object_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(activity_id)
    .bind(kind)
    .bind(actor)
    .bind(object_id)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Undoes a reaction by its activity id, or by (kind, actor, object) when a
/// peer's Undo names an activity we stored under another id.
pub async fn remove_reaction(
    conn: &mut AnyConnection,
    activity_id: &str,
    kind: &str,
    actor: &str,
    object_id: Option<&str>,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "DELETE FROM reactions WHERE actor = $2 AND (activity_id = $1 OR (kind = $3 AND object_id = $4))",
    )
    .bind(activity_id)
    .bind(actor)
    .bind(kind)
    .bind(object_id.unwrap_or(""))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
