//! The HTTP surface: [`app`] assembles every module's router into one axum
//! `Router` (kept apart from [`crate::server`], so tests can serve it on
//! any listener), plus the cross-cutting pieces: content negotiation, HTML
//! layout, `/health`, Prometheus metrics and the JSON 404/405 answers.

pub mod health;
pub mod html;
pub mod metrics;
pub mod negotiate;

use axum::extract::Request;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::instance::AppState;
use crate::{actors, discovery};

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .merge(discovery::routes())
        .merge(actors::routes::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(json_method_not_allowed))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        // Browsers must not guess types: an uploaded or remote text can
        // never be sniffed into HTML or script.
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // One INFO line per response (method, path, status, latency): the
        // access log operators expect; RUST_LOG=tower_http=warn silences it.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // A panic in a handler becomes a 500 for that request, not a dead
        // connection, and is logged.
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "no such resource" })),
    )
        .into_response()
}

/// axum answers a wrong method with an empty 405; peers and people get the
/// same JSON shape as every other error, and the `Allow` header is kept.
async fn json_method_not_allowed(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let mut replaced = (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "error": format!("method {method} is not allowed here") })),
    )
        .into_response();
    if let Some(allow) = allow {
        replaced
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow);
    }
    replaced
}
