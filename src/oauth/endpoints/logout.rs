//! `GET/POST /logout`: signing out of the hub ends the SSO session, so
//! every member app's next authorize request asks to sign in again, and
//! the tokens granted under that session are revoked.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::csrf_form::{CsrfForm, ProtectedForm};
use crate::db;
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::session;
use maud::{html, Markup};

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let intro = html! {
        h1 { "Sign out" }
        p { "Sign out of " (state.config.authority()) " and every co-op app?" }
    };
    sign_out_page(&state, &headers, "Sign out", intro)
}

/// A page of `intro` and the sign-out button, a form with its CSRF token
/// (and the cookie that goes with it, if the browser had none).
pub fn sign_out_page(
    state: &AppState,
    headers: &HeaderMap,
    title: &str,
    intro: Markup,
) -> Response {
    let (csrf, cookie) = session::csrf_token(state, headers);
    let mut response = page(
        title,
        html! {
            (intro)
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Sign out" }
            }
        },
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
        html! {
            h1 { "Signed out" }
            p { "You are signed out of the hub and its apps." }
            p { a href="/login" { "Sign in again" } }
        },
    );
    session::with_cookie(response.headers_mut(), session::clear(state));
    Ok(response)
}
