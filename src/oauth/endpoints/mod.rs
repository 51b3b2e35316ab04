//! HTTP handlers of the authorization server, one file per URL. They parse,
//! call [`super::grants`] / [`super::clients`], and answer; no decisions
//! live here.

pub mod apps;
pub mod authorize;
pub mod authorized_apps;
pub mod csrf_form;
pub mod discovery;
pub mod end_session;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod register;
pub mod revoke;
pub mod token;
pub mod userinfo;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, LOCATION, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::db::oauth::Client;
use crate::http::html;
use crate::instance::AppState;
use crate::oauth::clients::{self, Presented};
use crate::oauth::error::OAuthError;

/// Largest form or JSON body any OAuth endpoint reads.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest value of any single OAuth parameter.
pub const MAX_PARAM: usize = 2048;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", get(logout::form).post(logout::submit))
        .route(
            "/oauth/authorize",
            get(authorize::start).post(authorize::decide),
        )
        .route(authorized_apps::PATH, get(authorized_apps::list))
        .route(authorized_apps::REVOKE_PATH, post(authorized_apps::revoke))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke))
        .route("/oauth/introspect", post(introspect::introspect))
        .route(
            "/oauth/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oauth/register", post(register::register))
        .route(
            "/oauth/logout",
            get(end_session::start).post(end_session::confirm),
        )
        .route("/api/v1/apps", post(apps::create))
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Sign-in and consent pages must never be framed (clickjacking) or
        // cached; CSP frame-ancestors 'none' comes with every page too.
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// A page telling a person what went wrong, with its status.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        html::page(
            title,
            maud::html! {
                h1 { (title) }
                p { (message) }
            },
        ),
    )
        .into_response()
}

/// A 303 to `to` (a path here, or a client's redirect URI).
pub fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(to) {
        Ok(v) => {
            response.headers_mut().insert(LOCATION, v);
            response
        }
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect address",
            "The redirect address cannot be used.",
        ),
    }
}

/// Sends a person who is not signed in to `/login`, to come back to
/// `next` (a path on this hub) afterwards.
pub fn sign_in_first(next: &str) -> Response {
    redirect(&format!(
        "/login?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish()
    ))
}

/// The answer to a form whose CSRF token is missing or wrong (403), with
/// what the person should do next.
pub fn form_expired(next_step: &str) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        &format!("This form expired or did not come from this site. {next_step}"),
    )
}

/// Whether any of these values is longer than [`MAX_PARAM`].
pub fn oversized<'a>(values: impl IntoIterator<Item = &'a Option<String>>) -> bool {
    values
        .into_iter()
        .any(|v| v.as_ref().is_some_and(|s| s.len() > MAX_PARAM))
}

/// The body of `/oauth/revoke` (RFC 7009) and `/oauth/introspect`
/// (RFC 7662): a token, an optional hint, and client credentials.
#[derive(serde::Deserialize)]
pub struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)] // accepted as both RFCs allow; the lookup needs no hint
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Authenticates the client of a [`TokenForm`] and returns it with the
/// token (`None` when it is too long to be one of ours).
pub async fn client_and_token(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    form: Result<axum::Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<(std::sync::Arc<Client>, Option<String>), OAuthError> {
    let axum::Form(f) = form?;
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
    let token = f
        .token
        .ok_or_else(|| OAuthError::request("token is required"))?;
    Ok((client, Some(token).filter(|t| t.len() <= MAX_PARAM)))
}
