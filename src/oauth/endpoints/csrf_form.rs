//! [`CsrfForm`]: what every HTML form handler takes instead of `Form`. It
//! reads the form and checks its CSRF token (a double-submit cookie, see
//! `oauth::session`) before the handler runs, so no handler can forget the
//! check, and a refusal looks and logs the same everywhere: a page a person
//! can act on (400 for an unreadable form, 403 for an expired or forged
//! one) and an info line naming the form and the client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::de::DeserializeOwned;

use super::{error_page, form_expired};
use crate::http::client_ip::client_ip;
use crate::instance::AppState;
use crate::oauth::session;

/// A form protected by a CSRF token.
pub trait ProtectedForm: DeserializeOwned {
    /// The form's name in pages and logs ("sign-in", "consent").
    const NAME: &'static str;
    /// What a person whose form expired should do next.
    const RETRY: &'static str;
    /// The token the form carried.
    fn csrf(&self) -> Option<&str>;
}

/// A form of type `T` whose CSRF token matched its cookie.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: ProtectedForm + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        // The body is consumed below; the cookie and address are needed after.
        let headers = request.headers().clone();
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|peer| client_ip(peer, &headers, &state.config.trusted_proxies));
        let form = match Form::<T>::from_request(request, state).await {
            Ok(Form(form)) => form,
            Err(rejection) => {
                tracing::info!(form = T::NAME, ip = ?ip, reason = %rejection, "form could not be read");
                return Err(error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("Bad {} request", T::NAME),
                    &format!("The {} form could not be read.", T::NAME),
                ));
            }
        };
        if !session::csrf_ok(state, &headers, form.csrf()) {
            tracing::info!(form = T::NAME, ip = ?ip, "form without a valid CSRF token");
            return Err(form_expired(T::RETRY));
        }
        Ok(CsrfForm(form))
    }
}
