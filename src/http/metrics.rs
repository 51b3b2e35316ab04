//! Prometheus metrics over HTTP: the middleware that counts every request
//! of the public router, and the scrape endpoint, served on its own
//! listener (`--metrics-bind`) so it is never exposed on the public port.
//! Database health and the number of apps are read at scrape time; the
//! counters themselves are in `crate::metrics`.

use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::db;
use crate::instance::AppState;
use crate::metrics::Metrics;

/// Middleware counting every request of the public router.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    // Any token is a valid HTTP method; unknown ones share one label so a
    // client cannot grow the metrics without bound.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "OTHER".to_string(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The router of the metrics listener.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP rosefed_build_info The running version.\n# TYPE rosefed_build_info gauge\n\
         rosefed_build_info{{version=\"{}\",database=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        state.db.backend().name()
    );
    let up = state.db.ping().await.is_ok();
    let _ = writeln!(
        out,
        "# HELP rosefed_database_up Whether the database answered at scrape time.\n\
         # TYPE rosefed_database_up gauge\nrosefed_database_up {}",
        u8::from(up)
    );
    if let Ok(apps) = db::apps::count(&state.db).await {
        let _ = writeln!(
            out,
            "# HELP rosefed_apps Member apps (virtual actors).\n# TYPE rosefed_apps gauge\nrosefed_apps {apps}"
        );
    }
    state.metrics.render_requests(&mut out);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}
