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

/// What one inbox run does.
pub struct Run {
    pub activities: usize,
    pub actors: usize,
    pub concurrency: usize,
    pub wire: Wire,
    /// Recent received activities stored beforehand.
    pub stored: usize,
    /// Received activities past retention stored beforehand (pruned by the
    /// hub from its start, during the run).
    pub expired: usize,
}

pub async fn run(db: &TestDatabase, backend: Backend, run: &Run) -> Result<(), String> {
    let Run {
        activities,
        actors,
        concurrency,
        wire,
        stored,
        expired,
    } = *run;
    let mut hub = Hub::start(&db.url, db.dir.path(), &[]).await;
    let peer = Peer::start(true, false).await;
    let client = federation_tests::http();

    // Warm-up: one activity per actor fills the hub's key cache (kept in
    // its database, so a restarted hub has it too).
    let warm: Vec<Signed> = (0..actors)
        .map(|i| presign(&peer, &hub.url("/inbox"), i, wire))
        .collect::<Result<_, _>>()?;
    post_all(&client, &hub.url("/inbox"), warm, concurrency, wire).await?;

    let name = match wire {
        Wire::Json => "JSON-LD",
        Wire::Sexp => "sexp",
    };
    print!("inbox ({name}) on {backend:?}: signing {activities} activities… ");
    // Signed before the restart on seeded rows below, not after it: the
    // hub prunes as it starts, and signing takes seconds (8 s for 10,000
    // on a slow machine), so a measured run signed after the restart began
    // late into the pruning, or after its end.
    let inbox = hub.url("/inbox");
    let batch: Vec<Signed> = (0..activities)
        .map(|i| presign(&peer, &inbox, i % actors, wire))
        .collect::<Result<_, _>>()?;

    let mut pruning = None;
    if stored + expired > 0 {
        // Rows go in behind the hub's back, and a new hub starts on them:
        // it starts pruning the expired ones at once, as the measured run
        // starts.
        let port = hub.port;
        hub.terminate().await;
        seed(&db.url, stored, DAY_MS, "kept").await?;
        seed(&db.url, expired, 40 * DAY_MS, "expired").await?;
        hub = Hub::start_on(port, &db.url, db.dir.path(), &[]).await;
        if expired > 0 {
            pruning = Some(tokio::spawn(watch_pruning(db.url.clone())));
        }
    }
    eprintln!("hub pid {} measuring now", hub.pid().unwrap_or(0));
    let started = Instant::now();
    let mut latencies = post_all(&client, &inbox, batch, concurrency, wire).await?;
    let elapsed = started.elapsed();
    let still_pruning = pruning.as_ref().is_some_and(|p| !p.is_finished());
    println!(
        "{:.0} activities/s accepted ({actors} actors{}{}), {}, hub peak RSS {}",
        activities as f64 / elapsed.as_secs_f64(),
        if stored > 0 {
            format!(", {stored} stored before")
        } else {
            String::new()
        },
        if expired > 0 {
            format!(
                ", {expired} expired {}",
                if still_pruning {
                    "being pruned all along"
                } else {
                    "pruned before the end"
                }
            )
        } else {
            String::new()
        },
        percentiles(&mut latencies),
        peak_rss(&hub).unwrap_or_else(|| "unknown".into()),
    );
    if let Some(pruning) = pruning {
        match pruning.await.map_err(|e| e.to_string())? {
            Ok(took) => println!(
                "  pruning {expired} expired activities took {:.1} s from the hub's start",
                took.as_secs_f64()
            ),
            Err(e) => println!("  pruning not measured: {e}"),
        }
    }
    Ok(())
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Stores `n` received activities of `age_ms` ago, in one statement per
/// 50,000 (a recursive count, which both backends run).
async fn seed(url: &str, n: usize, age_ms: i64, what: &str) -> Result<(), String> {
    if n == 0 {
        return Ok(());
    }
    let db = rosefed::db::Db::connect(url, 2, false)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let at = rosefed::db::now_millis() - age_ms;
    let body = serde_json::to_string(&json!({
        "@context": "https://www.w3.org/ns/activitystreams", "type": "Like",
        "actor": "https://seed.example/users/someone",
        "object": "https://seed.example/objects/something",
    }))
    .map_err(|e| e.to_string())?;
    let mut done = 0;
    while done < n {
        let count = (n - done).min(50_000) as i64;
        sqlx::query(
            "INSERT INTO ap_activities (id, app_name, actor, activity_type, object_id, local, body, created_at) \
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1) \
             SELECT 'https://seed.example/' || $2 || '/' || ($3 + i), NULL, \
                    'https://seed.example/users/someone', 'Like', NULL, 0, $4, $5 FROM c",
        )
        .bind(count)
        .bind(what)
        .bind(done as i64)
        .bind(&body)
        .bind(at)
        .execute(db.pool())
        .await
        .map_err(|e| format!("seeding: {e}"))?;
        done += count as usize;
    }
    db.close().await;
    eprintln!(
        "seeded {n} {what} activities in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits until no expired activity is left; returns how long that took
/// from now (the hub starts pruning as it starts, just before).
async fn watch_pruning(url: String) -> Result<std::time::Duration, String> {
    let started = Instant::now();
    let db = rosefed::db::Db::connect(&url, 1, false)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM ap_activities WHERE local = 0 AND created_at < $1 LIMIT 1) AS x",
        )
        .bind(rosefed::db::now_millis() - 31 * DAY_MS)
        .fetch_one(db.pool())
        .await
        .map_err(|e| e.to_string())?;
        if left == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > std::time::Duration::from_secs(1800) {
            return Err("still pruning after 30 minutes".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
