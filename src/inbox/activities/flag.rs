//! Flag: a report from another server, kept for the moderators, unless
//! its domain is blocked with `reject_reports`.

use sqlx::AnyConnection;

use super::Ctx;
use crate::db;
use crate::error::AppError;

pub async fn flag(ctx: &Ctx<'_>, conn: &mut AnyConnection) -> Result<&'static str, AppError> {
    if ctx.domain_block.is_some_and(|b| b.reject_reports != 0) {
        tracing::info!(report = %ctx.id(), from = %ctx.actor.id, "report ignored: its domain's reports are rejected");
        return Ok("ignored: reports from this domain are rejected");
    }
    db::reports::add_remote(conn, ctx.id(), &ctx.actor.id, &ctx.activity.doc.to_string()).await?;
    tracing::warn!(report = %ctx.id(), from = %ctx.actor.id, "report received");
    Ok("report stored")
}
