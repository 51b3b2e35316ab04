//! The admin timeline: every stored post, newest first, a page at a time,
//! with its author, counts and how it is moderated, and the actions an
//! admin takes on it or its author ([`crate::moderation::actions`]).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::session::AdminSession;
use super::{back_to, notice, query};
use crate::db::{self, objects::Cursor, objects::TimelineRow};
use crate::error::AppError;
use crate::formats::as2::{origin, rfc3339};
use crate::http::html::{page, web_link};
use crate::instance::AppState;
use crate::moderation::actions::{self, Action};
use crate::oauth::endpoints::csrf_form::{CsrfForm, ProtectedForm};
use crate::oauth::session;

pub const PATH: &str = "/admin/timeline";
const PAGE: i64 = 40;

#[derive(Deserialize)]
pub struct TimelineQuery {
    before: Option<i64>,
    before_id: Option<String>,
    done: Option<String>,
}

/// `GET /admin/timeline`.
pub async fn list(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(params): Query<TimelineQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let cursor = match (params.before, params.before_id.clone()) {
        (Some(published), Some(id)) => Some(Cursor { published, id }),
        _ => None,
    };
    let rows = db::objects::admin_timeline(&state.db, cursor.as_ref(), PAGE + 1).await?;
    let older = (rows.len() as i64 > PAGE).then(|| rows[PAGE as usize - 1].object.clone());
    let rows = &rows[..rows.len().min(PAGE as usize)];
    let ids: Vec<&str> = rows.iter().map(|r| r.object.id.as_str()).collect();
    let counts = db::objects::counts(&state.db, &ids).await?;
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let base = state.config.base();
    let body = html! {
        p { a href="/admin" { "← Administration" } }
        h1 { "Timeline" }
        p { "Every post the hub holds, ours and received, newest first, with what moderation does to it. The public timeline leaves out what is marked hidden." }
        @if let Some(done) = &params.done { p role="status" { (notice(done)) } }
        @if rows.is_empty() { p { "Nothing yet." } }
        @for row in rows {
            @let c = counts.get(&row.object.id).copied().unwrap_or_default();
            (post(row, c, &csrf, origin(&row.object.id).as_deref() == Some(base)))
        }
        @if let Some(last) = older {
            nav aria-label="More posts" {
                a rel="next" href={ (PATH) "?" (query(&[("before", &last.published.to_string()), ("before_id", &last.id)])) } { "Older posts →" }
            }
        }
    };
    let mut response = page("Timeline", body).into_response();
    session::with_cookie(response.headers_mut(), cookie);
    Ok(response)
}

fn post(row: &TimelineRow, counts: db::objects::Counts, csrf: &str, ours: bool) -> Markup {
    let o = &row.object;
    let author = row.author_name.as_deref().unwrap_or(&o.attributed_to);
    let mut marks = Vec::new();
    if row.hidden != 0 {
        marks.push("hidden".to_string());
    }
    if let Some(s) = &row.actor_severity {
        marks.push(format!("author {s}d"));
    }
    if let Some(s) = &row.domain_severity {
        marks.push(format!("domain: {s}"));
    }
    let action =
        |name: &str, label: &str, target: &str| action_form(csrf, name, label, target, PATH);
    html! {
        article.post {
            p {
                strong { (author) }
                @if let Some(user) = &row.author_username { " " span.handle { "@" (user) } }
                " · " time datetime=(rfc3339(o.published)) { (rfc3339(o.published)) }
                @if !marks.is_empty() { " · " em { (marks.join(", ")) } }
            }
            // Sanitised when it was stored, whoever wrote it.
            (PreEscaped(&o.content))
            p.meta {
                (counts.likes) " likes · " (counts.shares) " shares · " (counts.replies) " replies · "
                @if let Some(url) = web_link(&o.id) { a href=(url) rel="nofollow noopener noreferrer" { "original" } }
            }
            div.actions {
                @if row.hidden != 0 {
                    (action("show_post", "Show post", &o.id))
                } @else {
                    (action("hide_post", "Hide post", &o.id))
                }
                @if !ours {
                    (action("remove_post", "Remove post here", &o.id))
                    @if row.actor_severity.is_some() {
                        (action("unmoderate_actor", "Lift the author's moderation", &o.attributed_to))
                    } @else {
                        (action("silence_actor", "Silence author", &o.attributed_to))
                        (action("suspend_actor", "Suspend author", &o.attributed_to))
                    }
                }
            }
        }
    }
}

/// A one-button form for `action` on `target`, which brings the admin
/// back to `back` (an admin page) afterwards.
pub fn action_form(csrf: &str, action: &str, label: &str, target: &str, back: &str) -> Markup {
    html! {
        form.inline method="post" action={ (PATH) "/action" } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value=(action);
            input type="hidden" name="target" value=(target);
            input type="hidden" name="back" value=(back);
            button type="submit" { (label) }
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    action: String,
    target: String,
    #[serde(default)]
    comment: String,
    /// The admin page to come back to.
    back: Option<String>,
}

impl ProtectedForm for ActionForm {
    const NAME: &'static str = "moderation action";
    const RETRY: &'static str = "Reload the timeline and try again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `POST /admin/timeline/action`.
pub async fn act(
    admin: AdminSession,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response, AppError> {
    let action = Action::parse(&form.action)?;
    match actions::apply(
        &state.db,
        &state.config,
        &admin.user.username,
        action,
        &form.target,
        &form.comment,
    )
    .await
    {
        Ok(()) => {
            // Only back to an admin page on this hub: the field comes from
            // the form.
            let back = form
                .back
                .as_deref()
                .filter(|b| {
                    b.strip_prefix("/admin/").is_some_and(|rest| {
                        rest.bytes().all(|c| c.is_ascii_lowercase() || c == b'_' || c == b'/')
                            && !rest.contains("//")
                    })
                })
                .unwrap_or(PATH);
            Ok(back_to(
                back,
                &[("done", &format!("Done: {} {}", action.name(), form.target))],
            ))
        }
        Err(AppError::BadRequest(why) | AppError::NotFound(why)) => Ok((
            StatusCode::BAD_REQUEST,
            page(
                "Not done",
                html! { h1 { "Not done" } p role="alert" { (why) } p { a href=(PATH) { "Back to the timeline" } } },
            ),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
