//! The `inbox` scenario: pre-signed Creates from many remote actors, POSTed
//! concurrently to the shared inbox. Each is verified (HTTP signature,
//! Digest, Date, key owner), deduplicated and stored.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use federation_tests::database::{Backend, TestDatabase};
use federation_tests::hub::Hub;
use federation_tests::peer::Peer;
use serde_json::json;

use crate::{peak_rss, percentiles};

struct Signed {
    body: String,
    headers: Vec<(String, String)>,
}

fn presign(peer: &Peer, inbox: &str, actor: usize) -> Signed {
    let note = format!("{}/objects/{}", peer.base(), uuid::Uuid::new_v4());
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Create", "actor": peer.actor(actor),
        "object": { "id": note, "type": "Note", "attributedTo": peer.actor(actor),
                    "content": "<p>benchmark post</p>" },
    })
    .to_string();
    let headers = peer.sign(
        &peer.key_id(actor),
        "POST",
        inbox,
        body.as_bytes(),
        SystemTime::now(),
    );
    Signed { body, headers }
}

async fn post_all(
    client: &reqwest::Client,
    inbox: &str,
    batch: Vec<Signed>,
    concurrency: usize,
) -> Result<Vec<std::time::Duration>, String> {
    let batch = Arc::new(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, batch, next, inbox) = (
            client.clone(),
            batch.clone(),
            next.clone(),
            inbox.to_string(),
        );
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = batch.get(i) else {
                    return Ok(seen);
                };
                let t = Instant::now();
                let mut r = client
                    .post(&inbox)
                    .header("content-type", "application/activity+json")
                    .body(item.body.clone());
                for (k, v) in &item.headers {
                    r = r.header(k, v);
                }
                let response = r.send().await.map_err(|e| e.to_string())?;
                if response.status() != 202 {
                    return Err(format!("inbox answered {}", response.status()));
                }
                seen.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

pub async fn run(
    db: &TestDatabase,
    backend: Backend,
    activities: usize,
    actors: usize,
    concurrency: usize,
) -> Result<(), String> {
    let hub = Hub::start(&db.url, db.dir.path(), &[]).await;
    let peer = Peer::start(true, false).await;
    let inbox = hub.url("/inbox");
    let client = federation_tests::http();

    // Warm-up: one activity per actor fills the hub's key cache.
    let warm: Vec<Signed> = (0..actors).map(|i| presign(&peer, &inbox, i)).collect();
    post_all(&client, &inbox, warm, concurrency).await?;

    print!("inbox on {backend:?}: signing {activities} activities… ");
    let batch: Vec<Signed> = (0..activities)
        .map(|i| presign(&peer, &inbox, i % actors))
        .collect();
    eprintln!("hub pid {} measuring now", hub.pid().unwrap_or(0));
    let started = Instant::now();
    let mut latencies = post_all(&client, &inbox, batch, concurrency).await?;
    let elapsed = started.elapsed();
    println!(
        "{:.0} activities/s accepted ({actors} actors), {}, hub peak RSS {}",
        activities as f64 / elapsed.as_secs_f64(),
        percentiles(&mut latencies),
        peak_rss(&hub).unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}
