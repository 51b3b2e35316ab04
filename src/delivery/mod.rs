//! The delivery worker: claims due jobs from the persistent queue
//! ([`crate::db::delivery`]), POSTs each signed with the instance key under
//! its actor's keyId, and records the outcome.
//!
//! - 2xx: done. 4xx other than 401/408/429: final (dead). Anything else, or no
//!   answer: retried with exponential backoff and jitter (`Retry-After`
//!   honoured), until the attempts run out (dead).
//! - A host failing for longer than the configured time is marked
//!   unavailable; its jobs wait until we hear from it again.
//! - The body goes as sexp, in a signed envelope, to hosts whose actors say
//!   they take `application/sexp` (see [`crate::remote`]), and as JSON-LD to
//!   everyone else; a host that answers a sexp delivery with 415 is
//!   remembered as JSON-only and the job is retried at once in JSON-LD.
//! - Concurrency is bounded in all and per host. Every process runs a
//!   worker; they share the queue through the database (leases, and
//!   `SKIP LOCKED` on PostgreSQL), so no job is delivered twice by two
//!   processes, and a crashed process's jobs are retried when their lease
//!   expires.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::db::{self, delivery::Job, now_millis};
use crate::error::AppError;
use crate::fetch::{self, USER_AGENT};
use crate::formats::{jsonld, sexp, Format};
use crate::instance::AppState;
use crate::signatures;
use crate::signatures::knock::{self, Scheme};

/// Longest wait between two attempts.
const MAX_BACKOFF_MS: u64 = 12 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Final(String),
    Retry {
        error: String,
        retry_after_ms: Option<u64>,
    },
}

/// Classifies an HTTP status.
pub fn classify(status: u16, retry_after_ms: Option<u64>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        // 401: the receiver could not fetch our key just now (Mastodon
        // retries these too).
        401 | 408 | 429 => Outcome::Retry {
            error: format!("HTTP {status}"),
            retry_after_ms,
        },
        400..=499 => Outcome::Final(format!("HTTP {status}")),
        _ => Outcome::Retry {
            error: format!("HTTP {status}"),
            retry_after_ms,
        },
    }
}

/// Delay before attempt `attempts + 1`: base × 2^(attempts−1), capped,
/// with ±20 % jitter so a recovering host is not hit by a thundering herd.
pub fn backoff_ms(base_ms: u64, attempts: u32, jitter: f64) -> u64 {
    let exp = attempts.saturating_sub(1).min(30);
    let raw = base_ms.saturating_mul(1u64 << exp).min(MAX_BACKOFF_MS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    (raw as f64 * factor) as u64
}

fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    let _ = aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut b);
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    let ms = if let Ok(secs) = value.parse::<u64>() {
        secs.saturating_mul(1000)
    } else {
        let when = httpdate::parse_http_date(value).ok()?;
        when.duration_since(SystemTime::now())
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    };
    // A peer does not get to park our queue for years (or overflow it).
    Some(ms.min(MAX_BACKOFF_MS))
}

