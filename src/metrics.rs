//! The process's Prometheus counters: requests by method, route template
//! (`/actors/{name}`, never the concrete path, so label cardinality stays
//! bounded) and status, with a latency histogram per route, and the
//! federation and OAuth event counters. Plain in-memory state that any
//! layer may record into; `http::metrics` serves it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

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
    /// Authenticated inbox activities by what proved them.
    proven_by: BTreeMap<&'static str, u64>,
    /// Requests signed again with draft-cavage after an RFC 9421 refusal.
    signature_fallbacks: u64,
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
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
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

    /// Counts one inbox activity proven by `by`: `rfc9421` or `cavage`
    /// (the request's HTTP signature), `proof` (FEP-8b32) or `envelope`
    /// (sexp).
    pub fn record_proven_by(&self, by: &'static str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.proven_by.entry(by).or_default() += 1;
    }

    /// Counts one delivery signed again with draft-cavage because its host
    /// refused RFC 9421 (double-knock).
    pub fn record_signature_fallback(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.signature_fallbacks += 1;
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

    pub fn render_requests(&self, out: &mut String) {
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
        out.push_str("# HELP rosefed_inbox_proven_total Inbox activities authenticated by this process, by what proved them (rfc9421, cavage, proof, envelope).\n");
        out.push_str("# TYPE rosefed_inbox_proven_total counter\n");
        for (by, n) in &inner.proven_by {
            let _ = writeln!(out, "rosefed_inbox_proven_total{{by=\"{by}\"}} {n}");
        }
        out.push_str("# HELP rosefed_signature_fallbacks_total Deliveries signed again with draft-cavage after a host refused RFC 9421.\n");
        out.push_str("# TYPE rosefed_signature_fallbacks_total counter\n");
        let _ = writeln!(
            out,
            "rosefed_signature_fallbacks_total {}",
            inner.signature_fallbacks
        );
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
