//! The admin pages for reports: the list (open ones first) and each
//! report, with what it names and why, a form to resolve it (with a domain
//! block when it names a remote actor) and, for a remote actor, a button
//! that forwards it to that actor's server.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::session::AdminSession;
use super::{back_to, notice, query};
use crate::db;
use crate::error::AppError;
use crate::formats::as2::rfc3339;
use crate::http::html::{page, web_link};
use crate::instance::AppState;
use crate::moderation::reports::{self, Action, ReportView};
use crate::oauth::endpoints::csrf_form::{CsrfForm, ProtectedForm};
use crate::oauth::session;

pub const PATH: &str = "/admin/reports";

/// `GET /admin/reports`.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let list = db::reports::list(&state.db, 200).await?;
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Reports" }
        @if list.is_empty() {
            p { "No reports." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Received" } th scope="col" { "From" } th scope="col" { "Reported" }
                    th scope="col" { "Comment" } th scope="col" { "Status" }
                } }
                tbody {
                    @for r in &list {
                        @let view = ReportView::of(r);
                        tr {
                            td { a href={ (PATH) "/view?" (query(&[("id", &r.activity_id)])) } { (rfc3339(r.created_at)) } }
                            td { @if let Some(app) = &r.app_name { "app " (app) } @else { (r.actor) } }
                            td { (view.reported.join(", ")) }
                            td { (view.comment) }
                            td { (r.status) @if r.forwarded_at.is_some() { ", forwarded" } }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Reports", body))
}

#[derive(Deserialize)]
pub struct ViewQuery {
    id: String,
    done: Option<String>,
}

/// `GET /admin/reports/view?id=…`.
pub async fn view(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(query): Query<ViewQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    view_page(
        &state,
        &headers,
        &query.id,
        query.done.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn view_page(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    done: Option<&str>,
    refused: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let report = db::reports::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such report".into()))?;
    let view = ReportView::of(&report);
    let remote = reports::remote_target(&state.config, &view);
    let (csrf, cookie) = session::csrf_token(state, headers);
    let body = html! {
        p { a href=(PATH) { "← Reports" } }
        h1 { "Report" }
        @if let Some(done) = done { p role="status" { (notice(done)) } }
        @if let Some(why) = &refused { p role="alert" { strong { "Not done: " } (why) } }
        dl {
            dt { "Received" } dd { (rfc3339(report.created_at)) }
            dt { "From" } dd { @if let Some(app) = &report.app_name { "the app " (app) } @else { (report.actor) } }
            dt { "Reported" }
            dd { ul { @for id in &view.reported {
                li { @if let Some(url) = web_link(id) { a href=(url) rel="nofollow noopener noreferrer" { (id) } } @else { (id) } }
            } } }
            dt { "Comment" } dd { (view.comment) }
            dt { "Status" }
            dd {
                (report.status)
                @if let (Some(by), Some(at)) = (&report.resolved_by, report.resolved_at) {
                    " by " (by) " at " (rfc3339(at)) ": " (report.resolution.clone().unwrap_or_default())
                }
            }
            @if let Some(at) = report.forwarded_at { dt { "Forwarded" } dd { (rfc3339(at)) } }
        }
        @if report.status == "open" {
            h2 { "Resolve" }
            form method="post" action={ (PATH) "/resolve" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="id" value=(report.activity_id);
                p {
                    label for="action" { "Action" } br;
                    select #action name="action" {
                        option value="none" { "None: dismiss, or dealt with otherwise" }
                        @if let Some(target) = &remote {
                            option value="silence_domain" { "Silence the domain of " (target) }
                            option value="suspend_domain" { "Suspend the domain of " (target) }
                        }
                    }
                }
                p {
                    label for="comment" { "Comment (kept in the audit log)" } br;
                    textarea #comment name="comment" rows="2" cols="60" {}
                }
                button type="submit" { "Resolve" }
            }
        }
        @if remote.is_some() && report.forwarded_at.is_none() {
            h2 { "Forward" }
            p { "Send this report to the reported actor's server, as a report from this hub." }
            form method="post" action={ (PATH) "/forward" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="id" value=(report.activity_id);
                button type="submit" { "Forward to their server" }
            }
        }
    };
    let mut response = (status, page("Report", body)).into_response();
    session::with_cookie(response.headers_mut(), cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: Option<String>,
    id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    comment: String,
}

impl ProtectedForm for ResolveForm {
    const NAME: &'static str = "resolve report";
    const RETRY: &'static str = "Reload the report and resolve it again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/reports/resolve`.
pub async fn resolve(
    admin: AdminSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Result<Response, AppError> {
    let comment = form.comment.replace("\r\n", "\n");
    let done = match Action::parse(&form.action) {
        Ok(action) => {
            reports::resolve(&state, &admin.user.username, &form.id, action, &comment).await
        }
        Err(e) => Err(e),
    };
    answer(
        &state,
        &headers,
        &form.id,
        done.map(|()| "Resolved.".to_string()),
    )
    .await
}

/// A form's result: back to the report saying what was done, or the report
/// again with why it was not (400); other failures are errors.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    result: Result<String, AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(done) => Ok(back(id, &done)),
        Err(AppError::BadRequest(why) | AppError::Conflict(why) | AppError::BadGateway(why)) => {
            view_page(state, headers, id, None, Some(why), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ForwardForm {
    csrf: Option<String>,
    id: String,
}

impl ProtectedForm for ForwardForm {
    const NAME: &'static str = "forward report";
    const RETRY: &'static str = "Reload the report and forward it again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/reports/forward`.
pub async fn forward(
    admin: AdminSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ForwardForm>,
) -> Result<Response, AppError> {
    let forwarded = reports::forward(&state, &admin.user.username, &form.id)
        .await
        .map(|inbox| format!("Forwarded to {inbox}."));
    answer(&state, &headers, &form.id, forwarded).await
}

fn back(id: &str, done: &str) -> Response {
    back_to(&format!("{PATH}/view"), &[("id", id), ("done", done)])
}
