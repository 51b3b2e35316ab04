//! Follow, Accept and Reject.

use sqlx::AnyConnection;

use super::{local_app, Ctx};
use crate::db;
use crate::error::AppError;
use crate::formats::activity as activities;
use crate::formats::as2::id_of;
use crate::notifications::{self, Kind};
use crate::outbox;

/// A remote actor follows one of our apps: recorded as accepted and
/// answered with an Accept, or recorded as pending when the app approves
/// followers by hand.
pub async fn follow(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let config = &ctx.state.config;
    let target = id_of(ctx.object()).unwrap_or_default();
    let app_name = local_app(config, target)
        .ok_or_else(|| AppError::NotFound(format!("{target} is not an actor here")))?;
    let app = db::apps::get_in(conn, &app_name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{target} is not an actor here")))?;
    let manual = app.manually_approves_followers;
    db::follows::add_follower(
        conn,
        &app.name,
        &ctx.actor.id,
        &ctx.actor.inbox,
        ctx.actor.shared_inbox.as_deref(),
        ctx.id(),
        if manual { "pending" } else { "accepted" },
    )
    .await?;
    let kind = if manual {
        Kind::FollowRequest
    } else {
        Kind::Follow
    };
    ctx.queued(notifications::notify(conn, &app.name, kind, &ctx.actor.id, None, ctx.id()).await?);
    if manual {
        return Ok("follow request pending approval");
    }
    let accept = activities::accept(
        &outbox::new_id(config, "activities"),
        &config.actor_id(&app.name),
        &ctx.activity.doc,
    );
    outbox::send(
        conn,
        config,
        &ctx.state.keys,
        &app.name,
        &accept,
        None,
        std::slice::from_ref(&ctx.actor.inbox),
    )
    .await?;
    ctx.queued(true);
    Ok("follow accepted")
}

/// Our follow was accepted.
pub async fn accept(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let follow_id = id_of(ctx.object());
    if db::follows::accept_following(conn, follow_id, &ctx.actor.id).await? {
        Ok("our follow was accepted")
    } else {
        Ok("ignored: no matching follow")
    }
}

/// Our follow was refused (or a past acceptance withdrawn).
pub async fn reject(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let follow_id = id_of(ctx.object());
    if db::follows::reject_following(conn, follow_id, &ctx.actor.id).await? {
        Ok("our follow was rejected")
    } else {
        Ok("ignored: no matching follow")
    }
}