/// Runs the worker until `stop` turns true, then waits for deliveries in
/// flight.
///
/// Jobs are claimed ahead, and a claim runs beside the deliveries: while
/// one window is in flight the next is being claimed, so a claim (a write,
/// with a commit to wait for; on SQLite a turn at the one writer) never
/// leaves slots idle. Awaited in the loop, claims held back new deliveries
/// for a third of a PostgreSQL fan-out, and the cores went idle. A claimed
/// job that waits is still far inside its lease, and one that waited past
/// half of it is left to whoever claims it next.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let fed = state.config.federation.clone();
    let window = fed.delivery_concurrency.max(1);
    let total = Arc::new(Semaphore::new(window));
    let per_host: Arc<Mutex<HashMap<String, Arc<Semaphore>>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut ready: VecDeque<Claimed> = VecDeque::new();
    let mut claiming: Option<Claiming> = None;
    let mut drained = false;
    let mut last_prune = 0i64;
    let mut pruning: Option<tokio::task::JoinHandle<()>> = None;
    let lease_ms = (fed.delivery_lease_secs as i64).saturating_mul(1000);
    let half_lease = Duration::from_millis(lease_ms as u64 / 2);
    // When the queue's statistics were last refreshed (see below).
    let mut analyzed: Option<Instant> = None;
    let (done, recorder) = recorder(state.clone());
    tracing::info!(concurrency = window, "delivery worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        // Beside the deliveries, not awaited here: pruning a backlog of a
        // million rows takes one to two minutes (paced, see
        // db::activities::prune_received), and deliveries waited for it.
        if now_millis() - last_prune > HOUR_MS && pruning.as_ref().is_none_or(|p| p.is_finished()) {
            last_prune = now_millis();
            let state = state.clone();
            pruning = Some(tokio::spawn(async move { prune(&state).await }));
        }
        // Top up to two windows when down to one: a claim costs about the
        // same for 1 job as for 64 (profiled on PostgreSQL with 10,000
        // pending jobs).
        // Once a claim came back short, the queue is empty until the
        // next poll or wake-up: finishing deliveries do not claim again.
        if claiming.is_none() && ready.len() < window && !drained {
            let want = (2 * window - ready.len()).min(MAX_CLAIM);
            claiming = Some(claim(&state, want, lease_ms));
        }
        // Start what there is room for.
        while let Some(claimed) = ready.front() {
            let Ok(permit) = total.clone().try_acquire_owned() else {
                break;
            };
            if claimed.at.elapsed() > half_lease {
                // Another worker may claim them soon: give them back.
                release(&state, &mut ready).await;
                break;
            }
            let Some(Claimed { job, format, at }) = ready.pop_front() else {
                break;
            };
            let host_limit = {
                let mut map = per_host.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(job.host.clone())
                    .or_insert_with(|| Arc::new(Semaphore::new(fed.delivery_per_host.max(1))))
                    .clone()
            };
            let (state, done) = (state.clone(), done.clone());
            tasks.spawn(async move {
                let outcome = {
                    let _permit = permit;
                    let Ok(_host) = host_limit.acquire_owned().await else {
                        return;
                    };
                    // A job that waited long for its host may outlive its
                    // lease and be claimed by another worker: leave it to
                    // that one.
                    if at.elapsed() > half_lease {
                        return;
                    }
                    send(&state, &job, format).await
                };
                // The slot is free once the peer has answered; recording
                // the outcome waits for a group commit, not for the peer.
                record(&state, &done, &job, outcome).await;
            });
        }
        // Then wait for what changes that: a claim's jobs, a finished
        // delivery, new jobs (poll or wake-up, once the queue ran dry), or
        // stop.
        let idle = ready.is_empty() && claiming.is_none();
        tokio::select! {
            claimed = claimed(&mut claiming), if claiming.is_some() => {
                let want = claiming.take().map_or(0, |c| c.want);
                match claimed {
                    Ok(Ok(jobs)) => {
                        drained = jobs.len() < want;
                        // A full claim is a fan-out under way: PostgreSQL's
                        // statistics may date from before it and plan claims
                        // as a sort of every pending job
                        // (db::delivery::refresh_statistics). At most once a
                        // minute, beside the deliveries.
                        if !drained && analyzed.is_none_or(|at| at.elapsed() > STATISTICS_EVERY) {
                            analyzed = Some(Instant::now());
                            refresh_statistics(&state);
                        }
                        ready.extend(jobs);
                    }
                    // Claimed again at the next poll or wake-up, so a database
                    // that is down is not asked in a tight loop.
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "cannot claim deliveries; will retry");
                        drained = true;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a delivery claim stopped; will retry");
                        drained = true;
                    }
                }
            }
            _ = tasks.join_next(), if !tasks.is_empty() => {}
            () = tokio::time::sleep(Duration::from_millis(fed.delivery_poll_ms)), if idle => drained = false,
            () = state.delivery_wakeup.notified(), if idle => drained = false,
            _ = stop.changed() => {}
        }
    }
    // A claim under way still leases its jobs: they are given back too.
    if let Some(claiming) = claiming.take() {
        if let Ok(Ok(jobs)) = claiming.task.await {
            ready.extend(jobs);
        }
    }
    release(&state, &mut ready).await;
    // A prune commits piece by piece: stopping it between two loses
    // nothing, and the next start prunes the rest.
    if let Some(pruning) = pruning {
        pruning.abort();
    }
    while tasks.join_next().await.is_some() {}
    // The last outcomes are recorded before the worker says it stopped.
    drop(done);
    let _ = recorder.await;
    tracing::info!("delivery worker stopped");
}

