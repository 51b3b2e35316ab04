//! The `oauth` scenario: a member app's confidential client (created with
//! `rosefed apps oauth`) asks for `client_credentials` tokens, then
//! introspects a pool of them round robin. Both endpoints authenticate the
//! client with HTTP Basic on every request. Every answer is checked and
//! failures are counted and shown, never measured as if they were work.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use federation_tests::database::{Backend, TestDatabase};
use federation_tests::hub::{self, Hub};
use serde_json::Value;

use crate::{peak_rss, percentiles};

/// Tokens per second the hub should sustain.
const TOKEN_TARGET: f64 = 5_000.0;
/// Introspections per second the hub should sustain.
const INTROSPECT_TARGET: f64 = 20_000.0;
/// Distinct failure examples kept for the report.
const EXAMPLES: usize = 5;

#[derive(Clone)]
struct Credentials {
    id: String,
    secret: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Token,
    Introspect,
}

/// What a batch of requests came to.
#[derive(Default)]
struct Outcome {
    /// Latencies of the answers that passed every check.
    latencies: Vec<Duration>,
    /// Access tokens issued (token phase only).
    tokens: Vec<String>,
    /// Failed requests by kind ("500 Internal Server Error", "transport").
    failures: HashMap<String, usize>,
    /// One failure in full (request, status, body) for each of the first
    /// few kinds.
    examples: Vec<(String, String)>,
}

impl Outcome {
    fn failed(&self) -> usize {
        self.failures.values().sum()
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.tokens.extend(other.tokens);
        for (kind, n) in other.failures {
            *self.failures.entry(kind).or_default() += n;
        }
        for (kind, e) in other.examples {
            if self.examples.len() < EXAMPLES && self.examples.iter().all(|(k, _)| *k != kind) {
                self.examples.push((kind, e));
            }
        }
    }

    fn fail(&mut self, kind: String, example: impl FnOnce() -> String) {
        let n = self.failures.entry(kind.clone()).or_default();
        *n += 1;
        // One example per kind, a few kinds at most.
        if *n == 1 && self.examples.len() < EXAMPLES {
            self.examples.push((kind, example()));
        }
    }

    /// "0 failed" or "12 failed (7× 500 …, 5× transport)" plus examples.
    fn report(&self) -> String {
        let failed = self.failed();
        if failed == 0 {
            return "0 failed".into();
        }
        let mut kinds: Vec<_> = self.failures.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n}× {k}")).collect();
        let mut text = format!("{failed} FAILED ({})", kinds.join(", "));
        for (_, e) in &self.examples {
            text.push_str("\n    e.g. ");
            text.push_str(e);
        }
        text
    }
}

/// Percent-encodes a form value (everything but RFC 3986 unreserved).
fn form_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Creates (or re-keys) the `blog` app's OAuth client with the CLI, as an
/// operator would, and reads the printed credentials.
async fn register_client(hub: &Hub, db: &TestDatabase) -> Result<Credentials, String> {
    let (base, url, dir) = (hub.base.clone(), db.url.clone(), db.dir.path().to_owned());
    let args = [
        "apps",
        "oauth",
        "blog",
        "--redirect-uri",
        "http://127.0.0.1:9/cb",
    ];
    // `cli` blocks and panics (after printing the hub's stderr) on failure.
    let out = tokio::task::spawn_blocking(move || hub::cli(&base, &url, &dir, &args))
        .await
        .map_err(|e| format!("rosefed {} failed: {e}", args.join(" ")))?;
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("rosefed apps oauth printed no {name:?} line:\n{out}"))
    };
    Ok(Credentials {
        id: field("client_id:")?,
        secret: field("client_secret:")?,
    })
}

/// Sends `total` requests of `phase` from `concurrency` workers. The
/// introspection phase cycles through `pool`. A worker never stops on a
/// failure: it counts it and goes on.
async fn drive(
    client: &reqwest::Client,
    hub: &Hub,
    creds: &Credentials,
    phase: Phase,
    pool: &Arc<Vec<String>>,
    total: usize,
    concurrency: usize,
) -> Result<Outcome, String> {
    let url = Arc::new(hub.url(match phase {
        Phase::Token => "/oauth/token",
        Phase::Introspect => "/oauth/introspect",
    }));
    // Bodies are made before the clock starts.
    let bodies: Arc<Vec<String>> = Arc::new(match phase {
        Phase::Token => vec!["grant_type=client_credentials&scope=publish".to_string()],
        Phase::Introspect => pool
            .iter()
            .map(|t| format!("token={}", form_value(t)))
            .collect(),
    });
    if bodies.is_empty() {
        return Err("no tokens to introspect".into());
    }
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, bodies, next, creds) = (
            client.clone(),
            url.clone(),
            bodies.clone(),
            next.clone(),
            creds.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return outcome;
                }
                let body = &bodies[i % bodies.len()];
                let t = Instant::now();
                let sent = client
                    .post(url.as_str())
                    .basic_auth(&creds.id, Some(&creds.secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let response = match sent {
                    Ok(r) => r,
                    Err(e) => {
                        outcome.fail("transport error".into(), || {
                            format!("POST {url} {body}: {e}")
                        });
                        continue;
                    }
                };
                let status = response.status();
                let bytes = match response.bytes().await {
                    Ok(b) => b,
                    Err(e) => {
                        outcome.fail("unreadable body".into(), || {
                            format!("POST {url} {body}: {status}, body unreadable: {e}")
                        });
                        continue;
                    }
                };
                let elapsed = t.elapsed();
                let example = || {
                    format!(
                        "POST {url} {body} → {status} {}",
                        String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
                    )
                };
                if status != 200 {
                    outcome.fail(status.to_string(), example);
                    continue;
                }
                let json: Value = match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(_) => {
                        outcome.fail("200 but not JSON".into(), example);
                        continue;
                    }
                };
                match phase {
                    Phase::Token => match json["access_token"].as_str() {
                        Some(token) if !token.is_empty() => {
                            outcome.tokens.push(token.to_string());
                        }
                        _ => {
                            outcome.fail("200 without access_token".into(), example);
                            continue;
                        }
                    },
                    Phase::Introspect => {
                        if json["active"] != Value::Bool(true) {
                            outcome.fail("200 but not \"active\": true".into(), example);
                            continue;
                        }
                    }
                }
                outcome.latencies.push(elapsed);
            }
        }));
    }
    let mut all = Outcome::default();
    for w in workers {
        all.merge(w.await.map_err(|e| e.to_string())?);
    }
    Ok(all)
}

