//! The activity log (`ap_activities`): every activity we minted or accepted,
//! which also makes receiving idempotent (the id is the primary key), and
//! the publishing API's app tokens.

use std::time::Instant;

use sqlx::AnyConnection;

use super::{now_millis, Db};
use crate::actors::AppName;
use crate::error::AppError;

pub struct NewActivity<'a> {
    pub id: &'a str,
    pub app_name: Option<&'a AppName>,
    pub actor: &'a str,
    pub activity_type: &'a str,
    pub object_id: Option<&'a str>,
    pub local: bool,
    pub body: &'a str,
}

/// Stores an activity unless its id is known. Returns false for a replay:
/// the caller must then change nothing.
pub async fn insert(conn: &mut AnyConnection, a: &NewActivity<'_>) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO ap_activities (id, app_name, actor, activity_type, object_id, local, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(a.id)
    .bind(a.app_name.map(AppName::as_str))
    .bind(a.actor)
    .bind(a.activity_type)
    .bind(a.object_id)
    .bind(i64::from(a.local))
    .bind(a.body)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A received activity to store, owned: the group writer stores those of a
/// whole group in one statement ([`insert_received`], [`super::group`]).
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub actor: String,
    pub activity_type: String,
    pub object_id: Option<String>,
    /// The activity as stored (JSON-LD).
    pub body: String,
}

/// Stores received activities in one statement, skipping known ids, and
/// says of each whether it is new. Of two with the same id in `rows`, only
/// the first is new: the second is a replay of it.
///
/// One statement instead of one per activity: on PostgreSQL each is a
/// round trip, and these were most of the inbox's.
pub async fn insert_received(
    conn: &mut AnyConnection,
    rows: &[&Received],
) -> Result<Vec<bool>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let p = 5 * i + 2;
            format!(
                "(${p}, NULL, ${}, ${}, ${}, 0, ${}, $1)",
                p + 1,
                p + 2,
                p + 3,
                p + 4
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO ap_activities (id, app_name, actor, activity_type, object_id, local, body, created_at) \
         VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
        values.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(now_millis());
    for row in rows {
        query = query
            .bind(row.id.as_str())
            .bind(row.actor.as_str())
            .bind(row.activity_type.as_str())
            .bind(row.object_id.as_deref())
            .bind(row.body.as_str());
    }
    let mut inserted: std::collections::HashSet<String> =
        query.fetch_all(conn).await?.into_iter().collect();
    // `remove`: a second row with the same id finds it gone, a replay.
    Ok(rows.iter().map(|row| inserted.remove(&row.id)).collect())
}

/// A local activity's JSON, for dereferencing its id.
pub async fn local_body(db: &Db, id: &str) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT body FROM ap_activities WHERE id = $1 AND local = 1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Our own latest Follow (or Like/Announce) of `object` by `actor`, to undo.
pub async fn latest_local(
    db: &Db,
    actor: &str,
    activity_type: &str,
    object_id: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT body FROM ap_activities WHERE local = 1 AND actor = $1 AND activity_type = $2 \
         AND object_id = $3 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(actor)
    .bind(activity_type)
    .bind(object_id)
    .fetch_optional(db.pool())
    .await?)
}

/// Drops received activities older than the retention (local ones are the
/// outbox and stay). Returns how many went.
pub async fn prune_received(db: &Db, older_than_ms: i64) -> Result<u64, AppError> {
    let before = now_millis() - older_than_ms;
    let mut removed = 0;
    // In small pieces through the group writer, so the inbox keeps
    // committing in between (on SQLite one long DELETE held the only
    // write lock for its whole length).
    loop {
        let started = Instant::now();
        let n = db
            .group()
            .run(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "DELETE FROM ap_activities WHERE id IN (SELECT id FROM ap_activities \
                         WHERE local = 0 AND created_at < $1 LIMIT $2)",
                    )
                    .bind(before)
                    .bind(PRUNE_PIECE)
                    .execute(conn)
                    .await?;
                    Ok(done.rows_affected())
                })
            })
            .await?;
        removed += n;
        if n < PRUNE_PIECE as u64 {
            return Ok(removed);
        }
        // Unpaced, a million rows took 15 s and cut the inbox to 0.61 of
        // its rate meanwhile on PostgreSQL (`rosefed-bench inbox --expired`
        // against `--stored`). Upkeep can wait: resting a multiple of what
        // a piece took keeps pruning to a share of the machine (the inbox
        // kept 0.91-1.04 of its rate; the million took 66-121 s), and a
        // busier machine, whose pieces are slower, rests longer.
        tokio::time::sleep(started.elapsed() * PRUNE_REST).await;
    }
}

/// Rows removed per transaction when pruning.
const PRUNE_PIECE: i64 = 500;

/// How many times as long as a piece took pruning rests before the next.
const PRUNE_REST: u32 = 6;

pub async fn add_token(db: &Db, app: &AppName, token_hash: &str) -> Result<(), AppError> {
    sqlx::query("INSERT INTO app_tokens (token_hash, app_name, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(app.as_str())
        .bind(now_millis())
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn app_for_token(db: &Db, token_hash: &str) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT app_name FROM app_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Adds a token unless it exists (provisioning at start is idempotent).
pub async fn ensure_token(db: &Db, app: &AppName, token_hash: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO app_tokens (token_hash, app_name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (token_hash) DO NOTHING",
    )
    .bind(token_hash)
    .bind(app.as_str())
    .bind(now_millis())
    .execute(db.pool())
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => {
            AppError::NotFound(format!("no app named '{app}' for --app-token"))
        }
        other => other,
    })?;
    match app_for_token(db, token_hash).await?.as_deref() {
        Some(owner) if owner == app.as_str() => Ok(()),
        _ => Err(AppError::Conflict(format!(
            "this --app-token is already another app's; give '{app}' its own"
        ))),
    }
}