/// Least time between two refreshes of the queue's statistics.
const STATISTICS_EVERY: Duration = Duration::from_secs(60);

/// Refreshes the queue's statistics in the background.
fn refresh_statistics(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = db::delivery::refresh_statistics(&state.db).await {
            tracing::warn!(error = %e, "cannot refresh the delivery queue's statistics");
        }
    });
}

/// A claim running beside the deliveries.
struct Claiming {
    /// How many jobs it asked for: fewer back means the queue ran dry.
    want: usize,
    task: tokio::task::JoinHandle<Result<Vec<Claimed>, AppError>>,
}

/// What the claim under way came to; pending forever if there is none.
async fn claimed(
    claiming: &mut Option<Claiming>,
) -> Result<Result<Vec<Claimed>, AppError>, tokio::task::JoinError> {
    match claiming {
        Some(c) => (&mut c.task).await,
        None => std::future::pending().await,
    }
}

/// Starts claiming up to `want` due jobs, with their formats decided.
fn claim(state: &AppState, want: usize, lease_ms: i64) -> Claiming {
    let state = state.clone();
    let task = tokio::spawn(async move {
        let jobs = db::delivery::claim(&state.db, want as i64, lease_ms).await?;
        Ok(prepare(&state, jobs).await)
    });
    Claiming { want, task }
}

/// Delivered jobs waiting to be marked done: (id, lease).
type Done = mpsc::Sender<(String, i64)>;

/// Starts the task that marks delivered jobs done, many per statement.
/// A delivery does not wait for it: if the process dies first, the job's
/// lease runs out and it is delivered again, which receivers dedup by id
/// (as for a crash just before a lone mark).
fn recorder(state: AppState) -> (Done, tokio::task::JoinHandle<()>) {
    let (done, mut delivered) = mpsc::channel::<(String, i64)>(4096);
    let task = tokio::spawn(async move {
        while let Some(first) = delivered.recv().await {
            let mut batch = vec![first];
            while batch.len() < 512 {
                match delivered.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let n = batch.len();
            match db::delivery::mark_done_many(&state.db, batch).await {
                // Jobs waiting for these (a later activity about the same
                // object, to the same inbox) may be claimed now.
                Ok(()) => state.delivery_wakeup.notify_one(),
                // Their leases run out and they are delivered again.
                Err(e) => tracing::warn!(jobs = n, error = %e, "cannot record delivered jobs"),
            }
        }
    });
    (done, task)
}

/// Gives back the claimed jobs that were not started.
async fn release(state: &AppState, ready: &mut VecDeque<Claimed>) {
    let jobs: Vec<(String, i64)> = ready
        .drain(..)
        .map(|c| (c.job.id, c.job.lease_until))
        .collect();
    if let Err(e) = db::delivery::release(&state.db, &jobs).await {
        // Their leases run out and they are claimed again then.
        tracing::warn!(jobs = jobs.len(), error = %e, "cannot give back claimed deliveries");
    }
}

/// Most jobs claimed at once.
const MAX_CLAIM: usize = 256;

/// A claimed job waiting for a delivery slot.
struct Claimed {
    job: Job,
    format: Format,
    /// When it was claimed: its lease runs from then.
    at: Instant,
}

/// Decides each claimed job's format from what is known of its host.
async fn prepare(state: &AppState, jobs: Vec<Job>) -> Vec<Claimed> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let at = Instant::now();
    let ways = host_ways(state, &jobs).await;
    jobs.into_iter()
        .map(|job| {
            let known = ways.get(&job.host).copied().unwrap_or_default();
            let format = if known.sexp && !state.config.federation.no_sexp {
                Format::Sexp
            } else {
                Format::JsonLd
            };
            // The database is the shared memory of which hosts refused
            // RFC 9421 (another process may have learnt it): this
            // process's takes what it says, and keeps what it learnt itself
            // (e.g. from a signed GET) when it says nothing.
            if let Some(until) = known.cavage_until {
                state.fetcher.schemes().set(&job.host, Some(until));
            }
            Claimed { job, format, at }
        })
        .collect()
}

