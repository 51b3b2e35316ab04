//! The member apps' actions, each as the app's actor: post, update and
//! delete posts; like, announce and undo them; follow and unfollow remote
//! actors. Shared by the publishing API and the CLI. Each action stores
//! its effect and its activity and queues the deliveries in one
//! transaction.

use serde_json::{json, Value};

use super::{new_id, send};
use crate::actors::AppName;
use crate::config::Config;
use crate::db::{self, now_millis, objects::StoredObject};
use crate::error::AppError;
use crate::formats::activity as activities;
use crate::formats::as2::{check_id, first_id, origin, rfc3339, CONTEXT, MAX_ID, PUBLIC};
use crate::formats::sexp::{self, MEDIA_TYPE};
use crate::instance::AppState;
use crate::remote;
use crate::sanitize;

/// Longest post content accepted, in bytes of HTML.
pub const MAX_CONTENT: usize = 100_000;

/// A post as an app submits it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewPost {
    /// `Note` (default) or `Article`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Title (Articles).
    #[serde(default)]
    pub name: Option<String>,
    /// HTML (sanitised before it is stored or sent), or with
    /// `content_type` `application/sexp` a markup tree such as
    /// `(p "Hello " (em "you"))`, rendered to HTML through the allow-list
    /// and sent as the post's `source` too (`docs/sexp.md` §3).
    pub content: String,
    /// `text/html` (the default) or `application/sexp`, as Mastodon's
    /// `content_type`.
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub in_reply_to: Option<String>,
}

/// A post as it is stored and sent.
struct CleanPost {
    kind: String,
    name: Option<String>,
    /// HTML.
    content: String,
    /// The canonical text of a sexp body.
    source_sexp: Option<String>,
}

fn followers_of(config: &Config, app: &AppName) -> String {
    format!("{}/followers", config.actor_id(app))
}

/// The AS2 document of a stored post (a Tombstone once deleted).
pub async fn object_document(state: &AppState, o: &StoredObject) -> Result<Value, AppError> {
    let counts = db::objects::counts(&state.db, &[o.id.as_str()])
        .await?
        .remove(&o.id)
        .unwrap_or_default();
    Ok(object_document_with(&state.config, o, counts))
}

/// The AS2 document of a stored post with its counts already known (a
/// page of posts counts them all in one query).
pub fn object_document_with(
    config: &Config,
    o: &StoredObject,
    counts: db::objects::Counts,
) -> Value {
    if let Some(deleted) = o.deleted {
        return json!({
            "@context": CONTEXT, "id": o.id, "type": "Tombstone",
            "formerType": o.object_type, "deleted": rfc3339(deleted),
        });
    }
    let (likes, shares, replies) = (counts.likes, counts.shares, counts.replies);
    let mut doc = json!({
        "@context": CONTEXT,
        "id": o.id,
        "type": o.object_type,
        "attributedTo": o.attributed_to,
        "content": o.content,
        "published": rfc3339(o.published),
        "to": [PUBLIC],
        "likes": { "id": format!("{}/likes", o.id), "type": "Collection", "totalItems": likes },
        "shares": { "id": format!("{}/shares", o.id), "type": "Collection", "totalItems": shares },
        "replies": { "id": format!("{}/replies", o.id), "type": "Collection", "totalItems": replies },
    });
    if let Some(app) = o.app_name.as_deref().and_then(|a| AppName::parse(a).ok()) {
        doc["cc"] = json!([followers_of(config, &app)]);
        doc["url"] = json!(o.id);
    }
    if let Some(name) = &o.name {
        doc["name"] = json!(name);
    }
    if let Some(parent) = &o.in_reply_to {
        doc["inReplyTo"] = json!(parent);
    }
    if let Some(updated) = o.updated {
        doc["updated"] = json!(rfc3339(updated));
    }
    if let Some(source) = &o.source_sexp {
        doc["source"] = json!({ "content": source, "mediaType": MEDIA_TYPE });
    }
    doc
}

/// The inbox of the author of the post being replied to, if it is known
/// and remote. Read before the transaction: a transaction must not take a
/// second pool connection (under load that deadlocks the pool).
async fn reply_inbox(
    state: &AppState,
    in_reply_to: Option<&str>,
) -> Result<Option<String>, AppError> {
    let Some(parent) = in_reply_to else {
        return Ok(None);
    };
    let Some(author) = db::objects::get(&state.db, parent)
        .await?
        .map(|p| p.attributed_to)
    else {
        return Ok(None);
    };
    if origin(&author).as_deref() == Some(state.config.base()) {
        return Ok(None);
    }
    Ok(remote::actor_by_id(state, &author)
        .await
        .ok()
        .map(|actor| actor.shared_inbox.unwrap_or(actor.inbox)))
}

