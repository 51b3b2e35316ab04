//! The `inbox` scenario: pre-signed Creates from many remote actors, POSTed
//! concurrently to the shared inbox. Each is verified (HTTP signature,
//! Digest, Date, key owner), deduplicated and stored. With `--format sexp`
//! each is a sexp Create in a signed envelope (docs/sexp.md §6), HTTP-signed
//! too, as a rosefed peer sends it.

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

/// The wire format of the activities sent.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wire {
    Json,
    Sexp,
}

impl Wire {
    fn content_type(self) -> &'static str {
        match self {
            Wire::Json => "application/activity+json",
            Wire::Sexp => "application/sexp",
        }
    }
}

fn presign(peer: &Peer, inbox: &str, actor: usize, wire: Wire) -> Result<Signed, String> {
    let note = format!("{}/objects/{}", peer.base(), uuid::Uuid::new_v4());
    let doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Create", "actor": peer.actor(actor),
        "object": { "id": note, "type": "Note", "attributedTo": peer.actor(actor),
                    "content": "<p>benchmark post</p>" },
    });
    let body = match wire {
        Wire::Json => doc.to_string(),
        Wire::Sexp => envelope(peer, actor, &doc)?,
    };
    let headers = peer.sign(
        &peer.key_id(actor),
        "POST",
        inbox,
        body.as_bytes(),
        SystemTime::now(),
    );
    Ok(Signed { body, headers })
}

/// `doc` as sexp in an envelope signed with the peer's key as `actor`.
fn envelope(peer: &Peer, actor: usize, doc: &serde_json::Value) -> Result<String, String> {
    use rosefed::formats::sexp::{as2, envelope::Envelope};
    let payload = as2::from_json(doc).map_err(|e| e.to_string())?;
    let created = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let key_id = peer.key_id(actor);
    let input = Envelope::signing_input(&key_id, "rsa-sha256", created, None, &payload)
        .map_err(|e| e.to_string())?;
    let signature = base64_encode(&peer.sign_bytes(input.as_bytes()));
    let signed = Envelope {
        key_id,
        algorithm: "rsa-sha256".into(),
        created,
        expires: None,
        signature,
        payload,
    };
    Ok(signed.to_sexp().to_string())
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn post_all(
    client: &reqwest::Client,
    inbox: &str,
    batch: Vec<Signed>,
    concurrency: usize,
    wire: Wire,
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
                    .header("content-type", wire.content_type())
                    .body(item.body.clone());
                for (k, v) in &item.headers {
                    r = r.header(k, v);
                }
                let response = r.send().await.map_err(|e| e.to_string())?;
                if response.status() != 202 {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    return Err(format!("inbox answered {status}: {text}"));
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
    wire: Wire,
) -> Result<(), String> {
    let hub = Hub::start(&db.url, db.dir.path(), &[]).await;
    let peer = Peer::start(true, false).await;
    let inbox = hub.url("/inbox");
    let client = federation_tests::http();

    // Warm-up: one activity per actor fills the hub's key cache.
    let warm: Vec<Signed> = (0..actors)
        .map(|i| presign(&peer, &inbox, i, wire))
        .collect::<Result<_, _>>()?;
    post_all(&client, &inbox, warm, concurrency, wire).await?;

    let name = match wire {
        Wire::Json => "JSON-LD",
        Wire::Sexp => "sexp",
    };
    print!("inbox ({name}) on {backend:?}: signing {activities} activities… ");
    let batch: Vec<Signed> = (0..activities)
        .map(|i| presign(&peer, &inbox, i % actors, wire))
        .collect::<Result<_, _>>()?;
    eprintln!("hub pid {} measuring now", hub.pid().unwrap_or(0));
    let started = Instant::now();
    let mut latencies = post_all(&client, &inbox, batch, concurrency, wire).await?;
    let elapsed = started.elapsed();
    println!(
        "{:.0} activities/s accepted ({actors} actors), {}, hub peak RSS {}",
        activities as f64 / elapsed.as_secs_f64(),
        percentiles(&mut latencies),
        peak_rss(&hub).unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}