async fn prune(state: &AppState) {
    let fed = &state.config.federation;
    let keep = fed.received_retention_days as i64 * 24 * HOUR_MS;
    match db::activities::prune_received(&state.db, keep).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "pruned received activities past retention"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prune received activities"),
    }
    if let Err(e) = db::delivery::prune_done(&state.db, 7 * 24 * HOUR_MS).await {
        tracing::warn!(error = %e, "cannot prune finished deliveries");
    }
    // The authorization server's expired rows ride on the same hourly pass.
    match db::users::prune_sessions(&state.db).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "pruned expired sessions"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prune expired sessions"),
    }
    match db::oauth::prune(&state.db).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "pruned expired OAuth codes and tokens"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prune expired OAuth codes and tokens"),
    }
}

/// What is known of the hosts of `jobs` (sexp, signature scheme). One
/// query per claimed batch.
async fn host_ways(state: &AppState, jobs: &[Job]) -> HashMap<String, db::hosts::Ways> {
    let mut hosts: Vec<&str> = jobs.iter().map(|j| j.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    db::hosts::ways(&state.db, &hosts)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read what is known of hosts; sending JSON-LD, RFC 9421 first");
            HashMap::new()
        })
}

/// One attempt at one job: what the peer answered.
async fn send(state: &AppState, job: &Job, format: Format) -> Outcome {
    if job.body.is_empty() {
        return Outcome::Final("the activity is no longer stored".into());
    }
    // Webhooks take the notification's JSON as it is.
    let format = if job.kind == WEBHOOK {
        Format::JsonLd
    } else {
        format
    };
    let (format, body) = match format {
        Format::Sexp => match sexp_body(state, job) {
            Ok(body) => (Format::Sexp, body),
            Err(e) => {
                tracing::warn!(activity = %job.activity_id, error = %e, "cannot write the activity as sexp; sending JSON-LD");
                (Format::JsonLd, Arc::<[u8]>::from(job.body.clone()))
            }
        },
        Format::JsonLd => (Format::JsonLd, Arc::<[u8]>::from(job.body.clone())),
    };
    let outcome = attempt(state, job, format, &body).await;
    state.metrics.record_delivery(
        format.name(),
        match &outcome {
            Outcome::Delivered => "delivered",
            Outcome::Final(_) => "dead",
            Outcome::Retry { .. } => "retry",
        },
    );
    outcome
}

/// Records what an attempt came to: done, dead, or when to try again.
async fn record(state: &AppState, done: &Done, job: &Job, outcome: Outcome) {
    let fed = &state.config.federation;
    let result = match &outcome {
        Outcome::Delivered => {
            tracing::debug!(inbox = %job.inbox, activity = %job.activity_id, "delivered");
            let _ = crate::remote::heard_from(state, &job.host).await;
            // Only if the worker is stopping is the recorder gone: then the
            // lease runs out and the job is delivered again (deduped).
            let _ = done.send((job.id.clone(), job.lease_until)).await;
            Ok(())
        }
        Outcome::Final(error) => {
            tracing::warn!(inbox = %job.inbox, activity = %job.activity_id, %error, "delivery refused for good");
            db::delivery::mark_dead(&state.db, job, error).await
        }
        Outcome::Retry {
            error,
            retry_after_ms,
        } => {
            crate::remote::failing(state, &job.host);
            let _ = db::hosts::failed(
                &state.db,
                &job.host,
                (fed.delivery_unavailable_after_secs as i64).saturating_mul(1000),
            )
            .await;
            // Again: a success in between may have found it healthy before
            // the mark was written.
            crate::remote::failing(state, &job.host);
            if job.attempts >= i64::from(fed.delivery_max_attempts) {
                tracing::warn!(inbox = %job.inbox, activity = %job.activity_id, %error, attempts = job.attempts, "delivery given up");
                db::delivery::mark_dead(&state.db, job, error).await
            } else {
                let wait = retry_after_ms.unwrap_or_else(|| {
                    backoff_ms(
                        fed.delivery_retry_base_ms,
                        job.attempts as u32,
                        random_unit(),
                    )
                });
                tracing::info!(inbox = %job.inbox, activity = %job.activity_id, %error, attempts = job.attempts, retry_in_ms = wait, "delivery failed; will retry");
                db::delivery::retry_at(
                    &state.db,
                    job,
                    now_millis().saturating_add(wait as i64),
                    error,
                )
                .await
            }
        }
    };
    if let Err(e) = result {
        // The lease expires and the job is retried; receivers dedup.
        tracing::warn!(job = %job.id, error = %e, "cannot record a delivery outcome");
    }
}

