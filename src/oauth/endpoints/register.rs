//! `POST /oauth/register`: RFC 7591 dynamic client registration, open as
//! Mastodon's app registration is. Registered clients are third parties:
//! their members see a consent screen.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::instance::AppState;
use crate::oauth::clients::{self, Registration};
use crate::oauth::error::{no_store, Code, OAuthError};

#[derive(Deserialize)]
pub struct Metadata {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    client_uri: Option<String>,
    scope: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

/// A registration request that passed the checks made before storing:
/// what to register, and what the answer echoes.
pub struct Request {
    pub registration: Registration,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
}

/// Checks client metadata for what this server supports (RFC 7591 §2):
/// the authentication method, grant types and response types.
pub fn read_metadata(m: Metadata) -> Result<Request, OAuthError> {
    let public = match m.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic") | Some("client_secret_post") => false,
        Some("none") => true,
        Some(other) => {
            return Err(OAuthError::new(
                Code::InvalidClientMetadata,
                format!("token_endpoint_auth_method '{other}' is not supported"),
            ))
        }
    };
    let grant_types = m
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(g) = grant_types.iter().find(|g| {
        !["authorization_code", "refresh_token", "client_credentials"].contains(&g.as_str())
    }) {
        return Err(OAuthError::new(
            Code::InvalidClientMetadata,
            format!("grant type '{g}' is not supported"),
        ));
    }
    if m.response_types
        .as_ref()
        .is_some_and(|r| r.iter().any(|t| t != "code"))
    {
        return Err(OAuthError::new(
            Code::InvalidClientMetadata,
            "only the code response type is supported",
        ));
    }
    Ok(Request {
        registration: Registration {
            name: m
                .client_name
                .unwrap_or_else(|| "Unnamed application".into()),
            website: m.client_uri,
            redirect_uris: m.redirect_uris.unwrap_or_default(),
            scope: m.scope,
            public,
        },
        grant_types,
        token_endpoint_auth_method: m
            .token_endpoint_auth_method
            .unwrap_or_else(|| "client_secret_basic".into()),
    })
}

pub async fn register(
    State(state): State<AppState>,
    body: Result<Json<Metadata>, JsonRejection>,
) -> Response {
    let result: Result<Response, OAuthError> = async {
        let Json(m) = body.map_err(|e| {
            OAuthError::new(Code::InvalidClientMetadata, format!("the body must be client metadata as JSON: {e}"))
        })?;
        let Request {
            registration,
            grant_types,
            token_endpoint_auth_method,
        } = read_metadata(m)?;
        let creds =
            clients::register_third_party(&state.db, state.config.mode, registration).await?;
        let c = &creds.client;
        tracing::info!(client_id = %c.client_id, name = %c.name, "oauth: client registered (RFC 7591)");
        let mut answer = json!({
            "client_id": c.client_id,
            "client_id_issued_at": c.created_at / 1000,
            "client_name": c.name,
            "redirect_uris": c.redirect_uris().collect::<Vec<_>>(),
            "scope": c.scopes,
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": token_endpoint_auth_method,
        });
        if let Some(secret) = &creds.secret {
            answer["client_secret"] = json!(secret);
            answer["client_secret_expires_at"] = json!(0);
        }
        if let Some(site) = &c.website {
            answer["client_uri"] = json!(site);
        }
        let mut response = (StatusCode::CREATED, Json(answer)).into_response();
        no_store(response.headers_mut());
        Ok(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
