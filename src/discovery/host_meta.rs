//! `/.well-known/host-meta` (XRD) and `host-meta.json` (JRD): a pointer to
//! the WebFinger endpoint for clients that discover it this way.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::http::html::escape;
use crate::instance::AppState;

fn template(state: &AppState) -> String {
    state.config.url("/.well-known/webfinger?resource={uri}")
}

pub async fn xrd(State(state): State<AppState>) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{}\"/>\n</XRD>\n",
        escape(&template(&state))
    );
    ([(CONTENT_TYPE, "application/xrd+xml; charset=utf-8")], body).into_response()
}

pub async fn json(State(state): State<AppState>) -> Response {
    Json(json!({
        "links": [{ "rel": "lrdd", "type": "application/jrd+json", "template": template(&state) }]
    }))
    .into_response()
}
