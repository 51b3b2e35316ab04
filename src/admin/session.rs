//! [`AdminSession`]: what every admin handler takes. It finds the browser's
//! session, and lets the request through only for a member with the admin
//! role who is not disabled. Anyone not signed in is sent to `/login` (to
//! come back afterwards); a signed-in member without the role gets a 403
//! page and an info line naming them, so probing is visible in the logs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::db::{self, users::User};
use crate::instance::AppState;
use crate::oauth::endpoints::{error_page, sign_in_first};
use crate::oauth::session;

/// A signed-in administrator.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub user: User,
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // After signing in, come back to the page; a form's target is not
        // a page, so a POST comes back to the dashboard.
        let back = match parts.method {
            Method::GET => parts
                .uri
                .path_and_query()
                .map_or("/admin", |p| p.as_str())
                .to_string(),
            _ => "/admin".to_string(),
        };
        let session = session::current(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(session) = session else {
            return Err(sign_in_first(&back));
        };
        let user = db::users::by_id(&state.db, &session.user_id)
            .await
            .map_err(IntoResponse::into_response)?;
        match user {
            Some(user) if user.is_admin != 0 && !user.is_disabled() => Ok(AdminSession { user }),
            Some(user) => {
                tracing::info!(member = %user.username, path = %parts.uri.path(), "admin page refused: not an admin");
                Err(error_page(
                    StatusCode::FORBIDDEN,
                    "Admins only",
                    "This page is for the hub's administrators. You are signed in as a member without that role.",
                ))
            }
            None => Err(sign_in_first(&back)),
        }
    }
}
