//! `GET /health`: is this process able to serve? Checks the database, so a
//! load balancer stops sending traffic to a hub that lost it (503).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::instance::AppState;

pub async fn health(State(state): State<AppState>) -> Response {
    let version = env!("CARGO_PKG_VERSION");
    let backend = state.db.backend().name();
    match state.db.ping().await {
        Ok(()) => Json(json!({
            "status": "ok",
            "version": version,
            "database": { "backend": backend, "status": "ok" },
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "version": version,
                    "database": { "backend": backend, "status": "unreachable" },
                })),
            )
                .into_response()
        }
    }
}
