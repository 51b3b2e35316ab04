//! [`AppToken`]: who a publishing-API request acts as. Every handler of
//! `/api/v1/apps/{name}/…` takes it, so the check runs once, before the
//! body is read: the bearer token must be one made by `rosefed apps token
//! NAME` (stored as its SHA-256) or an OAuth client-credentials token of
//! the app's own client with the `publish` scope, and it acts only as the
//! app named in the path. A refusal is 401 with `WWW-Authenticate: Bearer`
//! (RFC 6750) or 403.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::actors::AppName;
use crate::db;
use crate::error::AppError;
use crate::instance::AppState;

/// The member app the request's bearer token acts as.
#[derive(Debug)]
pub struct AppToken(pub AppName);

impl FromRequestParts<AppState> for AppToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let name = params
            .iter()
            .find(|(key, _)| *key == "name")
            .map(|(_, value)| value.to_string())
            .unwrap_or_default();
        authorize(state, &parts.headers, &name)
            .await
            .map(AppToken)
            .map_err(with_www_authenticate)
    }
}

/// The stored form of a publishing-API token.
pub fn token_hash(token: &str) -> String {
    crate::secrets::hash(token)
}

/// A new random publishing-API token.
pub fn new_token() -> Result<String, AppError> {
    crate::secrets::random_token("rft_")
}

/// The app a request may act as: its bearer token's, and only if that is
/// the app named in the path.
async fn authorize(state: &AppState, headers: &HeaderMap, name: &str) -> Result<AppName, AppError> {
    let app = any_app(state, headers).await?;
    if app.as_str() != name {
        return Err(AppError::Forbidden(format!(
            "this token acts as '{app}', not as '{name}'"
        )));
    }
    Ok(app)
}

/// The member app a request's bearer token acts as, whichever it is: for
/// reads any app may make (see `outbox::api`'s `AuthorizedRead`).
pub async fn any_app(state: &AppState, headers: &HeaderMap) -> Result<AppName, AppError> {
    let token = crate::oauth::grants::bearer_of(headers)
        .ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    let app = match db::activities::app_for_token(&state.db, &token_hash(token)).await? {
        Some(app) => app,
        None => oauth_app(state, token).await?,
    };
    AppName::parse(&app)
}

/// The member app an OAuth access token acts as: a token of that app's own
/// client with the `publish` scope (client credentials, typically).
async fn oauth_app(state: &AppState, token: &str) -> Result<String, AppError> {
    let found = crate::oauth::grants::bearer(state, token)
        .await?
        .ok_or_else(|| AppError::Unauthorized("unknown or expired token".into()))?;
    if found.user_id.is_some() {
        return Err(AppError::Forbidden(
            "a member's token cannot publish as an app: use the app's client credentials".into(),
        ));
    }
    let app = found.app_name.clone().ok_or_else(|| {
        AppError::Forbidden("this token belongs to a client that is not a member app".into())
    })?;
    if !found.scope.split(' ').any(|s| s == "publish") {
        return Err(AppError::Forbidden(
            "this token lacks the publish scope".into(),
        ));
    }
    Ok(app)
}

fn with_www_authenticate(e: AppError) -> Response {
    let unauthorized = matches!(e, AppError::Unauthorized(_));
    let mut response = e.into_response();
    if unauthorized {
        response.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("Bearer realm=\"rosefed\""),
        );
    }
    response
}
