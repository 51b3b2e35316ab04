//! `GET/POST /oauth/logout`: OIDC RP-Initiated Logout 1.0, the
//! `end_session_endpoint`. With an `id_token_hint` we issued for the
//! current session the member is signed out at once; otherwise they
//! confirm (a stray link must not sign anyone out). Afterwards the browser
//! goes to `post_logout_redirect_uri` only with a valid `id_token_hint`
//! (which names the client) and only if the address is one of that
//! client's registered redirect URIs: anyone may register a client, so a
//! bare `client_id` proves nothing and would make this an open redirector.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use url::Url;

use super::csrf_form::{CsrfForm, ProtectedForm};
use super::{error_page, oversized};
use crate::db;
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::oidc::IdClaims;
use crate::oauth::{grants, session};
use maud::html;

#[derive(Clone, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
    csrf: Option<String>,
}

/// A 400 page when a parameter is longer than any we issue or register.
fn too_long(p: &LogoutParams) -> Option<Response> {
    oversized([&p.post_logout_redirect_uri, &p.client_id, &p.state]).then(|| {
        error_page(
            StatusCode::BAD_REQUEST,
            "Bad logout request",
            "A parameter is too long.",
        )
    })
}

/// The id_token_hint, if it is one we issued.
fn read_hint(state: &AppState, p: &LogoutParams) -> Option<IdClaims> {
    p.id_token_hint
        .as_deref()
        .filter(|h| h.len() <= 8192)
        .and_then(|h| state.oauth.key.read_hint(h, state.config.base()))
}

/// Where to send the browser afterwards, if allowed.
async fn allowed_redirect(
    state: &AppState,
    p: &LogoutParams,
    hint: Option<&IdClaims>,
) -> Option<String> {
    let uri = p.post_logout_redirect_uri.as_deref()?;
    let client_id = hint?.aud.as_str();
    if p.client_id.as_deref().is_some_and(|c| c != client_id) {
        return None;
    }
    let client = db::oauth::client(&state.db, client_id).await.ok()??;
    if !client.redirect_uris().any(|r| r == uri) {
        tracing::info!(
            client_id,
            uri,
            "logout: post_logout_redirect_uri not registered; not redirecting"
        );
        return None;
    }
    let mut url = Url::parse(uri).ok()?;
    if let Some(s) = &p.state {
        url.query_pairs_mut().append_pair("state", s);
    }
    Some(url.to_string())
}

async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    p: &LogoutParams,
    hint: Option<&IdClaims>,
) -> Response {
    let mut response = match super::logout::end(state, headers).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Some(to) = allowed_redirect(state, p, hint).await {
        if let Ok(v) = axum::http::HeaderValue::from_str(&to) {
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
                .headers_mut()
                .insert(axum::http::header::LOCATION, v);
        }
    }
    response
}

pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LogoutParams>, QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad logout request",
            "The parameters could not be read.",
        );
    };
    if let Some(refused) = too_long(&p) {
        return refused;
    }
    let hint = read_hint(&state, &p);
    let current = match session::current(&state, &headers).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let hint_matches = match (&hint, &current) {
        (Some(h), Some(s)) => h.sid.as_deref() == Some(grants::sid(&s.id_hash).as_str()),
        _ => false,
    };
    if hint_matches || current.is_none() {
        return finish(&state, &headers, &p, hint.as_ref()).await;
    }
    let (csrf, cookie) = session::csrf_token(&state, &headers);
    let hidden = [
        ("id_token_hint", &p.id_token_hint),
        ("post_logout_redirect_uri", &p.post_logout_redirect_uri),
        ("client_id", &p.client_id),
        ("state", &p.state),
    ];
    let mut response = page(
        "Sign out",
        html! {
            h1 { "Sign out?" }
            p {
                "An application asks to sign you out of " (state.config.authority())
                " and every co-op app."
            }
            form method="post" action="/oauth/logout" {
                input type="hidden" name="csrf" value=(csrf);
                @for (k, v) in hidden {
                    @if let Some(v) = v {
                        input type="hidden" name=(k) value=(v);
                    }
                }
                button type="submit" { "Sign out" }
            }
        },
    );
    session::with_cookie(response.headers_mut(), cookie);
    response
}

impl ProtectedForm for LogoutParams {
    const NAME: &'static str = "logout";
    const RETRY: &'static str = "Reload the page and try again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(p): CsrfForm<LogoutParams>,
) -> Response {
    if let Some(refused) = too_long(&p) {
        return refused;
    }
    let hint = read_hint(&state, &p);
    finish(&state, &headers, &p, hint.as_ref()).await
}