fn verdict(rate: f64, target: f64) -> &'static str {
    if rate >= target {
        "met"
    } else {
        "MISSED"
    }
}

/// Runs both phases on one backend; returns how many requests failed.
pub async fn run(
    db: &TestDatabase,
    backend: Backend,
    tokens: usize,
    introspections: usize,
    pool_size: usize,
    concurrency: usize,
) -> Result<usize, String> {
    let hub = Hub::start(&db.url, db.dir.path(), &[]).await;
    let creds = register_client(&hub, db).await?;
    let client = federation_tests::http();
    let no_pool = Arc::new(Vec::new());
    let mut failed = 0;

    // Token issuance: each one a random secret, a hash and a row written.
    let warm = drive(
        &client,
        &hub,
        &creds,
        Phase::Token,
        &no_pool,
        (tokens / 10).max(concurrency),
        concurrency,
    )
    .await?;
    failed += warm.failed();
    if warm.failed() > 0 {
        println!("oauth on {backend:?}: warm-up tokens: {}", warm.report());
    }
    eprintln!(
        "hub pid {} measuring {tokens} client_credentials tokens now",
        hub.pid().unwrap_or(0)
    );
    let started = Instant::now();
    let mut issued = drive(
        &client,
        &hub,
        &creds,
        Phase::Token,
        &no_pool,
        tokens,
        concurrency,
    )
    .await?;
    let elapsed = started.elapsed();
    failed += issued.failed();
    let rate = issued.latencies.len() as f64 / elapsed.as_secs_f64();
    let all_issued: Vec<&String> = warm.tokens.iter().chain(&issued.tokens).collect();
    let distinct = all_issued.iter().collect::<HashSet<_>>().len();
    let duplicates = all_issued.len() - distinct;
    failed += duplicates;
    println!(
        "oauth on {backend:?}: {rate:.0} tokens/s (target ≥ {TOKEN_TARGET:.0}: {}), \
         {} of {tokens} ok, {}, {}{}",
        verdict(rate, TOKEN_TARGET),
        issued.latencies.len(),
        percentiles(&mut issued.latencies),
        issued.report(),
        if duplicates > 0 {
            format!(", {duplicates} DUPLICATE tokens issued")
        } else {
            String::new()
        },
    );

    // Introspection: a hash and a lookup, on a pool of distinct tokens.
    let mut seen = HashSet::new();
    let pool: Vec<String> = issued
        .tokens
        .iter()
        .chain(&warm.tokens)
        .filter(|t| seen.insert(t.as_str()))
        .take(pool_size)
        .cloned()
        .collect();
    if pool.len() < pool_size {
        println!(
            "oauth on {backend:?}: only {} distinct tokens for a pool of {pool_size}",
            pool.len()
        );
    }
    let pool = Arc::new(pool);
    let warm = drive(
        &client,
        &hub,
        &creds,
        Phase::Introspect,
        &pool,
        (introspections / 10).max(concurrency),
        concurrency,
    )
    .await?;
    failed += warm.failed();
    if warm.failed() > 0 {
        println!(
            "oauth on {backend:?}: warm-up introspections: {}",
            warm.report()
        );
    }
    eprintln!(
        "hub pid {} measuring {introspections} introspections now",
        hub.pid().unwrap_or(0)
    );
    let started = Instant::now();
    let mut checked = drive(
        &client,
        &hub,
        &creds,
        Phase::Introspect,
        &pool,
        introspections,
        concurrency,
    )
    .await?;
    let elapsed = started.elapsed();
    failed += checked.failed();
    let rate = checked.latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "oauth on {backend:?}: {rate:.0} introspections/s (target ≥ {INTROSPECT_TARGET:.0}: {}), \
         {} of {introspections} active over {} tokens, {}, {}",
        verdict(rate, INTROSPECT_TARGET),
        checked.latencies.len(),
        pool.len(),
        percentiles(&mut checked.latencies),
        checked.report(),
    );
    println!(
        "oauth on {backend:?}: hub peak RSS {}",
        peak_rss(&hub).unwrap_or_else(|| "unknown".into()),
    );
    Ok(failed)
}
