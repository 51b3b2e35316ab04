//! `rosefed-bench`: starts a release build of the hub on a fresh database
//! (SQLite, PostgreSQL or both), drives it over loopback HTTP with a fixed
//! amount of work, and prints throughput, latency percentiles and the hub's
//! peak memory. Figures, not pass/fail: performance targets live here,
//! never in timed tests.
//!
//! ```sh
//! cargo run --release -p rosefed-bench -- discovery
//! cargo run --release -p rosefed-bench -- inbox --activities 20000
//! cargo run --release -p rosefed-bench -- inbox --activities 20000 --format sexp
//! cargo run --release -p rosefed-bench -- inbox --stored 1000000
//! cargo run --release -p rosefed-bench -- inbox --expired 1000000
//! cargo run --release -p rosefed-bench -- fanout --followers 10000
//! cargo run --release -p rosefed-bench -- oauth
//! cargo run --release -p rosefed-bench -- codec
//! cargo run --release -p rosefed-bench -- signatures
//! ```
//!
//! - `discovery`: WebFinger and actor fetches, the read path every remote
//!   server hits first.
//! - `inbox`: many distinct remote actors (served by a local stand-in
//!   server) POST pre-signed Creates concurrently; every one is verified,
//!   deduplicated and stored.
//! - `fanout`: one Create to N followers with distinct inboxes on a local
//!   sink that verifies every signature; reports signed deliveries/s, with
//!   draft-cavage RSA and with RFC 9421 Ed25519 signing.
//! - `oauth`: a member app's confidential client (HTTP Basic) asks for
//!   `client_credentials` tokens, then introspects a pool of them round
//!   robin; reports tokens/s and introspections/s against their targets
//!   (≥ 5,000 and ≥ 20,000) and counts every failed answer.
//! - `codec`: in process, on one core: decoding and verifying a signed
//!   activity of about 1 KiB as sexp (envelope) and as JSON-LD (HTTP
//!   signature), with the parts of the sexp path.
//! - `signatures`: in process, on one core: verifications/s of each HTTP
//!   signature scheme and algorithm and of FEP-8b32 proofs, and what
//!   signing costs with each.

mod codec;
mod fanout;
mod inbox;
mod oauth;
mod signatures;

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use federation_tests::database::{Backend, TestDatabase};
use federation_tests::hub::Hub;

#[derive(Parser)]
#[command(about = "Load benchmarks for rosefed (loopback only, bounded request counts)")]
struct Args {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// WebFinger lookups and actor document fetches, half each.
    Discovery {
        #[command(flatten)]
        common: Common,
        /// Requests in all (after a 10% warm-up that is not measured).
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
    },
    /// Signed Creates from many remote actors into the shared inbox.
    Inbox {
        #[command(flatten)]
        common: Common,
        /// Activities in all (after one per actor to warm the key cache).
        #[arg(long, default_value_t = 20_000)]
        activities: usize,
        /// Distinct remote actors.
        #[arg(long, default_value_t = 1_000)]
        actors: usize,
        /// The wire format: JSON-LD, or sexp in signed envelopes.
        #[arg(long, value_enum, default_value_t = inbox::Wire::Json)]
        format: inbox::Wire,
        /// Received activities already stored before the run (recent:
        /// kept), to see how the indexes' growth costs.
        #[arg(long, default_value_t = 0)]
        stored: usize,
        /// Received activities stored past retention before the run: the
        /// hub starts pruning them as it starts, during the measured run;
        /// prints how long the pruning took.
        #[arg(long, default_value_t = 0)]
        expired: usize,
    },
    /// One post delivered to many followers, each with its own inbox.
    Fanout {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10_000)]
        followers: usize,
        /// How the hub signs: draft-cavage RSA, RFC 9421 Ed25519, or both
        /// (one run each).
        #[arg(long, value_enum, default_value_t = fanout::Signing::Both)]
        signing: fanout::Signing,
    },
    /// client_credentials token issuance, then token introspection.
    Oauth {
        #[command(flatten)]
        common: Common,
        /// Token requests in all (after a 10% warm-up that is not measured).
        #[arg(long, default_value_t = 20_000)]
        tokens: usize,
        /// Introspections in all (after a 10% warm-up that is not measured).
        #[arg(long, default_value_t = 50_000)]
        introspections: usize,
        /// Distinct tokens from the token phase introspected round robin.
        #[arg(long, default_value_t = 1_000)]
        pool: usize,
    },
    /// Signature verifications and signings per second on one core, per
    /// scheme: draft-cavage RSA, RFC 9421 (rsa-v1_5-sha256, rsa-pss-sha512,
    /// ed25519), FEP-8b32 proofs. In process (no hub, no database).
    Signatures {
        /// Iterations per measurement (after a 10% warm-up).
        #[arg(long, default_value_t = 5_000)]
        iterations: usize,
    },
    /// Decoding and verifying one signed activity, sexp and JSON-LD, on
    /// one core, in process (no hub, no database).
    Codec {
        /// Iterations per measurement (after a 10% warm-up).
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
    },
}

