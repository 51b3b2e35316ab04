//! The HTTP surface: [`app`] assembles every module's router into one axum
//! `Router` (kept apart from [`crate::server`], so tests can serve it on
//! any listener), plus the cross-cutting pieces: content negotiation, HTML
//! layout, `/health`, Prometheus metrics and the JSON 404/405 answers (sexp
//! ones for clients that asked for sexp).

pub mod client_ip;
pub mod health;
pub mod html;
pub mod metrics;
pub mod negotiate;
pub mod nul_guard;

use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
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
use crate::{actors, admin, discovery, inbox, oauth, outbox, pages};

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .merge(discovery::routes())
        .merge(actors::routes::routes())
        .merge(inbox::routes())
        .merge(outbox::api::routes())
        .merge(oauth::routes())
        .merge(admin::routes())
        .merge(pages::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            nul_guard::refuse_nul,
        ))
        // Innermost, so a handler panic becomes a JSON 500 that the layers
        // outside still log and count.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(json_errors))
        // Outside json_errors, so every error it shapes can become sexp.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            negotiate::sexp_errors,
        ))
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
        .with_state(state)
}

fn error_json(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn not_found() -> Response {
    error_json(StatusCode::NOT_FOUND, "no such resource".into())
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_json(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
}

/// Longest framework rejection text carried over into a JSON error.
const MAX_REJECTION_TEXT: usize = 4096;

/// axum's own rejections (a wrong method, an undecodable path) are empty or
/// plain text; peers and people get the same JSON shape as every other
/// error instead. Headers such as `Allow` are kept.
async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        format!("method {method} is not allowed here")
    } else if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string()
    } else {
        text
    };
    let replaced = error_json(status, message);
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let (_, body) = replaced.into_parts();
    Response::from_parts(parts, body)
}
