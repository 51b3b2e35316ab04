//! `GET /oauth/authorized_applications` (Mastodon's address for the same
//! page): the third-party applications the signed-in member has allowed,
//! with their scopes and when, each with a "Revoke access" button;
//! `POST /oauth/authorized_applications/revoke` revokes one (see
//! [`crate::oauth::consent`]). Plain forms with CSRF tokens, no script.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::csrf_form::{CsrfForm, ProtectedForm};
use super::{error_page, redirect, sign_in_first, MAX_PARAM};
use crate::db::{self, consents::AuthorizedApp};
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::{consent, scopes, session};
use maud::{html, Markup};

pub const PATH: &str = "/oauth/authorized_applications";
pub const REVOKE_PATH: &str = "/oauth/authorized_applications/revoke";

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_first(PATH),
        Err(e) => return e.into_response(),
    };
    let apps = match db::consents::list(&state.db, &session.user_id).await {
        Ok(apps) => apps,
        Err(e) => return e.into_response(),
    };
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let body = html! {
        h1 { "Authorized apps" }
        p {
            "These applications may use your account without asking again, for the              permissions listed. Revoking access signs the application out; it has to              ask you again."
        }
        @if apps.is_empty() {
            p { "You have not authorized any application." }
        }
        @for app in &apps {
            (entry(app, &csrf))
        }
        p { a href="/login" { "Back" } }
    };
    let mut response = page("Authorized apps", body);
    session::with_cookie(response.headers_mut(), cookie);
    response
}

/// One authorized application and its revoke form.
fn entry(app: &AuthorizedApp, csrf: &str) -> Markup {
    html! {
        section {
            h2 { (app.name) }
            @if let Some(website) = &app.website {
                p { "Website: " code { (website) } }
            }
            p { "May:" }
            ul {
                @for s in app.scopes.split_whitespace() {
                    li { (scopes::describe(s)) " " code { (s) } }
                }
            }
            p {
                "Authorized on " (date(app.granted_at))
                @if app.updated_at != app.granted_at {
                    ", permissions last added on " (date(app.updated_at))
                }
                "."
            }
            form method="post" action=(REVOKE_PATH) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="client_id" value=(app.client_id);
                button type="submit" { "Revoke access" }
            }
        }
    }
}

/// A stored timestamp as the page shows it (UTC: the hub does not know the
/// member's time zone).
fn date(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "an unknown date".into())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: Option<String>,
    client_id: Option<String>,
}

impl ProtectedForm for RevokeForm {
    const NAME: &'static str = "revoke access";
    const RETRY: &'static str = "Reload the list of authorized apps and try again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Response {
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_first(PATH),
        Err(e) => return e.into_response(),
    };
    let Some(client_id) = form
        .client_id
        .filter(|c| !c.is_empty() && c.len() <= MAX_PARAM)
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form does not name an application.",
        );
    };
    match consent::revoke(&state, &session.user_id, &client_id).await {
        Ok(true) => redirect(PATH),
        Ok(false) => error_page(
            StatusCode::NOT_FOUND,
            "Not an authorized app",
            "You have not authorized this application, or its access was revoked already.",
        ),
        Err(e) => e.into_response(),
    }
}
