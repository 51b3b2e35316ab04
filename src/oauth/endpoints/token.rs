//! `POST /oauth/token` (RFC 6749 §3.2): `authorization_code`,
//! `refresh_token` and `client_credentials`. Answers are never cached.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

use super::oversized;
use crate::instance::AppState;
use crate::oauth::clients::{self, Presented};
use crate::oauth::error::{no_store, Code, OAuthError};
use crate::oauth::grants;

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    match issue(&state, &headers, form).await {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn issue(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<grants::TokenResponse, OAuthError> {
    let Form(f) = form?;
    if oversized([
        &f.grant_type,
        &f.code,
        &f.redirect_uri,
        &f.code_verifier,
        &f.refresh_token,
        &f.scope,
        &f.client_id,
        &f.client_secret,
    ]) {
        return Err(OAuthError::request("a parameter is too long"));
    }
    let client = clients::authenticate(
        &state.db,
        &state.oauth.clients,
        headers,
        Presented {
            client_id: f.client_id,
            client_secret: f.client_secret,
        },
    )
    .await?;
    let grant = f.grant_type.clone();
    let answer = match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = f
                .code
                .ok_or_else(|| OAuthError::request("code is required"))?;
            grants::redeem_code(
                state,
                &client,
                &code,
                f.redirect_uri.as_deref(),
                f.code_verifier.as_deref(),
            )
            .await?
        }
        Some("refresh_token") => {
            let token = f
                .refresh_token
                .ok_or_else(|| OAuthError::request("refresh_token is required"))?;
            grants::refresh(state, &client, &token, f.scope.as_deref()).await?
        }
        Some("client_credentials") => {
            grants::client_credentials(state, &client, f.scope.as_deref()).await?
        }
        Some(other) => {
            return Err(OAuthError::new(
                Code::UnsupportedGrantType,
                format!(
                    "grant_type '{}' is not supported",
                    other.chars().take(64).collect::<String>()
                ),
            ))
        }
        None => return Err(OAuthError::request("grant_type is required")),
    };
    state.metrics.record_oauth(match grant.as_deref() {
        Some("authorization_code") => "token_authorization_code",
        Some("refresh_token") => "token_refresh",
        _ => "token_client_credentials",
    });
    Ok(answer)
}
