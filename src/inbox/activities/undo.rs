//! Undo of a Follow, Like or Announce. Only the actor who did something can
//! undo it.

use serde_json::Value;
use sqlx::AnyConnection;

use super::{local_app, Ctx};
use crate::db;
use crate::error::AppError;
use crate::formats::as2::id_of;

pub async fn undo(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    let inner = ctx.object();
    let inner_id =
        id_of(inner).ok_or_else(|| AppError::BadRequest("Undo names no activity".into()))?;
    if let Some(inner_actor) = inner.get("actor").and_then(id_of) {
        if inner_actor != ctx.actor.id {
            return Err(AppError::Forbidden(format!(
                "{} cannot undo an activity of {inner_actor}",
                ctx.actor.id
            )));
        }
    }
    let inner_kind = inner.get("type").and_then(Value::as_str).unwrap_or("");
    let inner_object = inner.get("object").and_then(id_of);
    match inner_kind {
        "Follow" => {
            let app = inner_object
                .and_then(|o| local_app(&ctx.state.config, o))
                .ok_or_else(|| {
                    AppError::NotFound("the undone Follow is not of our actor".into())
                })?;
            db::follows::remove_follower(conn, &app, &ctx.actor.id).await?;
            Ok("unfollowed")
        }
        "Like" | "Announce" => {
            db::objects::remove_reaction(conn, inner_id, inner_kind, &ctx.actor.id, inner_object)
                .await?;
            Ok("reaction undone")
        }
        _ => {
            // Only an id: it can name a reaction or a follow.
            let reaction =
                db::objects::remove_reaction(conn, inner_id, "", &ctx.actor.id, None).await?;
            let follow =
                db::follows::remove_follower_by_follow_id(conn, &ctx.actor.id, inner_id).await?;
            Ok(if reaction || follow {
                "undone"
            } else {
                "ignored: nothing to undo"
            })
        }
    }
}
