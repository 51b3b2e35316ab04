//! Like and Announce: counted per object (the `likes` and `shares` of our
//! posts).

use sqlx::AnyConnection;

use super::Ctx;
use crate::db;
use crate::error::AppError;
use crate::formats::as2::id_of;

pub async fn react(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    kind: &str,
) -> Result<&'static str, AppError> {
    let object = id_of(ctx.object())
        .ok_or_else(|| AppError::BadRequest(format!("{kind} names no object")))?;
    if db::objects::add_reaction(conn, ctx.id(), kind, &ctx.actor.id, object).await? {
        Ok("reaction recorded")
    } else {
        Ok("ignored: reaction already recorded")
    }
}
