//! `/.well-known/oauth-authorization-server` (RFC 8414), the same document
//! at `/.well-known/openid-configuration` (OIDC Discovery), and the JWKS.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::instance::AppState;
use crate::oauth::scopes;

pub async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "issuer": c.base(),
        "authorization_endpoint": c.url("/oauth/authorize"),
        "token_endpoint": c.url("/oauth/token"),
        "registration_endpoint": c.url("/oauth/register"),
        "revocation_endpoint": c.url("/oauth/revoke"),
        "introspection_endpoint": c.url("/oauth/introspect"),
        "userinfo_endpoint": c.url("/oauth/userinfo"),
        "jwks_uri": c.url("/.well-known/jwks.json"),
        "end_session_endpoint": c.url("/oauth/logout"),
        "scopes_supported": scopes::SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
                             "preferred_username", "name", "email", "email_verified"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": c.url("/"),
    }))
}

pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.oauth.key.jwks())
}
