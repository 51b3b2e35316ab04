//! A stand-in fediverse server for tests and benchmarks: it serves actor
//! documents (`/users/u{i}`, all sharing one RSA key under distinct
//! keyIds, as rosefed's apps do), signs requests as those actors, and
//! records what is delivered to its inboxes, verifying each delivery's
//! HTTP signature against the sender's published key.
//!
//! Its draft-cavage signer and verifier are written here independently of
//! rosefed's, so a mistake in rosefed's cannot hide behind a shared one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};

/// One delivery the peer received.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `/inbox` or `/users/u{i}/inbox`.
    pub inbox: String,
    pub activity: Value,
    /// Whether the HTTP signature verified against the sender's key.
    pub verified: bool,
}

struct Inner {
    base: String,
    /// The current key; [`Peer::rotate_key`] replaces it.
    key: Mutex<(String, Arc<RsaKeyPair>)>,
    shared_inbox: bool,
    deliveries: Mutex<Vec<Delivery>>,
    /// Status to answer deliveries with (202 unless a test says otherwise).
    status: AtomicU16,
    /// Milliseconds to take over each delivery (to slow a fan-out down).
    delay_ms: std::sync::atomic::AtomicU64,
    verify: bool,
    key_cache: Mutex<HashMap<String, Vec<u8>>>,
    client: reqwest::Client,
}

