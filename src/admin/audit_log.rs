//! The admin page of the audit log: the newest moderation actions (who,
//! what, on what, when, with the comment and the change), and the whole
//! log as CSV.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::csv_download;
use super::session::AdminSession;
use crate::db;
use crate::error::AppError;
use crate::formats::as2::rfc3339;
use crate::http::html::page;
use crate::instance::AppState;
use crate::moderation;

/// How many entries the page shows.
const SHOWN: i64 = 200;

/// `GET /admin/audit_log`.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let entries = db::audit_log::recent(&state.db, SHOWN).await?;
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Audit log" }
        p { "Every moderation action, newest first (the latest " (SHOWN) "). "
            a href="/admin/audit_log/export.csv" { "Export the whole log as CSV" } "." }
        @if entries.is_empty() {
            p { "Nothing yet." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "Target" } th scope="col" { "Comment" } th scope="col" { "Details" }
                } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { time datetime=(rfc3339(e.at)) { (rfc3339(e.at)) } }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.target) }
                            td { (e.comment) }
                            td { code { (e.details) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Audit log", body))
}

/// `GET /admin/audit_log/export.csv`.
pub async fn export(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let csv = moderation::audit::to_csv(&db::audit_log::all(&state.db).await?)?;
    Ok(csv_download(csv, "audit_log.csv"))
}
