//! `GET/POST /oauth/userinfo` (OIDC Core §5.3): claims about the member an
//! access token with `openid` stands for, filtered by its scopes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::db;
use crate::instance::AppState;
use crate::oauth::error::{no_store, Code, OAuthError};
use crate::oauth::{grants, scopes};

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result: Result<serde_json::Value, OAuthError> = async {
        let presented = grants::bearer_of(&headers).ok_or_else(|| {
            OAuthError::new(Code::InvalidToken, "a bearer access token is required")
        })?;
        let token = grants::bearer(&state, presented).await?.ok_or_else(|| {
            OAuthError::new(Code::InvalidToken, "the access token is invalid or expired")
        })?;
        let scope = scopes::parse(&token.scope).map_err(OAuthError::request)?;
        if !scopes::has(&scope, "openid") {
            return Err(OAuthError::new(
                Code::InsufficientScope,
                "the token lacks the openid scope",
            ));
        }
        let user = match token.user_id.as_deref() {
            Some(id) => db::users::by_id(&state.db, id).await?,
            None => None,
        }
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| OAuthError::new(Code::InvalidToken, "the token has no active member"))?;
        let mut claims = json!({ "sub": user.id });
        if scopes::has(&scope, "profile") {
            claims["preferred_username"] = json!(user.username);
            claims["name"] = json!(user.username);
        }
        if scopes::has(&scope, "email") {
            claims["email"] = json!(user.email);
            // Addresses are entered by admins and never confirmed by mail.
            claims["email_verified"] = json!(false);
        }
        Ok(claims)
    }
    .await;
    match result {
        Ok(claims) => {
            let mut response = Json(claims).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => e.into_response(),
    }
}