async fn attempt(state: &AppState, job: &Job, format: Format, body: &[u8]) -> Outcome {
    let url = match url::Url::parse(&job.inbox) {
        Ok(u) => u,
        Err(e) => return Outcome::Final(format!("bad inbox URL: {e}")),
    };
    if let Err(e) = state.fetcher.guard().check_url(&url) {
        return Outcome::Final(e.to_string());
    }
    if job.kind == WEBHOOK {
        return webhook(state, job, url, body).await;
    }
    // Double-knock: RFC 9421 unless the host refused it lately; refused
    // now (400/401), the same request again signed draft-cavage.
    let schemes = state.fetcher.schemes();
    let first = schemes.first_for(&job.host, now_millis());
    let mut sent = post_signed(state, job, &url, format, body, first).await;
    let status = sent.as_ref().map(|r| r.status().as_u16()).ok();
    if schemes.may_fall_back(first) && status.is_some_and(knock::refused) {
        state.metrics.record_signature_fallback();
        sent = post_signed(state, job, &url, format, body, Scheme::Cavage).await;
        if sent.as_ref().is_ok_and(|r| r.status().is_success()) {
            let until = now_millis().saturating_add(knock::CAVAGE_FOR_MS);
            tracing::info!(host = %job.host, "host refused an RFC 9421 signature; signing draft-cavage for it");
            schemes.learn(&job.host, Some(until));
        }
    } else if first == Scheme::Rfc9421
        && status.is_some_and(|s| (200..300).contains(&s))
        && schemes.knows(&job.host)
    {
        // It took RFC 9421 again after its draft-cavage time ran out.
        schemes.learn(&job.host, None);
    }
    match sent {
        Ok(response) if format == Format::Sexp && response.status() == 415 => {
            tracing::info!(host = %job.host, "host refused sexp; sending it JSON-LD from now on");
            if let Err(e) = db::hosts::set_sexp(&state.db, &job.host, false).await {
                tracing::warn!(host = %job.host, error = %e, "cannot record that a host refuses sexp");
            }
            Outcome::Retry {
                error: "HTTP 415 to sexp".into(),
                retry_after_ms: Some(0),
            }
        }
        Ok(response) => classify(response.status().as_u16(), retry_after(response.headers())),
        Err(SendFailure::Signing(e)) => Outcome::Retry {
            error: e.to_string(),
            retry_after_ms: None,
        },
        // A name that resolves only to internal addresses may be fixed
        // by its owner; it is retried like any other unreachable host.
        Err(SendFailure::Network(e)) => Outcome::Retry {
            error: match fetch::send_error(&job.inbox, e) {
                fetch::FetchError::Refused(_, why) => format!("refused: {why}"),
                other => format!("no answer: {other}"),
            },
            retry_after_ms: None,
        },
    }
}

/// POSTs the job's body to `url`, signed with `scheme`.
async fn post_signed(
    state: &AppState,
    job: &Job,
    url: &url::Url,
    format: Format,
    body: &[u8],
    scheme: Scheme,
) -> Result<reqwest::Response, SendFailure> {
    let signed = knock::sign(
        &state.keys,
        scheme,
        &job.key_id,
        "POST",
        url,
        Some(body),
        SystemTime::now(),
    )
    .map_err(SendFailure::Signing)?;
    let mut request = state
        .fetcher
        .delivery_client()
        .post(url.clone())
        .header("content-type", format.media_type())
        .header("user-agent", USER_AGENT)
        .body(body.to_vec());
    for (name, value) in signed {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    request.send().await.map_err(SendFailure::Network)
}

/// Why a request was not answered.
enum SendFailure {
    Signing(AppError),
    Network(reqwest::Error),
}

/// The job kind of a notification for an app's webhook.
const WEBHOOK: &str = "webhook";

/// One attempt at a webhook: the notification's JSON, signed with the
/// app's current webhook secret (HMAC-SHA256), classified as deliveries are.
async fn webhook(state: &AppState, job: &Job, url: url::Url, body: &[u8]) -> Outcome {
    let hook = match db::notifications::webhook(&state.db, &job.key_id).await {
        Ok(Some(hook)) => hook,
        Ok(None) => return Outcome::Final("the app's webhook was removed".into()),
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after_ms: None,
            }
        }
    };
    let request = state
        .fetcher
        .delivery_client()
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .header(
            crate::notifications::SIGNATURE_HEADER,
            crate::notifications::sign(&hook.secret, body),
        )
        .body(body.to_vec());
    match request.send().await {
        Ok(response) => classify(response.status().as_u16(), retry_after(response.headers())),
        Err(e) => Outcome::Retry {
            error: format!("no answer: {}", fetch::send_error(&job.inbox, e)),
            retry_after_ms: None,
        },
    }
}

