//! `GET/POST /login`: the sign-in form. Failed attempts are throttled per
//! account and per client IP and logged; the message never says whether
//! the name exists. `next` only ever leads to a path on this hub.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::csrf_form::{CsrfForm, ProtectedForm};
use super::error_page;
use crate::db;
use crate::http::client_ip::client_ip;
use crate::http::html::page;
use crate::instance::AppState;
use crate::oauth::throttle::Verdict;
use crate::oauth::{passwords, session};
use maud::html;

/// Where to go after signing in when `next` is missing or unsafe.
const HOME: &str = "/login";

/// `next` if it is a path on this hub, else [`HOME`]. Refused: absolute
/// and scheme-relative URLs (`//evil`, `/\evil`, which browsers treat as
/// another host), control characters, overlong values.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 4096 =>
        {
            n.to_string()
        }
        _ => HOME.to_string(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let next = safe_next(query.as_ref().ok().and_then(|q| q.next.as_deref()));
    if next == HOME {
        if let Ok(Some(s)) = session::current(&state, &headers).await {
            if let Ok(Some(user)) = db::users::by_id(&state.db, &s.user_id).await {
                return signed_in_page(&state, &headers, &user.username);
            }
        }
    }
    render(&state, &headers, &next, "", None, StatusCode::OK)
}

fn signed_in_page(state: &AppState, headers: &HeaderMap, username: &str) -> Response {
    let intro = html! {
        h1 { "Signed in" }
        p { "You are signed in as " b { (username) } "." }
        p {
            a href=(super::authorized_apps::PATH) { "Authorized apps" }
            ": the applications you have allowed to use your account."
        }
    };
    super::logout::sign_out_page(state, headers, "Signed in", intro)
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, cookie) = session::csrf_token(state, headers);
    let body = html! {
        h1 { "Sign in to " (state.config.authority()) }
        @if let Some(error) = error {
            p role="alert" { b { (error) } }
        }
        form method="post" action="/login" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            p {
                label {
                    "User name" br;
                    input name="username" value=(username) autocomplete="username" required autofocus;
                }
            }
            p {
                label {
                    "Password" br;
                    input name="password" type="password" autocomplete="current-password" required;
                }
            }
            p { button type="submit" { "Sign in" } }
        }
    };
    let mut response = (status, page("Sign in", body)).into_response();
    session::with_cookie(response.headers_mut(), cookie);
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    next: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl ProtectedForm for LoginForm {
    const NAME: &'static str = "sign-in";
    const RETRY: &'static str = "Go back, reload the page and try again.";
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let username = form.username.unwrap_or_default().trim().to_lowercase();
    let password = form.password.unwrap_or_default();
    if username.is_empty() || username.len() > 100 || password.len() > passwords::MAX_LENGTH {
        return render(
            &state,
            &headers,
            &next,
            "",
            Some("Enter your user name and password."),
            StatusCode::BAD_REQUEST,
        );
    }
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let ticket = match state.oauth.throttle.attempt(&state.db, &username, ip).await {
        Ok(Verdict::Allowed(ticket)) => ticket,
        Err(e) => return e.into_response(),
        Ok(Verdict::Wait(wait)) => {
            tracing::warn!(username = %username, ip = %ip, retry_after_secs = wait.as_secs(), "login: throttled");
            state.metrics.record_oauth("login_throttled");
            let mut response = render(
                &state,
                &headers,
                &next,
                &username,
                Some("Too many failed sign-ins. Wait a while and try again."),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(v) = HeaderValue::from_str(&(wait.as_secs() + 1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, v);
            }
            return response;
        }
    };
    let user = match db::users::by_username(&state.db, &username).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    // Each check holds ~19 MiB for tens of milliseconds: a bounded number
    // run at once, so a flood of sign-ins cannot exhaust memory.
    let Ok(Ok(_permit)) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.oauth.password_checks.acquire(),
    )
    .await
    else {
        tracing::warn!(ip = %ip, "login: too many sign-ins in progress");
        let mut response = error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "Too many sign-ins are in progress. Try again in a few seconds.",
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        return response;
    };
    let password_ok = {
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        // argon2 takes tens of milliseconds: off the async threads.
        tokio::task::spawn_blocking(move || match stored {
            Some(hash) => passwords::verify(&password, &hash),
            None => {
                passwords::verify_dummy(&password);
                false
            }
        })
        .await
        .unwrap_or(false)
    };
    let user = match user {
        Some(u) if password_ok && !u.is_disabled() => u,
        other => {
            let reason = match other {
                None => "unknown user",
                Some(u) if u.is_disabled() => "account disabled",
                Some(_) => "wrong password",
            };
            tracing::warn!(username = %username, ip = %ip, reason, "login: failed sign-in");
            state.metrics.record_oauth("login_failed");
            return render(
                &state,
                &headers,
                &next,
                &username,
                Some("Invalid user name or password."),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    if let Err(e) = state.oauth.throttle.succeeded(&state.db, ticket).await {
        return e.into_response();
    }
    let cookie = match session::start(&state, &user.id).await {
        Ok((_, cookie)) => cookie,
        Err(e) => return e.into_response(),
    };
    tracing::info!(username = %user.username, ip = %ip, "login: signed in");
    state.metrics.record_oauth("login_succeeded");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&next) {
        response.headers_mut().insert(LOCATION, v);
    }
    session::with_cookie(response.headers_mut(), cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_hub() {
        assert_eq!(
            safe_next(Some("/oauth/authorize?x=1")),
            "/oauth/authorize?x=1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/a\nb",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(bad)), "/login", "{bad}");
        }
        assert_eq!(safe_next(None), "/login");
    }
}