#[derive(Clone)]
pub struct Peer {
    inner: Arc<Inner>,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl Peer {
    /// Starts a peer on a random loopback port. With `shared_inbox`, its
    /// actors advertise `/inbox` as their shared inbox. With `verify`,
    /// every delivery's signature is checked (fetching the sender's key).
    pub async fn start(shared_inbox: bool, verify: bool) -> Peer {
        Peer::start_as(None, shared_inbox, verify).await
    }

    /// As [`Peer::start`]; with `host`, the peer listens on every interface
    /// and names itself `http://{host}:{port}`, so hubs in other containers
    /// can reach it by that name.
    pub async fn start_as(host: Option<&str>, shared_inbox: bool, verify: bool) -> Peer {
        let bind = if host.is_some() {
            "0.0.0.0:0"
        } else {
            "127.0.0.1:0"
        };
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("bind peer");
        let addr = listener.local_addr().expect("peer addr");
        let base = match host {
            Some(host) => format!("http://{host}:{}", addr.port()),
            None => format!("http://{addr}"),
        };
        let inner = Arc::new(Inner {
            base,
            key: Mutex::new(new_key()),
            shared_inbox,
            deliveries: Mutex::new(Vec::new()),
            status: AtomicU16::new(202),
            delay_ms: std::sync::atomic::AtomicU64::new(0),
            verify,
            key_cache: Mutex::default(),
            client: crate::http(),
        });
        let app = Router::new()
            .route("/users/{name}", get(actor))
            .route("/users/{name}/inbox", post(inbox))
            .route("/inbox", post(shared))
            .route("/objects/{id}", get(object))
            .route("/fake/{name}", get(fake_actor))
            .with_state(inner.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Peer {
            inner,
            _stop: Arc::new(stop),
        }
    }

    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// Id of actor `i`.
    pub fn actor(&self, i: usize) -> String {
        format!("{}/users/u{i}", self.inner.base)
    }

    pub fn key_id(&self, i: usize) -> String {
        format!("{}#main-key", self.actor(i))
    }

    /// A fresh activity id on this peer.
    pub fn new_id(&self) -> String {
        format!("{}/activities/{}", self.inner.base, uuid::Uuid::new_v4())
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner
            .deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// How many deliveries of `kind` (and, if given, with activity id `id`)
    /// arrived, without copying them (benchmarks poll this).
    pub fn count(&self, kind: &str, id: Option<&str>) -> usize {
        self.inner.deliveries.lock().map_or(0, |d| {
            d.iter()
                .filter(|x| x.activity["type"] == kind && id.is_none_or(|i| x.activity["id"] == i))
                .count()
        })
    }

    /// Makes the peer answer deliveries with `status` (e.g. 503 to force
    /// retries).
    pub fn answer_with(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// Replaces the actors' key (as a server rotating its keys does); the
    /// actor documents serve the new one from now on.
    pub fn rotate_key(&self) {
        if let Ok(mut key) = self.inner.key.lock() {
            *key = new_key();
        }
    }

    /// Makes every delivery take `ms` before it is answered.
    pub fn delay_deliveries(&self, ms: u64) {
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Signature headers for a request by `key_id`, over
    /// `(request-target) host date digest`. `date` overrides the clock.
    pub fn sign(
        &self,
        key_id: &str,
        method: &str,
        url: &str,
        body: &[u8],
        date: SystemTime,
    ) -> Vec<(String, String)> {
        let u = url::Url::parse(url).expect("url");
        let host = match u.port() {
            Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_string(),
        };
        let date = httpdate::fmt_http_date(date);
        let digest = format!(
            "SHA-256={}",
            B64.encode(ring::digest::digest(&ring::digest::SHA256, body))
        );
        let target = match u.query() {
            Some(q) => format!("{} {}?{q}", method.to_lowercase(), u.path()),
            None => format!("{} {}", method.to_lowercase(), u.path()),
        };
        let to_sign =
            format!("(request-target): {target}\nhost: {host}\ndate: {date}\ndigest: {digest}");
        let (_, keypair) = current_key(&self.inner);
        let mut sig = vec![0; keypair.public().modulus_len()];
        keypair
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                to_sign.as_bytes(),
                &mut sig,
            )
            .expect("sign");
        vec![
            ("date".into(), date),
            ("digest".into(), digest),
            (
                "signature".into(),
                format!(
                    "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{}\"",
                    B64.encode(sig)
                ),
            ),
        ]
    }

    /// POSTs `activity` to `inbox`, signed as actor `i`.
    pub async fn post_as(&self, i: usize, inbox: &str, activity: &Value) -> reqwest::Response {
        let body = activity.to_string();
        let mut request = self
            .inner
            .client
            .post(inbox)
            .header("content-type", "application/activity+json")
            .body(body.clone());
        for (k, v) in self.sign(
            &self.key_id(i),
            "POST",
            inbox,
            body.as_bytes(),
            SystemTime::now(),
        ) {
            request = request.header(k, v);
        }
        request.send().await.expect("POST to inbox")
    }

    /// Has actors `0..n` (each with its own inbox) follow `target` through
    /// `inbox`, and waits until every one of them got its Accept.
    pub async fn gather_followers(&self, n: usize, target: &str, inbox: &str) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let (peer, target, inbox) = (self.clone(), target.to_string(), inbox.to_string());
            tasks.spawn(async move {
                let r = peer.post_as(i, &inbox, &peer.follow(i, &target)).await;
                assert_eq!(r.status(), 202, "follow by u{i}");
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.expect("follow task");
        }
        crate::eventually("every Accept to arrive", crate::WAIT, || {
            let accepted = self
                .deliveries()
                .into_iter()
                .filter(|d| d.activity["type"] == "Accept")
                .map(|d| d.inbox)
                .collect::<std::collections::HashSet<_>>()
                .len();
            async move { (accepted == n).then_some(()) }
        })
        .await;
    }

    /// How many times `activity` reached each inbox.
    pub fn per_inbox(&self, activity: &str) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for d in self.deliveries() {
            if d.activity["id"] == activity {
                *seen.entry(d.inbox).or_insert(0) += 1;
            }
        }
        seen
    }

    /// A Follow of `target` by actor `i`.
    pub fn follow(&self, i: usize, target: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.new_id(), "type": "Follow", "actor": self.actor(i), "object": target,
        })
    }
}

fn new_key() -> (String, Arc<RsaKeyPair>) {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("peer key");
    let public_pem = rsa::RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .expect("peer public pem");
    let der = private.to_pkcs8_der().expect("peer pkcs8");
    let keypair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("ring accepts the peer key");
    (public_pem, Arc::new(keypair))
}

fn actor_doc(inner: &Inner, name: &str) -> Value {
    let id = format!("{}/users/{name}", inner.base);
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": name,
        "inbox": format!("{id}/inbox"), "outbox": format!("{id}/outbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": current_key(inner).0 },
    });
    if inner.shared_inbox {
        doc["endpoints"] = json!({ "sharedInbox": format!("{}/inbox", inner.base) });
    }
    doc
}

