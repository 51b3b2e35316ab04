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
use crate::http::html::{escape, page};
use crate::instance::AppState;
use crate::oauth::{consent, scopes, session};

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
    let entries: String = if apps.is_empty() {
        "<p>You have not authorized any application.</p>".into()
    } else {
        apps.iter().map(|app| entry(app, &csrf)).collect()
    };
    let body = format!(
        "<h1>Authorized apps</h1>\
         <p>These applications may use your account without asking again, for the \
         permissions listed. Revoking access signs the application out; it has to \
         ask you again.</p>{entries}<p><a href=\"/login\">Back</a></p>"
    );
    let mut response = page("Authorized apps", &body);
    session::with_cookie(response.headers_mut(), cookie);
    response
}

/// One authorized application and its revoke form.
fn entry(app: &AuthorizedApp, csrf: &str) -> String {
    let website = app
        .website
        .as_deref()
        .map(|w| format!("<p>Website: <code>{}</code></p>", escape(w)))
        .unwrap_or_default();
    let permissions: String = app
        .scopes
        .split_whitespace()
        .map(|s| {
            format!(
                "<li>{} <code>{}</code></li>",
                escape(scopes::describe(s)),
                escape(s)
            )
        })
        .collect();
    let changed = if app.updated_at != app.granted_at {
        format!(", permissions last added on {}", date(app.updated_at))
    } else {
        String::new()
    };
    format!(
        "<section><h2>{name}</h2>{website}<p>May:</p><ul>{permissions}</ul>\
         <p>Authorized on {granted}{changed}.</p>\
         <form method=\"post\" action=\"{REVOKE_PATH}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"client_id\" value=\"{client_id}\">\
         <button type=\"submit\">Revoke access</button></form></section>",
        name = escape(&app.name),
        granted = date(app.granted_at),
        csrf = escape(csrf),
        client_id = escape(&app.client_id),
    )
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
