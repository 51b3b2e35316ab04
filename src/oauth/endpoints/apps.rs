//! `POST /api/v1/apps`: app registration as Mastodon does it, so fediverse
//! clients written for Mastodon can sign members in. Accepts a form or
//! JSON; `redirect_uris` is one string (whitespace-separated) or a list.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::instance::AppState;
use crate::oauth::clients::{self, Registration};
use crate::oauth::error::no_store;

#[derive(Deserialize)]
#[serde(untagged)]
enum Uris {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
pub struct NewApp {
    client_name: Option<String>,
    redirect_uris: Option<Uris>,
    scopes: Option<String>,
    website: Option<String>,
}

/// Mastodon answers validation failures with 422 and `{"error": …}`.
fn unprocessable(message: impl Into<String>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let registration = match read_registration(is_json, &body) {
        Ok(r) => r,
        Err(message) => return unprocessable(message),
    };
    let creds =
        match clients::register_third_party(&state.db, state.config.mode, registration).await {
            Ok(c) => c,
            Err(e) => return unprocessable(format!("Validation failed: {}", e.description)),
        };
    let c = &creds.client;
    tracing::info!(client_id = %c.client_id, name = %c.name, "oauth: client registered (Mastodon API)");
    let uris: Vec<&str> = c.redirect_uris().collect();
    let mut response = Json(json!({
        "id": c.client_id,
        "name": c.name,
        "website": c.website,
        "scopes": c.scopes.split(' ').collect::<Vec<_>>(),
        "redirect_uri": uris.join("\n"),
        "redirect_uris": uris,
        "client_id": c.client_id,
        "client_secret": creds.secret,
        "client_secret_expires_at": 0,
    }))
    .into_response();
    no_store(response.headers_mut());
    response
}

/// Reads a registration request, a form or JSON, into what
/// [`clients::register_third_party`] checks; the error is the 422's
/// message.
pub fn read_registration(is_json: bool, body: &[u8]) -> Result<Registration, String> {
    let parsed: Result<NewApp, String> = if is_json {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    } else {
        // Forms carry redirect_uris as one string; serde_urlencoded cannot
        // fill the untagged enum, so read the fields by hand.
        let mut app = NewApp {
            client_name: None,
            redirect_uris: None,
            scopes: None,
            website: None,
        };
        let mut many = Vec::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "client_name" => app.client_name = Some(v.into_owned()),
                "redirect_uris" => app.redirect_uris = Some(Uris::One(v.into_owned())),
                "redirect_uris[]" => many.push(v.into_owned()),
                "scopes" => app.scopes = Some(v.into_owned()),
                "website" => app.website = Some(v.into_owned()),
                _ => {}
            }
        }
        if !many.is_empty() {
            app.redirect_uris = Some(Uris::Many(many));
        }
        Ok(app)
    };
    let app = parsed.map_err(|e| format!("Validation failed: unreadable body: {e}"))?;
    let Some(name) = app.client_name.filter(|n| !n.trim().is_empty()) else {
        return Err("Validation failed: Application name can't be blank".into());
    };
    let redirect_uris: Vec<String> = match app.redirect_uris {
        Some(Uris::One(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Uris::Many(v)) => v,
        None => Vec::new(),
    };
    Ok(Registration {
        name,
        website: app.website.filter(|w| !w.trim().is_empty()),
        redirect_uris,
        scope: app.scopes,
        public: false,
    })
}