/// Inboxes of a post's audience: the app's followers (shared inboxes
/// collapsed) and the replied-to author.
async fn audience(
    conn: &mut sqlx::AnyConnection,
    app: &AppName,
    reply_inbox: Option<String>,
) -> Result<Vec<String>, AppError> {
    let mut inboxes = db::follows::delivery_inboxes(conn, app).await?;
    inboxes.extend(reply_inbox);
    Ok(inboxes)
}

fn clean_post(post: &NewPost) -> Result<CleanPost, AppError> {
    let kind = match post.kind.as_deref() {
        None | Some("Note") => "Note",
        Some("Article") => "Article",
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "type must be Note or Article, not '{other}'"
            )))
        }
    };
    if post.content.len() > MAX_CONTENT {
        return Err(AppError::PayloadTooLarge(format!(
            "content is longer than {MAX_CONTENT} bytes"
        )));
    }
    let (content, source_sexp) = match post.content_type.as_deref() {
        None | Some("text/html") => (sanitize::html(&post.content), None),
        Some(MEDIA_TYPE) => {
            let limits = sexp::Limits {
                max_bytes: MAX_CONTENT,
                ..sexp::Limits::default()
            };
            let body = sexp::as2::body(&post.content, &limits)?;
            (body.html, Some(body.source))
        }
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "content_type must be text/html or {MEDIA_TYPE}, not '{}'",
                other.escape_debug()
            )))
        }
    };
    if content.trim().is_empty() {
        return Err(AppError::BadRequest("content is empty".into()));
    }
    let name = post
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().filter(|c| !c.is_control()).take(300).collect());
    Ok(CleanPost {
        kind: kind.to_string(),
        name,
        content,
        source_sexp,
    })
}

/// Publishes a new post. Returns (object id, Create activity).
pub async fn create_post(
    state: &AppState,
    app: &AppName,
    post: &NewPost,
) -> Result<(String, Value), AppError> {
    let config = &state.config;
    let clean = clean_post(post)?;
    let stored = StoredObject {
        id: new_id(config, "objects"),
        app_name: Some(app.to_string()),
        attributed_to: config.actor_id(app),
        object_type: clean.kind,
        name: clean.name,
        content: clean.content,
        source_sexp: clean.source_sexp,
        in_reply_to: post.in_reply_to.clone(),
        local: 1,
        published: now_millis(),
        updated: None,
        deleted: None,
    };
    let object = object_document(state, &stored).await?;
    let create = activities::wrap(
        "Create",
        &new_id(config, "activities"),
        &stored.attributed_to,
        &object,
        &followers_of(config, app),
    );
    let reply_to = reply_inbox(state, stored.in_reply_to.as_deref()).await?;
    let mut tx = state.db.begin().await?;
    db::objects::insert(&mut tx, &stored).await?;
    let inboxes = audience(&mut tx, app, reply_to).await?;
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &create,
        Some(&stored.id),
        &inboxes,
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok((stored.id, create))
}

/// Loads one of `app`'s live posts, or says why not.
async fn own_post(state: &AppState, app: &AppName, id: &str) -> Result<StoredObject, AppError> {
    let post = db::objects::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no post {id}")))?;
    if post.app_name.as_deref() != Some(app.as_str()) {
        return Err(AppError::Forbidden(format!(
            "{id} is not a post of '{app}'"
        )));
    }
    if post.deleted.is_some() {
        return Err(AppError::Gone(format!("{id} was deleted")));
    }
    Ok(post)
}

