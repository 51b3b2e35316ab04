//! `POST /oauth/introspect` (RFC 7662): a confidential client asks whether
//! a token is active and what it grants. Member apps (first party, the
//! co-op's resource servers) may introspect any token; a third party only
//! its own. Anything else is `{"active": false}`.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Serialize;

use super::{client_and_token, TokenForm};
use crate::instance::AppState;
use crate::oauth::error::{no_store, OAuthError};
use crate::oauth::grants;
use crate::secrets;

/// The answer (RFC 7662 §2.2); an inactive token is `{"active": false}`
/// and nothing else.
#[derive(Serialize)]
pub struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

impl Introspection {
    fn inactive() -> Introspection {
        Introspection {
            active: false,
            scope: None,
            client_id: None,
            token_type: None,
            exp: None,
            iat: None,
            iss: None,
            aud: None,
            sub: None,
            username: None,
        }
    }
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let result: Result<Introspection, OAuthError> = async {
        let (client, token) = client_and_token(&state, &headers, form).await?;
        if client.is_public() {
            return Err(OAuthError::client(
                "introspection needs a confidential client",
            ));
        }
        let Some(token) = token else {
            return Ok(Introspection::inactive());
        };
        let found = grants::active(&state, &secrets::hash(&token))
            .await?
            .filter(|t| client.is_first_party() || t.client_id == client.client_id);
        Ok(match found {
            None => Introspection::inactive(),
            Some(t) => {
                let (sub, username) = match (&t.user_id, &t.username) {
                    (Some(sub), Some(name)) => (Some(sub.clone()), Some(name.clone())),
                    // A member app's own token acts as its actor.
                    _ => (
                        t.app_name
                            .as_ref()
                            .map(|app| state.config.url(&format!("/actors/{app}"))),
                        None,
                    ),
                };
                Introspection {
                    active: true,
                    scope: Some(t.scope.clone()),
                    client_id: Some(t.client_id.clone()),
                    token_type: Some(if t.kind == "access" {
                        "Bearer"
                    } else {
                        "refresh_token"
                    }),
                    exp: Some(t.expires_at / 1000),
                    iat: Some(t.created_at / 1000),
                    iss: Some(state.config.base().to_string()),
                    aud: Some(t.client_id.clone()),
                    sub,
                    username,
                }
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
