//! The admin dashboard (`/admin`): what there is to administer, and how
//! federation is going: counts, the delivery queue per host, hosts that
//! are failing, open reports.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::session::AdminSession;
use crate::db;
use crate::error::AppError;
use crate::http::html::page;
use crate::instance::AppState;

/// `/admin`: what there is to administer, and how federation is going:
/// counts, the delivery queue per host, and hosts that are failing.
pub async fn show(
    admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let counts = db::stats::counts(&state.db).await?;
    let queue = db::delivery::status(&state.db).await?;
    let troubled = db::hosts::troubled(&state.db).await?;
    let open_reports = db::reports::open_count(&state.db).await?;
    let body = html! {
        h1 { "Administration" }
        p { "Signed in as " strong { (admin.user.username) } ". " a href="/logout" { "Sign out" } }
        nav aria-label="Admin" {
            ul {
                li { a href="/admin/apps" { "Member apps" } " (" (counts.apps) ")" }
                li { a href="/admin/domain_blocks" { "Domain blocks" } " (" (counts.domain_blocks) ")" }
                li { a href="/admin/timeline" { "Timeline" } }
                li { a href="/admin/actors" { "Remote actors" } " (" (counts.remote_actors) ")" }
                li { a href="/admin/reports" { "Reports" } " (" (open_reports) " open)" }
                li { a href="/admin/audit_log" { "Audit log" } }
            }
        }
        h2 { "At a glance" }
        ul {
            li { (counts.members) " members" }
            li { (counts.local_posts) " posts by the apps; " (counts.remote_posts) " received" }
            li { (counts.remote_actors) " remote actors known" }
            li { (counts.reports) " reports in all" }
        }
        h2 { "Delivery queue" }
        @if queue.iter().all(|h| h.pending == 0 && h.dead == 0) {
            p { "Nothing waiting." }
        }
        @if !queue.is_empty() {
            table {
                thead { tr {
                    th scope="col" { "Host" } th scope="col" { "Pending" } th scope="col" { "Retrying" }
                    th scope="col" { "Given up" } th scope="col" { "Delivered" }
                } }
                tbody {
                    @for h in &queue {
                        tr { td { (h.host) } td { (h.pending) } td { (h.failed) } td { (h.dead) } td { (h.done) } }
                    }
                }
            }
        }
        h2 { "Hosts failing" }
        @if troubled.is_empty() {
            p { "None." }
        } @else {
            ul {
                @for t in &troubled {
                    li {
                        (t.host)
                        @if let Some(since) = t.failing_since { " failing since " (crate::formats::as2::rfc3339(since)) }
                        @if t.unavailable != 0 { " (unavailable: deliveries wait until it is heard from)" }
                    }
                }
            }
        }
    };
    Ok(page("Administration", body))
}