/// How long a signed sexp body is reused for other inboxes of the same
/// activity: one RSA signature per fan-out, not per inbox, and well inside
/// every receiver's window.
const ENVELOPE_REUSE: Duration = Duration::from_secs(60);
const MAX_CACHED_ENVELOPES: usize = 1024;

type EnvelopeCache = Mutex<HashMap<(String, String), (Instant, Arc<[u8]>)>>;
static ENVELOPES: LazyLock<EnvelopeCache> = LazyLock::new(Default::default);

/// The job's activity as a signed sexp envelope (`docs/sexp.md` §6), signed
/// now under the job's key id, or reused from a signing of the last minute.
fn sexp_body(state: &AppState, job: &Job) -> Result<Arc<[u8]>, String> {
    let key = (job.activity_id.clone(), job.key_id.clone());
    if let Some((at, body)) = ENVELOPES.lock().ok().and_then(|m| m.get(&key).cloned()) {
        if at.elapsed() < ENVELOPE_REUSE {
            return Ok(body);
        }
    }
    let doc = jsonld::decode(job.body.as_bytes(), usize::MAX).map_err(|e| e.to_string())?;
    let payload = sexp::as2::from_json(&doc).map_err(|e| e.to_string())?;
    let created = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let envelope = signatures::envelope::sign(&state.keys, &job.key_id, payload, created)
        .map_err(|e| e.to_string())?;
    let body: Arc<[u8]> = Arc::from(envelope.to_sexp().to_string().into_bytes());
    if let Ok(mut map) = ENVELOPES.lock() {
        map.retain(|_, (at, _)| at.elapsed() < ENVELOPE_REUSE);
        if map.len() >= MAX_CACHED_ENVELOPES {
            map.clear();
        }
        map.insert(key, (Instant::now(), body.clone()));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(classify(202, None), Outcome::Delivered);
        assert!(matches!(classify(404, None), Outcome::Final(_)));
        assert!(matches!(classify(410, None), Outcome::Final(_)));
        assert!(matches!(
            classify(429, Some(5)),
            Outcome::Retry {
                retry_after_ms: Some(5),
                ..
            }
        ));
        assert!(matches!(classify(408, None), Outcome::Retry { .. }));
        assert!(matches!(classify(401, None), Outcome::Retry { .. }));
        assert!(matches!(classify(503, None), Outcome::Retry { .. }));
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        assert_eq!(backoff_ms(1000, 1, 0.5), 1000);
        assert_eq!(backoff_ms(1000, 2, 0.5), 2000);
        assert_eq!(backoff_ms(1000, 3, 0.0), 3200);
        assert_eq!(backoff_ms(1000, 3, 1.0), 4800);
        assert_eq!(backoff_ms(60_000, 40, 0.5), MAX_BACKOFF_MS);
        // Fourteen attempts (thirteen waits) from a 60 s base span about
        // two days.
        let total: u64 = (1..14).map(|a| backoff_ms(60_000, a, 0.5)).sum();
        assert!(
            (36 * 3600 * 1000..60 * 3600 * 1000).contains(&total),
            "{total}"
        );
    }

    #[test]
    fn retry_after_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(7000));
        h.insert("retry-after", "99999999999999999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_BACKOFF_MS));
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60))
                .parse()
                .unwrap(),
        );
        assert!(retry_after(&h).is_some_and(|ms| (55_000..=60_000).contains(&ms)));
    }
}
