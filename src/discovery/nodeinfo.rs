//! NodeInfo 2.0 and 2.1: software name and version, protocols, and usage
//! counted from the database (each app actor counts as a user; an app is
//! active when it published in the period).

use axum::extract::State;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::db::{self, now_millis};
use crate::error::AppError;
use crate::instance::AppState;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub async fn links(State(state): State<AppState>) -> Response {
    let link = |v: &str| {
        json!({
            "rel": format!("http://nodeinfo.diaspora.software/ns/schema/{v}"),
            "href": state.config.url(&format!("/nodeinfo/{v}")),
        })
    };
    (
        [(ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(json!({ "links": [link("2.0"), link("2.1")] })),
    )
        .into_response()
}

pub async fn nodeinfo_20(State(state): State<AppState>) -> Result<Response, AppError> {
    nodeinfo(&state, "2.0").await
}

pub async fn nodeinfo_21(State(state): State<AppState>) -> Result<Response, AppError> {
    nodeinfo(&state, "2.1").await
}

async fn nodeinfo(state: &AppState, version: &'static str) -> Result<Response, AppError> {
    let now = now_millis();
    let users = db::apps::count(&state.db).await?;
    let month = db::collections::active_apps(&state.db, now - 30 * DAY_MS).await?;
    let half_year = db::collections::active_apps(&state.db, now - 180 * DAY_MS).await?;
    let posts = db::collections::local_posts(&state.db).await?;

    let mut software = json!({ "name": "rosefed", "version": env!("CARGO_PKG_VERSION") });
    if version == "2.1" {
        software["homepage"] = Value::String(state.config.url("/"));
    }
    let doc = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": false,
        "usage": {
            "users": { "total": users, "activeMonth": month, "activeHalfyear": half_year },
            "localPosts": posts,
        },
        "metadata": { "nodeName": state.config.authority() },
    });
    let mut response = Json(doc).into_response();
    let headers = response.headers_mut();
    let media = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    if let Ok(value) = HeaderValue::from_str(&media) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
