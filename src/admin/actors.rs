//! The admin list of remote actors the hub knows (from their documents),
//! filterable by domain, each with how it is moderated and the actions on
//! it ([`crate::moderation::actions`], through the timeline's action
//! form, which brings the admin back here).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::session::AdminSession;
use super::timeline::action_form;
use crate::db;
use crate::error::AppError;
use crate::formats::as2::rfc3339;
use crate::http::html::{page, web_link};
use crate::instance::AppState;
use crate::oauth::session;

pub const PATH: &str = "/admin/actors";

#[derive(Deserialize)]
pub struct ActorsQuery {
    domain: Option<String>,
    done: Option<String>,
}

/// `GET /admin/actors`.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(params): Query<ActorsQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let domain = params.domain.as_deref().filter(|d| !d.trim().is_empty());
    let actors = db::actor_moderation::list(&state.db, domain, 200).await?;
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Remote actors" }
        @if let Some(done) = &params.done { p role="status" { (super::notice(done)) } }
        form method="get" action=(PATH) {
            label for="domain" { "Domain" } " "
            input #domain type="text" name="domain" value=(domain.unwrap_or(""));
            " " button type="submit" { "Filter" }
        }
        @if actors.is_empty() {
            p { "None known." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Actor" } th scope="col" { "Domain" } th scope="col" { "Last fetched" }
                    th scope="col" { "Moderation" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for a in &actors {
                        tr {
                            td {
                                @let shown = a.name.clone().or_else(|| a.preferred_username.clone()).unwrap_or_else(|| a.id.clone());
                                @if let Some(url) = web_link(&a.id) { a href=(url) rel="nofollow noopener noreferrer" { (shown) } } @else { (shown) }
                                @if let Some(user) = &a.preferred_username { " " span.handle { "@" (user) "@" (a.domain) } }
                            }
                            td { (a.domain) }
                            td { (rfc3339(a.fetched_at)) }
                            td { (a.severity.as_deref().unwrap_or("none")) }
                            td {
                                @if a.severity.is_some() {
                                    (action_form(&csrf, "unmoderate_actor", "Lift", &a.id, PATH))
                                } @else {
                                    (action_form(&csrf, "silence_actor", "Silence", &a.id, PATH))
                                    (action_form(&csrf, "suspend_actor", "Suspend", &a.id, PATH))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut response = page("Remote actors", body).into_response();
    session::with_cookie(response.headers_mut(), cookie);
    Ok(response)
}
