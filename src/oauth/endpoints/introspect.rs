//! `POST /oauth/introspect` (RFC 7662): a confidential client asks whether
//! a token is active and what it grants. Member apps (first party, the
//! co-op's resource servers) may introspect any token; a third party only
//! its own. Anything else is `{"active": false}`.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{json, Value};

use super::{client_and_token, TokenForm};
use crate::instance::AppState;
use crate::oauth::error::{no_store, OAuthError};
use crate::oauth::grants;
use crate::secrets;

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let result: Result<Value, OAuthError> = async {
        let (client, token) = client_and_token(&state, &headers, form).await?;
        if client.is_public() {
            return Err(OAuthError::client(
                "introspection needs a confidential client",
            ));
        }
        let Some(token) = token else {
            return Ok(json!({ "active": false }));
        };
        let found = grants::active(&state, &secrets::hash(&token))
            .await?
            .filter(|t| client.is_first_party() || t.client_id == client.client_id);
        Ok(match found {
            None => json!({ "active": false }),
            Some(t) => {
                let mut answer = json!({
                    "active": true,
                    "scope": t.scope,
                    "client_id": t.client_id,
                    "token_type": if t.kind == "access" { "Bearer" } else { "refresh_token" },
                    "exp": t.expires_at / 1000,
                    "iat": t.created_at / 1000,
                    "iss": state.config.base(),
                    "aud": t.client_id,
                });
                if let (Some(sub), Some(name)) = (&t.user_id, &t.username) {
                    answer["sub"] = json!(sub);
                    answer["username"] = json!(name);
                } else if let Some(app) = &t.app_name {
                    // A member app's own token acts as its actor.
                    answer["sub"] = json!(state.config.url(&format!("/actors/{app}")));
                }
                answer
            }
        })
    }
    .await;
    match result {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(e) => e.into_response(),
    }
}