#[derive(clap::Args, Clone)]
struct Common {
    #[arg(long, value_enum, default_value_t = Which::Both)]
    backend: Which,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Use this hub binary instead of building target/release/rosefed.
    #[arg(long, env = "ROSEFED_BIN")]
    bin: Option<String>,
}

impl Scenario {
    /// The options of the scenarios that run a hub.
    fn common(&self) -> Option<&Common> {
        match self {
            Scenario::Discovery { common, .. }
            | Scenario::Inbox { common, .. }
            | Scenario::Fanout { common, .. }
            | Scenario::Oauth { common, .. } => Some(common),
            Scenario::Codec { .. } | Scenario::Signatures { .. } => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let in_process = match args.scenario {
        Scenario::Codec { iterations } => Some(codec::run(iterations)),
        Scenario::Signatures { iterations } => Some(signatures::run(iterations)),
        _ => None,
    };
    if let Some(result) = in_process {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let bin = match args
        .scenario
        .common()
        .and_then(|c| c.bin.clone())
        .map_or_else(build_release_hub, Ok)
    {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The harness finds the hub through ROSEFED_BIN. Set here, before the
    // runtime starts any thread, as `set_var` requires.
    std::env::set_var("ROSEFED_BIN", &bin);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let common = args
        .scenario
        .common()
        .ok_or("this scenario runs no hub")?
        .clone();
    println!(
        "machine: {} cores; hub: {}; {} client connections",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::var("ROSEFED_BIN").unwrap_or_default(),
        common.concurrency,
    );
    let backends: &[Backend] = match common.backend {
        Which::Sqlite => &[Backend::Sqlite],
        Which::Postgres => &[Backend::Postgres],
        Which::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    let mut failed = 0;
    for &b in backends {
        let db = TestDatabase::create(b)
            .await
            .ok_or_else(|| format!("{b:?} is unreachable"))?;
        // The machine's reference speed around the scenario: these 2-core
        // machines differ about 2x, and drift within the hour.
        let before = reference_speed();
        match &args.scenario {
            Scenario::Discovery { requests, .. } => {
                let hub = Hub::start(&db.url, db.dir.path(), &[]).await;
                discovery(&hub, b, *requests, common.concurrency).await?;
            }
            Scenario::Inbox {
                activities,
                actors,
                format,
                stored,
                expired,
                ..
            } => {
                let run = inbox::Run {
                    activities: *activities,
                    actors: *actors,
                    concurrency: common.concurrency,
                    wire: *format,
                    stored: *stored,
                    expired: *expired,
                };
                inbox::run(&db, b, &run).await?;
            }
            Scenario::Fanout {
                followers, signing, ..
            } => {
                let runs: &[fanout::Signing] = match signing {
                    fanout::Signing::Both => &[fanout::Signing::Cavage, fanout::Signing::Rfc9421],
                    one => std::slice::from_ref(one),
                };
                for (i, &signing) in runs.iter().enumerate() {
                    // Each run on a fresh database of its own.
                    let fresh;
                    let db = if i == 0 {
                        &db
                    } else {
                        fresh = TestDatabase::create(b)
                            .await
                            .ok_or_else(|| format!("{b:?} is unreachable"))?;
                        &fresh
                    };
                    fanout::run(db, b, *followers, common.concurrency, signing).await?;
                }
            }
            Scenario::Oauth {
                tokens,
                introspections,
                pool,
                ..
            } => {
                failed +=
                    oauth::run(&db, b, *tokens, *introspections, *pool, common.concurrency).await?;
            }
            Scenario::Codec { .. } | Scenario::Signatures { .. } => {}
        }
        let after = reference_speed();
        println!("{}", describe_reference(before, after));
    }
    if failed > 0 {
        return Err(format!(
            "{failed} requests failed or answered wrongly: the figures above are not trustworthy"
        ));
    }
    Ok(())
}

/// Builds the hub in release mode (the bench is meaningless on a debug
/// build) and returns its path.
fn build_release_hub() -> Result<String, String> {
    println!("building the hub: cargo build --release -p rosefed --bin rosefed");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "rosefed", "--bin", "rosefed"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the hub failed".into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("bench binary has no directory")?;
    Ok(dir.join("rosefed").display().to_string())
}

async fn discovery(
    hub: &Hub,
    backend: Backend,
    requests: usize,
    concurrency: usize,
) -> Result<(), String> {
    let _ = federation_tests::http(); // installs the TLS provider reqwest may need
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let urls = Arc::new([
        hub.url(&format!(
            "/.well-known/webfinger?resource=acct:blog@127.0.0.1:{}",
            hub.port
        )),
        hub.url("/actors/market"),
    ]);
    let warmup = (requests / 10).max(concurrency);
    let _ = load(&client, &urls, warmup, concurrency).await?;
    let started = Instant::now();
    let mut latencies = load(&client, &urls, requests, concurrency).await?;
    let elapsed = started.elapsed();
    println!(
        "discovery on {backend:?}: {:.0} req/s, {}, hub peak RSS {}",
        requests as f64 / elapsed.as_secs_f64(),
        percentiles(&mut latencies),
        peak_rss(hub).unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}

/// Sends `total` GETs from `concurrency` workers; every answer must be 200.
async fn load(
    client: &reqwest::Client,
    urls: &Arc<[String; 2]>,
    total: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok(seen);
                }
                let t = Instant::now();
                let response = client
                    .get(&urls[i % 2])
                    .header("Accept", "application/activity+json")
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("{} answered {}", urls[i % 2], response.status()));
                }
                response.bytes().await.map_err(|e| e.to_string())?;
                seen.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(total);
    for w in workers {
        all.extend(w.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

/// S: RSA-2048 signatures/s on one core, as `openssl speed -seconds 1
/// rsa2048` measures it (a single process), or None without openssl.
fn reference_speed() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "1", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rsa 2048 bits 0.000267s 0.000015s   3745.5  66227.7": sign/s is the
    // first rate.
    text.lines()
        .find(|l| l.starts_with("rsa 2048 bits") || l.starts_with("rsa  2048 bits"))?
        .split_whitespace()
        .filter(|t| !t.ends_with('s') && t.contains('.'))
        .find_map(|t| t.parse().ok())
}

/// The line that puts a scenario's figures beside S.
fn describe_reference(before: Option<f64>, after: Option<f64>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!(
            "  S (openssl speed rsa2048, one core): {b:.0} before, {a:.0} after, median {:.0} signatures/s",
            (a + b) / 2.0
        ),
        _ => "  S unknown: openssl speed did not run".into(),
    }
}

/// The hub's VmHWM (peak resident set) from /proc, on Linux.
pub fn peak_rss(hub: &Hub) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", hub.pid()?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} MiB", kib / 1024.0))
}

/// "p50 X ms, p99 Y ms" of a set of latencies.
pub fn percentiles(latencies: &mut [Duration]) -> String {
    if latencies.is_empty() {
        return "no samples".into();
    }
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    )
}
