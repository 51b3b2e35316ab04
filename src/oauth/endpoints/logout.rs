//! `GET/POST /logout`: signing out of the hub ends the SSO session, so
//! every member app's next authorize request asks to sign in again, and
//! the tokens granted under that session are revoked.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::csrf_form::{CsrfForm, ProtectedForm};
use crate::db;
use crate::http::html::{escape, page};
use crate::instance::AppState;
use crate::oauth::session;

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let intro = format!(
        "<h1>Sign out</h1><p>Sign out of {} and every co-op app?</p>",
        escape(state.config.authority())
    );
    sign_out_page(&state, &headers, "Sign out", &intro)
}

/// A page of `intro` (safe HTML) and the sign-out button, a form with its
/// CSRF token (and the cookie that goes with it, if the browser had none).
pub fn sign_out_page(state: &AppState, headers: &HeaderMap, title: &str, intro: &str) -> Response {
    let (csrf, cookie) = session::csrf_token(state, headers);
    let mut response = page(
        title,
        &format!(
            "{intro}<form method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(&csrf)
        ),
    );
    session::with_cookie(response.headers_mut(), cookie);
    response
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

impl ProtectedForm for LogoutForm {
    const NAME: &'static str = "sign-out";
    const RETRY: &'static str = "Reload the page and try again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<LogoutForm>,
) -> Response {
    match end(&state, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// Ends the request's session (if any) and answers with a signed-out page.
pub async fn end(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Response, crate::error::AppError> {
    if let Some(s) = session::current(state, headers).await? {
        db::users::end_session(&state.db, &s.id_hash).await?;
        state.oauth.tokens.clear();
        tracing::info!(user_id = %s.user_id, "logout: session ended");
    }
    let mut response = page(
        "Signed out",
        "<h1>Signed out</h1><p>You are signed out of the hub and its apps.</p>\
         <p><a href=\"/login\">Sign in again</a></p>",
    );
    session::with_cookie(response.headers_mut(), session::clear(state));
    Ok(response)
}
