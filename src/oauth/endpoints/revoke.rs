//! `POST /oauth/revoke` (RFC 7009). A client revokes its own access or
//! refresh token (a refresh token takes its whole family with it). The
//! answer is 200 whether or not the token existed, so nothing leaks.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::instance::AppState;
use crate::oauth::clients::{self, Presented};
use crate::oauth::error::{no_store, OAuthError};
use crate::secrets;

#[derive(Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
    #[allow(dead_code)] // accepted as RFC 7009 allows; the lookup needs no hint
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let result: Result<(), OAuthError> = async {
        let Form(f) = form?;
        let client = clients::authenticate(
            &state.db,
            &state.oauth.clients,
            &headers,
            Presented {
                client_id: f.client_id,
                client_secret: f.client_secret,
            },
        )
        .await?;
        let token = f
            .token
            .ok_or_else(|| OAuthError::request("token is required"))?;
        if token.len() <= super::MAX_PARAM {
            crate::db::oauth::revoke(&state.db, &secrets::hash(&token), &client.client_id).await?;
            state.oauth.tokens.clear();
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => e.into_response(),
    }
}