pub async fn update_post(
    state: &AppState,
    app: &AppName,
    id: &str,
    post: &NewPost,
) -> Result<Value, AppError> {
    let config = &state.config;
    let existing = own_post(state, app, id).await?;
    let clean = clean_post(post)?;
    let updated = StoredObject {
        name: clean.name.clone(),
        content: clean.content.clone(),
        source_sexp: clean.source_sexp.clone(),
        updated: Some(now_millis()),
        ..existing.clone()
    };
    let object = object_document(state, &updated).await?;
    let update = activities::wrap(
        "Update",
        &new_id(config, "activities"),
        &existing.attributed_to,
        &object,
        &followers_of(config, app),
    );
    let reply_to = reply_inbox(state, updated.in_reply_to.as_deref()).await?;
    let mut tx = state.db.begin().await?;
    let text = db::objects::PostText {
        name: clean.name.as_deref(),
        content: &clean.content,
        source_sexp: clean.source_sexp.as_deref(),
    };
    if !db::objects::update(&mut tx, id, &text).await? {
        return Err(AppError::Gone(format!("{id} was deleted")));
    }
    let inboxes = audience(&mut tx, app, reply_to).await?;
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &update,
        Some(id),
        &inboxes,
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(update)
}

pub async fn delete_post(state: &AppState, app: &AppName, id: &str) -> Result<Value, AppError> {
    let config = &state.config;
    let existing = own_post(state, app, id).await?;
    let reply_to = reply_inbox(state, existing.in_reply_to.as_deref()).await?;
    let mut tx = state.db.begin().await?;
    if !db::objects::tombstone(&mut tx, id).await? {
        return Err(AppError::Gone(format!("{id} was deleted")));
    }
    let delete = activities::delete(
        &new_id(config, "activities"),
        &existing.attributed_to,
        id,
        &followers_of(config, app),
    );
    let inboxes = audience(&mut tx, app, reply_to).await?;
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &delete,
        Some(id),
        &inboxes,
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(delete)
}

/// The author of a (remote or local) object and their inbox; local objects
/// need no delivery.
async fn author_inbox(
    state: &AppState,
    object: &str,
) -> Result<(Option<String>, Option<String>), AppError> {
    if origin(object).as_deref() == Some(state.config.base()) {
        let author = db::objects::get(&state.db, object)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no post {object}")))?
            .attributed_to;
        return Ok((Some(author), None));
    }
    let author = match db::objects::get(&state.db, object).await? {
        Some(o) => o.attributed_to,
        None => {
            let doc = state
                .fetcher
                .get_activity_json(object)
                .await
                .map_err(|e| AppError::BadGateway(format!("cannot fetch {object}: {e}")))?;
            doc.get("attributedTo")
                .and_then(first_id)
                .map(str::to_string)
                .ok_or_else(|| AppError::BadRequest(format!("{object} has no author")))?
        }
    };
    let actor = remote::actor_by_id(state, &author).await?;
    Ok((
        Some(author),
        Some(actor.shared_inbox.unwrap_or(actor.inbox)),
    ))
}

/// Like or Announce `object` as `app`.
pub async fn react(
    state: &AppState,
    app: &AppName,
    kind: &str,
    object: &str,
) -> Result<Value, AppError> {
    check_id(object)?;
    let config = &state.config;
    let (author, inbox) = author_inbox(state, object).await?;
    let actor = config.actor_id(app);
    let activity = activities::reaction(
        kind,
        &new_id(config, "activities"),
        &actor,
        object,
        &followers_of(config, app),
        author.as_deref(),
        &rfc3339(now_millis()),
    );
    let id = activity["id"].as_str().unwrap_or_default().to_string();
    let mut tx = state.db.begin().await?;
    if !db::objects::add_reaction(&mut tx, &id, kind, &actor, object).await? {
        return Err(AppError::Conflict(format!(
            "'{app}' already did {kind} {object}"
        )));
    }
    send_reaction(state, tx, app, kind, &activity, object, inbox).await?;
    Ok(activity)
}

/// Sends a (un)like or (un)announce inside its transaction: to the author,
/// and for announces to the app's followers too; then commits.
async fn send_reaction(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    app: &AppName,
    kind: &str,
    activity: &Value,
    object: &str,
    author_inbox: Option<String>,
) -> Result<(), AppError> {
    let mut inboxes: Vec<String> = author_inbox.into_iter().collect();
    if kind == "Announce" {
        inboxes.extend(db::follows::delivery_inboxes(&mut tx, app).await?);
    }
    send(
        &mut tx,
        &state.config,
        &state.keys,
        app,
        activity,
        Some(object),
        &inboxes,
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// Undoes `app`'s Like or Announce of `object`.
pub async fn unreact(
    state: &AppState,
    app: &AppName,
    kind: &str,
    object: &str,
) -> Result<Value, AppError> {
    let config = &state.config;
    let actor = config.actor_id(app);
    let original = db::activities::latest_local(&state.db, &actor, kind, object)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("'{app}' has no {kind} of {object}")))?;
    let original: Value = serde_json::from_str(&original).map_err(AppError::internal)?;
    let original_id = original["id"].as_str().unwrap_or_default().to_string();
    let (_, inbox) = author_inbox(state, object).await?;
    let undo = activities::undo(&new_id(config, "activities"), &actor, &original);
    let mut tx = state.db.begin().await?;
    if !db::objects::remove_reaction(&mut tx, &original_id, kind, &actor, Some(object)).await? {
        return Err(AppError::NotFound(format!(
            "'{app}' has no {kind} of {object}"
        )));
    }
    send_reaction(state, tx, app, kind, &undo, object, inbox).await?;
    Ok(undo)
}

