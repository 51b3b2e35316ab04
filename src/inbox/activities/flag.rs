//! Flag: a report from another server, kept for the moderators.

use sqlx::AnyConnection;

use super::Ctx;
use crate::db;
use crate::error::AppError;

pub async fn flag(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    db::objects::add_report(conn, ctx.id(), &ctx.actor.id, &ctx.activity.doc.to_string()).await?;
    tracing::warn!(report = %ctx.id(), from = %ctx.actor.id, "report received");
    Ok("report stored")
}
