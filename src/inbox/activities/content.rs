//! Create, Update and Delete of posts (Note, Article, Page), and Update or
//! Delete of the sending actor itself. Only an object's author may change
//! it; a Delete leaves a Tombstone so a late or replayed Create cannot
//! bring the post back.

use serde_json::Value;
use sqlx::AnyConnection;

use super::{local_app, Ctx};
use crate::actors::AppName;
use crate::db::{self, now_millis, objects::StoredObject};
use crate::error::AppError;
use crate::formats::as2::{check_id, first_id, id_of, is_public, millis, origin};
use crate::formats::sexp;
use crate::notifications::{self, Kind};
use crate::remote;
use crate::sanitize;

const POST_TYPES: [&str; 3] = ["Note", "Article", "Page"];
const ACTOR_TYPES: [&str; 5] = ["Person", "Service", "Application", "Group", "Organization"];

fn attributed_to(object: &Value) -> Option<&str> {
    first_id(object.get("attributedTo")?)
}

/// A received post's HTML and sexp body: a body written in sexp is
/// rendered here, through the markup allow-list, whatever HTML came with
/// it; other HTML is sanitised.
fn text_of(object: &Value) -> Result<(String, Option<String>), AppError> {
    if let Some(body) = sexp::as2::body_of(object) {
        let body = body?;
        return Ok((body.html, Some(body.source)));
    }
    let html = object.get("content").and_then(Value::as_str).unwrap_or("");
    Ok((sanitize::html(html), None))
}

/// Checks the author and returns (id, type) of a post object.
fn post_of<'a>(ctx: &Ctx<'_>, object: &'a Value) -> Result<Option<(&'a str, &'a str)>, AppError> {
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    if !POST_TYPES.contains(&kind) {
        return Ok(None);
    }
    let id = id_of(object).ok_or_else(|| AppError::BadRequest("post has no id".into()))?;
    if attributed_to(object) != Some(ctx.actor.id.as_str()) {
        return Err(AppError::BadRequest(format!(
            "{id} is not attributed to the sending actor"
        )));
    }
    Ok(Some((id, kind)))
}

pub async fn create(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let object = ctx.object();
    let Some((id, kind)) = post_of(ctx, object)? else {
        return Ok("ignored: not a post");
    };
    // Direct and followers-only posts are not stored: everything stored is
    // served without login.
    if !is_public(&[&ctx.activity.doc, object]) {
        return Ok("ignored: not a public post");
    }
    let (content, source_sexp) = text_of(object)?;
    let in_reply_to = object.get("inReplyTo").and_then(id_of);
    if let Some(parent) = in_reply_to {
        check_id(parent)?;
    }
    let stored = StoredObject {
        id: id.to_string(),
        app_name: None,
        attributed_to: ctx.actor.id.clone(),
        object_type: kind.to_string(),
        name: object
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string),
        content,
        source_sexp,
        in_reply_to: in_reply_to.map(str::to_string),
        local: 0,
        published: millis(object.get("published")).unwrap_or_else(now_millis),
        updated: None,
        deleted: None,
    };
    if !db::objects::insert(conn, &stored).await? {
        return Ok("ignored: post already known");
    }
    notify_apps(ctx, conn, object, &stored).await?;
    Ok("post stored")
}

