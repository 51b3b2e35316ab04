//! The `fanout` scenario: N remote actors with their own inboxes follow an
//! app, the app posts once, and a local sink verifies the HTTP signature of
//! every delivery. Reports signed deliveries/s from publish to the last
//! delivery, with draft-cavage RSA signing and with RFC 9421 Ed25519.

use std::time::{Duration, Instant};

use federation_tests::database::{Backend, TestDatabase};
use federation_tests::eventually;
use federation_tests::hub::Hub;
use federation_tests::peer::Peer;
use serde_json::{json, Value};

use crate::peak_rss;

/// How the hub signs the fan-out, and what the sink reads.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Signing {
    /// draft-cavage with RSA-2048 (`--http-signatures cavage`), to a sink
    /// that reads only that: what most of the fediverse needs.
    Cavage,
    /// RFC 9421 with Ed25519 (the default), to a sink that reads it.
    Rfc9421,
    /// One run of each.
    Both,
}

pub async fn run(
    db: &TestDatabase,
    backend: Backend,
    followers: usize,
    concurrency: usize,
    signing: Signing,
) -> Result<(), String> {
    let token = format!("bench-{}", uuid::Uuid::new_v4());
    let flag = format!("blog={token}");
    // All sink inboxes share one host here; in the wild they are spread over
    // many, so the per-host limit is raised to the overall one.
    let mut args = vec![
        "--app-token",
        &flag,
        "--delivery-per-host",
        "64",
        "--delivery-concurrency",
        "64",
    ];
    if signing == Signing::Cavage {
        args.extend(["--http-signatures", "cavage"]);
    }
    let hub = Hub::start(&db.url, db.dir.path(), &args).await;
    let (peer, scheme) = match signing {
        Signing::Rfc9421 => (Peer::start_rfc9421(false, true).await, "RFC 9421 Ed25519"),
        _ => (Peer::start(false, true).await, "draft-cavage RSA-2048"),
    };
    let target = hub.url("/actors/blog");
    let inbox = hub.url("/inbox");

    print!("fanout on {backend:?}, {scheme}: {followers} followers subscribing… ");
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = followers.div_ceil(concurrency.max(1));
    for chunk in 0..concurrency.max(1) {
        let (peer, target, inbox) = (peer.clone(), target.clone(), inbox.clone());
        tasks.spawn(async move {
            for i in chunk * per_task..((chunk + 1) * per_task).min(followers) {
                let r = peer.post_as(i, &inbox, &peer.follow(i, &target)).await;
                if r.status() != 202 {
                    return Err(format!("follow {i}: {}", r.status()));
                }
            }
            Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    eventually("every Accept", Duration::from_secs(600), || {
        let n = peer.count("Accept", None);
        async move { (n >= followers).then_some(()) }
    })
    .await;

    eprintln!("hub pid {} publishing now", hub.pid().unwrap_or(0));
    let started = Instant::now();
    let created: Value = federation_tests::http()
        .post(hub.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&json!({ "content": "<p>to all of you</p>" }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let activity = created["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    eventually("every Create", Duration::from_secs(600), || {
        let n = peer.count("Create", Some(&activity));
        async move { (n >= followers).then_some(()) }
    })
    .await;
    let elapsed = started.elapsed();
    let verified = peer
        .deliveries()
        .iter()
        .filter(|d| d.activity["type"] == "Create" && d.verified)
        .count();
    println!(
        "{:.0} signed deliveries/s ({verified} of {followers} verified by the sink), hub peak RSS {}",
        followers as f64 / elapsed.as_secs_f64(),
        peak_rss(&hub).unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}
