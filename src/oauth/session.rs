//! Browser sessions and CSRF tokens.
//!
//! A sign-in creates a server-side session row (the SSO session every
//! member app's authorize request finds); the browser holds only a random
//! id in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` and `__Host-` in
//! production), and the row stores its hash. Forms carry a CSRF token that
//! must equal the browser's CSRF cookie (double submit); with `__Host-`
//! cookies in production a sibling subdomain cannot plant one.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

use crate::config::Mode;
use crate::db::{self, users::Session};
use crate::error::AppError;
use crate::instance::AppState;
use crate::secrets;

fn session_cookie(mode: Mode) -> &'static str {
    match mode {
        Mode::Production => "__Host-rosefed_session",
        Mode::Development => "rosefed_session",
    }
}

fn csrf_cookie(mode: Mode) -> &'static str {
    match mode {
        Mode::Production => "__Host-rosefed_csrf",
        Mode::Development => "rosefed_csrf",
    }
}

/// The value of one cookie from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn set_cookie(name: &str, value: &str, max_age_secs: u64, mode: Mode) -> Option<HeaderValue> {
    let secure = if mode == Mode::Production {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// The signed-in session of this request, if any.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, AppError> {
    let Some(id) = cookie(headers, session_cookie(state.config.mode)) else {
        return Ok(None);
    };
    if id.len() > 100 {
        return Ok(None);
    }
    db::users::session(&state.db, &secrets::hash(id)).await
}

/// Starts a session for `user_id`, returning the `Set-Cookie` header.
pub async fn start(
    state: &AppState,
    user_id: &str,
) -> Result<(Session, Option<HeaderValue>), AppError> {
    let id = secrets::random_token("")?;
    let now = db::now_millis();
    let ttl = state.config.oauth.session_ttl_secs;
    let expires_at = now + (ttl as i64) * 1000;
    let id_hash = secrets::hash(&id);
    db::users::insert_session(&state.db, &id_hash, user_id, now, expires_at).await?;
    Ok((
        Session {
            id_hash,
            user_id: user_id.to_string(),
            auth_time: now,
            expires_at,
        },
        set_cookie(
            session_cookie(state.config.mode),
            &id,
            ttl,
            state.config.mode,
        ),
    ))
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear(state: &AppState) -> Option<HeaderValue> {
    set_cookie(session_cookie(state.config.mode), "", 0, state.config.mode)
}

/// The CSRF token for a form: the browser's, or a new one with the
/// `Set-Cookie` that gives it to the browser.
pub fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let name = csrf_cookie(state.config.mode);
    if let Some(existing) = cookie(headers, name).filter(|v| v.len() == 43) {
        return (existing.to_string(), None);
    }
    match secrets::random_token("") {
        Ok(token) => {
            let header = set_cookie(name, &token, 24 * 3600, state.config.mode);
            (token, header)
        }
        // No randomness means no form can be trusted; an empty token never
        // matches, so every submission is refused rather than accepted.
        Err(_) => (String::new(), None),
    }
}

/// Whether a submitted form's CSRF token matches the browser's cookie.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (cookie(headers, csrf_cookie(state.config.mode)), submitted) {
        (Some(expected), Some(got)) if expected.len() == 43 => secrets::equal(expected, got),
        _ => false,
    }
}

/// Adds a `Set-Cookie` header when there is one.
pub fn with_cookie(headers: &mut HeaderMap, cookie: Option<HeaderValue>) {
    if let Some(c) = cookie {
        headers.append(SET_COOKIE, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_in_production() {
        let prod = set_cookie(session_cookie(Mode::Production), "v", 60, Mode::Production).unwrap();
        let prod = prod.to_str().unwrap();
        assert!(prod.starts_with("__Host-rosefed_session=v;"), "{prod}");
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"] {
            assert!(prod.contains(attr), "{prod} lacks {attr}");
        }
        let dev = set_cookie(
            session_cookie(Mode::Development),
            "v",
            60,
            Mode::Development,
        )
        .unwrap();
        assert!(!dev.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; rosefed_csrf=xyz; b=2"),
        );
        assert_eq!(cookie(&h, "rosefed_csrf"), Some("xyz"));
        assert_eq!(cookie(&h, "rosefed"), None);
    }
}