/// Tells the apps a new post concerns: the author of the post it replies
/// to, and every app it mentions (once each; a reply is not also a
/// mention).
async fn notify_apps(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    object: &Value,
    stored: &StoredObject,
) -> Result<(), AppError> {
    let config = &ctx.state.config;
    let mut told: Vec<AppName> = Vec::new();
    if let Some(parent) = &stored.in_reply_to {
        let app = db::objects::get_in(conn, parent)
            .await?
            .and_then(|p| p.app_name)
            .and_then(|name| AppName::parse(&name).ok());
        if let Some(app) = app {
            ctx.queued(
                notifications::notify(
                    conn,
                    &app,
                    Kind::Reply,
                    &ctx.actor.id,
                    Some(&stored.id),
                    ctx.id(),
                )
                .await?,
            );
            told.push(app);
        }
    }
    let tags = match object.get("tag") {
        Some(Value::Array(tags)) => tags.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for tag in tags.into_iter().take(MAX_MENTIONS) {
        if tag.get("type").and_then(Value::as_str) != Some("Mention") {
            continue;
        }
        let Some(app) = tag
            .get("href")
            .and_then(Value::as_str)
            .and_then(|h| local_app(config, h))
        else {
            continue;
        };
        if told.contains(&app) || db::apps::get_in(conn, &app).await?.is_none() {
            continue;
        }
        ctx.queued(
            notifications::notify(
                conn,
                &app,
                Kind::Mention,
                &ctx.actor.id,
                Some(&stored.id),
                ctx.id(),
            )
            .await?,
        );
        told.push(app);
    }
    Ok(())
}

/// Most mentions of one post looked at (a post naming every app of a big
/// co-op is still a handful).
const MAX_MENTIONS: usize = 50;

pub async fn update(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let object = ctx.object();
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    if ACTOR_TYPES.contains(&kind) {
        if id_of(object) != Some(ctx.actor.id.as_str()) {
            return Err(AppError::Forbidden(
                "an actor can only update itself".into(),
            ));
        }
        let (refreshed, keys) = remote::from_update(object)?;
        db::remote::refresh_in(conn, &refreshed).await?;
        // A key it no longer lists stops verifying now, not at a refetch.
        db::remote::reconcile_keys(conn, &refreshed.id, &keys).await?;
        return Ok("actor refreshed");
    }
    let Some((id, _)) = post_of(ctx, object)? else {
        return Ok("ignored: not a post");
    };
    match db::objects::get_in(conn, id).await? {
        Some(existing) if existing.attributed_to != ctx.actor.id => Err(AppError::Forbidden(
            format!("{id} belongs to {}", existing.attributed_to),
        )),
        Some(_) => {
            let (content, source_sexp) = text_of(object)?;
            let name = object.get("name").and_then(Value::as_str);
            let text = db::objects::PostText {
                name,
                content: &content,
                source_sexp: source_sexp.as_deref(),
            };
            if db::objects::update(conn, id, &text).await? {
                Ok("post updated")
            } else {
                Ok("ignored: post was deleted")
            }
        }
        None => create(ctx, conn).await,
    }
}

pub async fn delete(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let id =
        id_of(ctx.object()).ok_or_else(|| AppError::BadRequest("Delete names no object".into()))?;
    if id == ctx.actor.id {
        db::follows::forget_actor(conn, id).await?;
        db::objects::delete_by_author(conn, id).await?;
        db::remote::delete(conn, id).await?;
        return Ok("actor and its content removed");
    }
    match db::objects::get_in(conn, id).await? {
        Some(existing) if existing.attributed_to != ctx.actor.id => Err(AppError::Forbidden(
            format!("{id} belongs to {}", existing.attributed_to),
        )),
        Some(_) => {
            db::objects::tombstone(conn, id).await?;
            Ok("post deleted")
        }
        None if origin(id) == origin(&ctx.actor.id) => {
            // Deleted before we saw it: keep a Tombstone so a late Create
            // cannot resurrect it.
            let now = now_millis();
            db::objects::insert(
                conn,
                &StoredObject {
                    id: id.to_string(),
                    app_name: None,
                    attributed_to: ctx.actor.id.clone(),
                    object_type: "Tombstone".into(),
                    name: None,
                    content: String::new(),
                    source_sexp: None,
                    in_reply_to: None,
                    local: 0,
                    published: now,
                    updated: None,
                    deleted: Some(now),
                },
            )
            .await?;
            Ok("tombstone recorded")
        }
        None => Ok("ignored: unknown object"),
    }
}
