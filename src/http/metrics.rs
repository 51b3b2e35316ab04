//! Prometheus metrics, served on their own listener (`--metrics-bind`) so
//! they are never exposed on the public port.
//!
//! Requests are counted by method, route template (`/actors/{name}`, never
//! the concrete path, so label cardinality stays bounded) and status, with
//! a latency histogram per route. Database health and the number of apps
//! are read at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::db;
use crate::instance::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Cumulative counts per bucket, as Prometheus exposes them.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    /// By (format, outcome).
    deliveries: BTreeMap<(&'static str, &'static str), u64>,
    /// Accepted inbox activities by (format, type).
    inbox: BTreeMap<(&'static str, &'static str), u64>,
    oauth: BTreeMap<&'static str, u64>,
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<String, Histogram>,
}

/// In-process counters. Each process of a scaled-out deployment reports its
/// own; Prometheus sums them.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // A poisoned lock only means another thread panicked mid-update;
        // the counters are still usable.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = inner.durations.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.buckets[i] += 1;
            }
        }
    }

    /// Counts one delivery attempt by format (jsonld, sexp) and outcome
    /// (delivered, retry, dead).
    pub fn record_delivery(&self, format: &'static str, outcome: &'static str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.deliveries.entry((format, outcome)).or_default() += 1;
    }

    /// Counts one accepted inbox activity by format and type; types the hub
    /// does not handle share the label `other`, so a peer cannot grow the
    /// metrics without bound.
    pub fn record_inbox(&self, format: &'static str, kind: &str) {
        let kind = crate::formats::activity::HANDLED
            .iter()
            .find(|k| **k == kind)
            .copied()
            .unwrap_or("other");
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.inbox.entry((format, kind)).or_default() += 1;
    }

    /// Counts one authorization-server event: tokens issued by grant,
    /// sign-ins by outcome, replayed codes, reused refresh tokens.
    pub fn record_oauth(&self, event: &'static str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.oauth.entry(event).or_default() += 1;
    }

    /// How many responses this process answered with `status`.
    pub fn responses_with_status(&self, status: u16) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .requests
            .iter()
            .filter(|((_, _, s), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }

    fn render_requests(&self, out: &mut String) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str(
            "# HELP rosefed_oauth_events_total Authorization-server events in this process.\n",
        );
        out.push_str("# TYPE rosefed_oauth_events_total counter\n");
        for (event, n) in &inner.oauth {
            let _ = writeln!(out, "rosefed_oauth_events_total{{event=\"{event}\"}} {n}");
        }
        out.push_str(
            "# HELP rosefed_deliveries_total Delivery attempts by this process, by format and outcome.\n",
        );
        out.push_str("# TYPE rosefed_deliveries_total counter\n");
        for ((format, outcome), n) in &inner.deliveries {
            let _ = writeln!(
                out,
                "rosefed_deliveries_total{{format=\"{format}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP rosefed_inbox_activities_total Activities accepted by this process's inboxes, by format and type.\n");
        out.push_str("# TYPE rosefed_inbox_activities_total counter\n");
        for ((format, kind), n) in &inner.inbox {
            let _ = writeln!(
                out,
                "rosefed_inbox_activities_total{{format=\"{format}\",type=\"{kind}\"}} {n}"
            );
        }
        out.push_str("# HELP rosefed_http_requests_total HTTP requests served, by method, route template and status.\n");
        out.push_str("# TYPE rosefed_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "rosefed_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(method),
                label(route)
            );
        }
        out.push_str("# HELP rosefed_http_request_duration_seconds Time to produce a response, by route template.\n");
        out.push_str("# TYPE rosefed_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.durations {
            let route = label(route);
            for (le, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "rosefed_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "rosefed_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 rosefed_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 rosefed_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
    }
}

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

/// Escapes a label value (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record("GET", "/a", 200, 0.003);
        m.record("GET", "/a", 404, 0.2);
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(out
            .contains("rosefed_http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 1"));
        assert!(out
            .contains("rosefed_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.001\"} 0"));
        assert!(out
            .contains("rosefed_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1"));
        assert!(out
            .contains("rosefed_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.25\"} 2"));
        assert!(out.contains("rosefed_http_request_duration_seconds_count{route=\"/a\"} 2"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