async fn actor(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    (
        [("content-type", "application/activity+json")],
        actor_doc(&inner, &name).to_string(),
    )
        .into_response()
}

/// An attacker's document elsewhere on the site that claims to be actor
/// `name` and lists a key under its own URL: a hub must not believe it.
async fn fake_actor(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    let mut doc = actor_doc(&inner, &name);
    doc["publicKey"]["id"] = json!(format!("{}/fake/{name}#main-key", inner.base));
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

/// Objects the peer "hosts", for origin-refetch tests: any id is a Note by
/// u0 with fixed text.
async fn object(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    let doc = json!({
        "id": format!("{}/objects/{id}", inner.base), "type": "Note",
        "attributedTo": format!("{}/users/u0", inner.base), "content": "the origin's copy",
    });
    (
        [("content-type", "application/activity+json")],
        doc.to_string(),
    )
        .into_response()
}

async fn inbox(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&inner, format!("/users/{name}/inbox"), headers, body).await
}

async fn shared(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    record(&inner, "/inbox".into(), headers, body).await
}

async fn record(inner: &Inner, path: String, headers: HeaderMap, body: Bytes) -> Response {
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let status = inner.status.load(Ordering::SeqCst);
    if status >= 300 {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    }
    let Ok(activity) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let verified = if inner.verify {
        verify(inner, &path, &headers, &body).await
    } else {
        false
    };
    if let Ok(mut d) = inner.deliveries.lock() {
        d.push(Delivery {
            inbox: path,
            activity,
            verified,
        });
    }
    StatusCode::ACCEPTED.into_response()
}

/// Checks Digest and the signature over the headers it lists.
async fn verify(inner: &Inner, path: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(sig), Some(digest)) = (get("signature"), get("digest")) else {
        return false;
    };
    let expected = format!(
        "SHA-256={}",
        B64.encode(ring::digest::digest(&ring::digest::SHA256, body))
    );
    if digest != expected {
        return false;
    }
    let field = |name: &str| {
        sig.split(',')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('"').to_string())
    };
    let (Some(key_id), Some(names), Some(signature)) =
        (field("keyId"), field("headers"), field("signature"))
    else {
        return false;
    };
    // What the fediverse requires a signature to cover.
    let covered: Vec<&str> = names.split_whitespace().collect();
    if ["(request-target)", "host", "date", "digest"]
        .iter()
        .any(|h| !covered.contains(h))
    {
        return false;
    }
    // The key must be the sending actor's.
    let Ok(activity) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    if key_id.split('#').next() != activity["actor"].as_str() {
        return false;
    }
    let mut lines = Vec::new();
    for name in names.split_whitespace() {
        let value = if name == "(request-target)" {
            Some(format!("post {path}"))
        } else {
            get(name)
        };
        let Some(value) = value else { return false };
        lines.push(format!("{name}: {value}"));
    }
    let Ok(signature) = B64.decode(signature) else {
        return false;
    };
    let cached = inner
        .key_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&key_id).cloned());
    let der = match cached {
        Some(der) => der,
        None => {
            let Ok(r) = inner
                .client
                .get(&key_id)
                .header("accept", "application/activity+json")
                .send()
                .await
            else {
                return false;
            };
            let Ok(doc) = r.json::<Value>().await else {
                return false;
            };
            let Some(pem) = doc["publicKey"]["publicKeyPem"].as_str() else {
                return false;
            };
            let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(pem) else {
                return false;
            };
            let Ok(der) = key.to_pkcs1_der() else {
                return false;
            };
            let der = der.as_bytes().to_vec();
            if let Ok(mut c) = inner.key_cache.lock() {
                c.insert(key_id.clone(), der.clone());
            }
            der
        }
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der)
        .verify(lines.join("\n").as_bytes(), &signature)
        .is_ok()
}

fn current_key(inner: &Inner) -> (String, Arc<RsaKeyPair>) {
    inner
        .key
        .lock()
        .map(|k| (k.0.clone(), k.1.clone()))
        .expect("peer key lock")
}
