//! Like and Announce: counted per object (the `likes` and `shares` of our
//! posts), and news for the app whose post it was.

use sqlx::AnyConnection;

use super::Ctx;
use crate::actors::AppName;
use crate::db;
use crate::error::AppError;
use crate::formats::as2::id_of;
use crate::notifications::{self, Kind};

pub async fn react(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    kind: &str,
) -> Result<&'static str, AppError> {
    let object = id_of(ctx.object())
        .ok_or_else(|| AppError::BadRequest(format!("{kind} names no object")))?;
    if db::objects::add_reaction(conn, ctx.id(), kind, &ctx.actor.id, object).await? {
        // A reaction to one of our posts is news for the app that wrote it.
        let app = db::objects::get_in(conn, object)
            .await?
            .and_then(|o| o.app_name)
            .and_then(|name| AppName::parse(&name).ok());
        if let Some(app) = app {
            let what = if kind == "Like" {
                Kind::Like
            } else {
                Kind::Announce
            };
            ctx.queued(
                notifications::notify(conn, &app, what, &ctx.actor.id, Some(object), ctx.id())
                    .await?,
            );
        }
        Ok("reaction recorded")
    } else {
        Ok("ignored: reaction already recorded")
    }
}