/// An actor URL, or `@user@host` resolved by WebFinger.
pub async fn resolve_target(state: &AppState, target: &str) -> Result<String, AppError> {
    let target = target.trim();
    if target.len() > MAX_ID || target.contains('\0') {
        return Err(AppError::BadRequest(
            "target is not an actor URL or @user@host".into(),
        ));
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(target.to_string());
    }
    state
        .fetcher
        .webfinger(target)
        .await
        .map_err(|e| AppError::BadGateway(format!("cannot resolve {target}: {e}")))
}

/// Follows a remote actor; the relationship is pending until it accepts.
pub async fn follow(state: &AppState, app: &AppName, target: &str) -> Result<Value, AppError> {
    let config = &state.config;
    let target = resolve_target(state, target).await?;
    let actor = remote::actor_by_id(state, &target).await?;
    let follow = activities::follow(
        &new_id(config, "activities"),
        &config.actor_id(app),
        &actor.id,
    );
    let follow_id = follow["id"].as_str().unwrap_or_default().to_string();
    let mut tx = state.db.begin().await?;
    db::follows::add_following(&mut tx, app, &actor.id, &actor.inbox, &follow_id).await?;
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &follow,
        Some(&actor.id),
        std::slice::from_ref(&actor.inbox),
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(follow)
}

pub async fn unfollow(state: &AppState, app: &AppName, target: &str) -> Result<Value, AppError> {
    let config = &state.config;
    let target = resolve_target(state, target).await?;
    let following = db::follows::following(&state.db, app, &target)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("'{app}' does not follow {target}")))?;
    let actor_id = config.actor_id(app);
    let original = db::activities::latest_local(&state.db, &actor_id, "Follow", &target)
        .await?
        .and_then(|b| serde_json::from_str::<Value>(&b).ok())
        .unwrap_or_else(|| {
            activities::follow(
                following.follow_id.as_deref().unwrap_or_default(),
                &actor_id,
                &target,
            )
        });
    let undo = activities::undo(&new_id(config, "activities"), &actor_id, &original);
    let mut tx = state.db.begin().await?;
    db::follows::remove_following(&mut tx, Some(app), &target).await?;
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &undo,
        Some(&target),
        &[following.inbox],
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(undo)
}

/// Approves (accept = true) or rejects a pending follow request.
pub async fn decide_follow_request(
    state: &AppState,
    app: &AppName,
    follower: &str,
    accept: bool,
) -> Result<Value, AppError> {
    let config = &state.config;
    let request = db::follows::follower(&state.db, app, follower)
        .await?
        .filter(|f| f.state == "pending")
        .ok_or_else(|| AppError::NotFound(format!("no pending follow request from {follower}")))?;
    let follow = activities::follow(
        request.follow_id.as_deref().unwrap_or_default(),
        follower,
        &config.actor_id(app),
    );
    let id = new_id(config, "activities");
    let answer = if accept {
        activities::accept(&id, &config.actor_id(app), &follow)
    } else {
        activities::reject(&id, &config.actor_id(app), &follow)
    };
    let mut tx = state.db.begin().await?;
    if accept {
        db::follows::add_follower(
            &mut tx,
            app,
            follower,
            &request.inbox,
            request.shared_inbox.as_deref(),
            request.follow_id.as_deref().unwrap_or_default(),
            "accepted",
        )
        .await?;
    } else {
        db::follows::remove_follower(&mut tx, app, follower).await?;
    }
    send(
        &mut tx,
        config,
        &state.keys,
        app,
        &answer,
        None,
        &[request.inbox],
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(answer)
}
