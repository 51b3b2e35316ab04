//! `POST /oauth/revoke` (RFC 7009). A client revokes its own access or
//! refresh token (a refresh token takes its whole family with it). The
//! answer is 200 whether or not the token existed, so nothing leaks.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::{client_and_token, TokenForm};
use crate::instance::AppState;
use crate::oauth::error::{no_store, OAuthError};
use crate::secrets;

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let result: Result<(), OAuthError> = async {
        let (client, token) = client_and_token(&state, &headers, form).await?;
        if let Some(token) = token {
            // Only a real revocation clears the cache: a made-up token must
            // not let anyone flush it at will.
            if crate::db::oauth::revoke(&state.db, &secrets::hash(&token), &client.client_id)
                .await?
            {
                state.oauth.tokens.clear();
            }
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
