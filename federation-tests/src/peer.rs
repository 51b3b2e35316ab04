//! A stand-in fediverse server for tests and benchmarks: it serves actor
//! documents (`/users/u{i}`, all sharing one RSA key under distinct
//! keyIds, as rosefed's apps do), signs requests as those actors, and
//! records what is delivered to its inboxes, verifying each delivery's
//! HTTP signature against the sender's published key.
//!
//! Its draft-cavage signer and verifier are written here independently of
//! rosefed's, so a mistake in rosefed's cannot hide behind a shared one.
//!
//! It knows only draft-cavage signatures, as most of the fediverse still
//! does, and answers an RFC 9421 request (a POST, or a GET of an actor)
//! with 401; a peer started with
//! [`Peer::start_rfc9421`] reads those too, with its own verifier.
//!
//! A peer started with [`Peer::start_sexp`] also speaks `application/sexp`
//! (rosefed's `docs/sexp.md`): its actors advertise it in `inboxFormats`,
//! and it reads sexp deliveries with its own small reader ([`sexp_view`]),
//! again independent of rosefed's. Any other peer answers a sexp body
//! with 415, as a JSON-only server does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_lc_rs::signature::{
    Ed25519KeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256, RSA_PSS_SHA512,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};

/// The media type of sexp bodies.
pub const SEXP: &str = "application/sexp";

/// One delivery the peer received.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `/inbox` or `/users/u{i}/inbox`.
    pub inbox: String,
    /// The activity: the JSON body, or the peer's reading of a sexp body
    /// (see [`sexp_view`]; a signed envelope is read as its payload).
    pub activity: Value,
    /// Whether the HTTP signature verified against the sender's key.
    pub verified: bool,
    /// The signature's scheme: `rfc9421` (with `Signature-Input`) or
    /// `cavage`.
    pub scheme: &'static str,
    /// The request's `Content-Type`, as sent.
    pub content_type: String,
    /// The body, as received.
    pub body: Vec<u8>,
}

impl Delivery {
    /// Whether the body was sent as `application/sexp`.
    pub fn is_sexp(&self) -> bool {
        is_sexp(&self.content_type)
    }
}

struct Inner {
    base: String,
    /// The current key; [`Peer::rotate_key`] replaces it.
    key: Mutex<(String, Arc<RsaKeyPair>)>,
    /// Every actor's Ed25519 key, published as a FEP-521a Multikey in
    /// `assertionMethod` (`#ed25519-key`).
    ed25519: Ed25519KeyPair,
    shared_inbox: bool,
    /// Whether the actors advertise `application/sexp` in `inboxFormats`.
    sexp: bool,
    /// Whether sexp bodies are answered 415 even so.
    refuse_sexp: AtomicBool,
    deliveries: Mutex<Vec<Delivery>>,
    /// How many deliveries there are of each (type, id) and of each type
    /// (id None), kept as they arrive: counting by scanning `deliveries`
    /// held its lock for milliseconds per poll once a fan-out had stored
    /// tens of thousands, stalling the inbox handlers behind it.
    counts: Mutex<HashMap<(String, Option<String>), usize>>,
    /// Sexp deliveries answered 415 (not in `deliveries`).
    refused: Mutex<Vec<Delivery>>,
    /// Status to answer deliveries with (202 unless a test says otherwise).
    status: AtomicU16,
    /// Milliseconds to take over each delivery (to slow a fan-out down).
    delay_ms: std::sync::atomic::AtomicU64,
    verify: bool,
    /// Whether the peer reads RFC 9421 signatures; if not, it answers
    /// 401 to them, as a server that knows only draft-cavage does.
    rfc9421: bool,
    /// RFC 9421 requests answered 401 because of that: POSTs, and GETs of
    /// actor documents.
    refused_rfc9421: std::sync::atomic::AtomicUsize,
    refused_rfc9421_gets: std::sync::atomic::AtomicUsize,
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
        Peer::launch(host, shared_inbox, verify, false, false).await
    }

    /// As [`Peer::start`], for a server that reads RFC 9421 signatures
    /// (and draft-cavage ones); with `verify`, both are checked, RFC 9421
    /// with the sender's Ed25519 Multikey. Every other peer knows only
    /// draft-cavage and answers an RFC 9421 request with 401.
    pub async fn start_rfc9421(shared_inbox: bool, verify: bool) -> Peer {
        Peer::launch(None, shared_inbox, verify, false, true).await
    }

    /// As [`Peer::start`], with actors whose documents say their inboxes
    /// take sexp: `"inboxFormats": ["application/sexp",
    /// "application/activity+json"]`. Sexp deliveries are accepted and
    /// recorded, their HTTP signatures checked as JSON ones are.
    pub async fn start_sexp(shared_inbox: bool, verify: bool) -> Peer {
        Peer::launch(None, shared_inbox, verify, true, false).await
    }

    async fn launch(
        host: Option<&str>,
        shared_inbox: bool,
        verify: bool,
        sexp: bool,
        rfc9421: bool,
    ) -> Peer {
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
            ed25519: {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("peer Ed25519 key");
                Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("peer Ed25519 key")
            },
            shared_inbox,
            sexp,
            refuse_sexp: AtomicBool::new(false),
            deliveries: Mutex::new(Vec::new()),
            counts: Mutex::default(),
            refused: Mutex::new(Vec::new()),
            status: AtomicU16::new(202),
            delay_ms: std::sync::atomic::AtomicU64::new(0),
            verify,
            rfc9421,
            refused_rfc9421: Default::default(),
            refused_rfc9421_gets: Default::default(),
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

    /// The id of actor `i`'s Ed25519 key (its `assertionMethod` Multikey).
    pub fn ed25519_key_id(&self, i: usize) -> String {
        format!("{}#ed25519-key", self.actor(i))
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

    /// Sexp deliveries that were answered 415: all of them for a peer not
    /// started with [`Peer::start_sexp`], or after [`Peer::refuse_sexp`].
    pub fn refused(&self) -> Vec<Delivery> {
        self.inner
            .refused
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Makes the peer answer sexp deliveries with 415 (or accept them again),
    /// while its actors still advertise sexp: a server that changed its mind.
    pub fn refuse_sexp(&self, refuse: bool) {
        self.inner.refuse_sexp.store(refuse, Ordering::SeqCst);
    }

    /// How many deliveries of `kind` (and, if given, with activity id `id`)
    /// arrived, without copying them (benchmarks poll this).
    pub fn count(&self, kind: &str, id: Option<&str>) -> usize {
        self.inner.counts.lock().map_or(0, |c| {
            c.get(&(kind.to_string(), id.map(str::to_string)))
                .copied()
                .unwrap_or(0)
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
        self.sign_covering(
            key_id,
            method,
            url,
            body,
            date,
            &["(request-target)", "host", "date", "digest"],
            "rsa-sha256",
        )
    }

    /// As [`Peer::sign`], covering only `covered` (in that order) and
    /// naming `algorithm`: for requests whose signature leaves something
    /// out, or uses `hs2019`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_covering(
        &self,
        key_id: &str,
        method: &str,
        url: &str,
        body: &[u8],
        date: SystemTime,
        covered: &[&str],
        algorithm: &str,
    ) -> Vec<(String, String)> {
        let u = url::Url::parse(url).expect("url");
        let host = authority(&u);
        let date = httpdate::fmt_http_date(date);
        let digest = format!(
            "SHA-256={}",
            B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
        );
        let target = match u.query() {
            Some(q) => format!("{} {}?{q}", method.to_lowercase(), u.path()),
            None => format!("{} {}", method.to_lowercase(), u.path()),
        };
        let lines: Vec<String> = covered
            .iter()
            .map(|name| match *name {
                "(request-target)" => format!("(request-target): {target}"),
                "host" => format!("host: {host}"),
                "date" => format!("date: {date}"),
                "digest" => format!("digest: {digest}"),
                other => panic!("the peer does not sign {other}"),
            })
            .collect();
        let sig = self.sign_bytes(lines.join("\n").as_bytes());
        vec![
            ("date".into(), date),
            ("digest".into(), digest),
            (
                "signature".into(),
                format!(
                    "keyId=\"{key_id}\",algorithm=\"{algorithm}\",headers=\"{}\",signature=\"{}\"",
                    covered.join(" "),
                    B64.encode(sig)
                ),
            ),
        ]
    }

    /// RFC 9421 headers for a request by `key_id`: `Content-Digest`
    /// (sha-512), `Signature-Input` and `Signature` (label `sig1`),
    /// covering `covered` in that order, with `created`, the key id, `alg`
    /// (unless empty) and `extra` parameters (e.g. `;expires=…`), signed
    /// with the Ed25519 key (`ed25519`) or the RSA one (`rsa-v1_5-sha256`,
    /// `rsa-pss-sha512`; also when `alg` is empty but `key_id` is RSA's).
    /// Written from the RFC apart from rosefed's signer.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_rfc9421(
        &self,
        key_id: &str,
        alg: &str,
        url: &str,
        body: &[u8],
        created: i64,
        covered: &[&str],
        extra: &str,
    ) -> Vec<(String, String)> {
        self.sign_rfc9421_request(key_id, alg, "POST", url, body, created, covered, extra)
    }

    /// RFC 9421 headers for a GET of `url` by actor `i`'s Ed25519 key,
    /// covering `@method` and `@target-uri`.
    pub fn sign_rfc9421_get(&self, i: usize, url: &str, created: i64) -> Vec<(String, String)> {
        let mut headers = self.sign_rfc9421_request(
            &self.ed25519_key_id(i),
            "ed25519",
            "GET",
            url,
            b"",
            created,
            &["@method", "@target-uri"],
            "",
        );
        headers.retain(|(name, _)| name != "content-digest");
        headers
    }

    #[allow(clippy::too_many_arguments)]
    fn sign_rfc9421_request(
        &self,
        key_id: &str,
        alg: &str,
        method: &str,
        url: &str,
        body: &[u8],
        created: i64,
        covered: &[&str],
        extra: &str,
    ) -> Vec<(String, String)> {
        let u = url::Url::parse(url).expect("url");
        let authority = authority(&u);
        let digest = format!(
            "sha-512=:{}:",
            B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, body))
        );
        let request_target = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        let mut base = String::new();
        for name in covered {
            let value = match *name {
                "@method" => method.to_string(),
                "@target-uri" => u.as_str().to_string(),
                "@authority" | "host" => authority.clone(),
                "@path" => u.path().to_string(),
                "@request-target" => request_target.clone(),
                "content-digest" => digest.clone(),
                "content-type" => "application/activity+json".to_string(),
                other => panic!("the peer does not sign {other}"),
            };
            base.push_str(&format!("\"{name}\": {value}\n"));
        }
        let list: Vec<String> = covered.iter().map(|c| format!("\"{c}\"")).collect();
        let mut params = format!("({});created={created};keyid=\"{key_id}\"", list.join(" "));
        if !alg.is_empty() {
            params.push_str(&format!(";alg=\"{alg}\""));
        }
        params.push_str(extra);
        base.push_str(&format!("\"@signature-params\": {params}"));
        let signature = match alg {
            "ed25519" => self.inner.ed25519.sign(base.as_bytes()).as_ref().to_vec(),
            "" if key_id.ends_with("#ed25519-key") => {
                self.inner.ed25519.sign(base.as_bytes()).as_ref().to_vec()
            }
            "rsa-pss-sha512" => {
                let (_, keypair) = current_key(&self.inner);
                let mut sig = vec![0; keypair.public_modulus_len()];
                keypair
                    .sign(
                        &RSA_PSS_SHA512,
                        &aws_lc_rs::rand::SystemRandom::new(),
                        base.as_bytes(),
                        &mut sig,
                    )
                    .expect("sign");
                sig
            }
            _ => self.sign_bytes(base.as_bytes()),
        };
        vec![
            ("content-digest".into(), digest),
            ("signature-input".into(), format!("sig1={params}")),
            (
                "signature".into(),
                format!("sig1=:{}:", B64.encode(signature)),
            ),
        ]
    }

    /// How many RFC 9421 POSTs this draft-cavage-only peer refused.
    pub fn refused_rfc9421(&self) -> usize {
        self.inner.refused_rfc9421.load(Ordering::SeqCst)
    }

    /// How many RFC 9421-signed GETs of its actors it refused.
    pub fn refused_rfc9421_gets(&self) -> usize {
        self.inner.refused_rfc9421_gets.load(Ordering::SeqCst)
    }

    /// Ed25519 of `data` with every actor's `#ed25519-key`.
    pub fn sign_ed25519(&self, data: &[u8]) -> Vec<u8> {
        self.inner.ed25519.sign(data).as_ref().to_vec()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 of `data` with the peer's current key
    /// (every actor's): e.g. the signing input of a sexp envelope.
    pub fn sign_bytes(&self, data: &[u8]) -> Vec<u8> {
        let (_, keypair) = current_key(&self.inner);
        let mut sig = vec![0; keypair.public_modulus_len()];
        keypair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                data,
                &mut sig,
            )
            .expect("sign");
        sig
    }

    /// POSTs `activity` to `inbox`, signed as actor `i`.
    pub async fn post_as(&self, i: usize, inbox: &str, activity: &Value) -> reqwest::Response {
        self.post_raw_as(
            i,
            inbox,
            "application/activity+json",
            activity.to_string().as_bytes(),
        )
        .await
    }

    /// POSTs `body` as `content_type` to `inbox`, HTTP-signed as actor `i`
    /// (the Digest covers the bytes as given).
    pub async fn post_raw_as(
        &self,
        i: usize,
        inbox: &str,
        content_type: &str,
        body: &[u8],
    ) -> reqwest::Response {
        self.try_post_raw_as(i, inbox, content_type, body)
            .await
            .expect("POST to inbox")
    }

    /// As [`Peer::post_raw_as`], with the connection's failure as an error:
    /// a server that refuses a body by its declared length answers before
    /// reading it and closes, and the client may see the close before the
    /// answer.
    pub async fn try_post_raw_as(
        &self,
        i: usize,
        inbox: &str,
        content_type: &str,
        body: &[u8],
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .inner
            .client
            .post(inbox)
            .header("content-type", content_type)
            .body(body.to_vec());
        for (k, v) in self.sign(&self.key_id(i), "POST", inbox, body, SystemTime::now()) {
            request = request.header(k, v);
        }
        request.send().await
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
    let keypair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("aws-lc-rs accepts the peer key");
    (public_pem, Arc::new(keypair))
}

fn actor_doc(inner: &Inner, name: &str) -> Value {
    let id = format!("{}/users/{name}", inner.base);
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": name,
        // Hostile profile fields, so every page that shows a remote actor
        // is tested for escaping and for links that could run script.
        "name": format!("<script>alert('{name}')</script>{name} & co"),
        "summary": "<img src=x onerror=alert(1)>",
        "url": "javascript:alert(1)",
        "inbox": format!("{id}/inbox"), "outbox": format!("{id}/outbox"),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": current_key(inner).0 },
        "assertionMethod": [{
            "id": format!("{id}#ed25519-key"), "type": "Multikey", "controller": id,
            "publicKeyMultibase": multikey(inner.ed25519.public_key().as_ref()),
        }],
    });
    if inner.shared_inbox {
        doc["endpoints"] = json!({ "sharedInbox": format!("{}/inbox", inner.base) });
    }
    if inner.sexp {
        doc["inboxFormats"] = json!([SEXP, "application/activity+json"]);
    }
    // `thief` lists u0's key id as its own (with its owner set to itself),
    // to see that a hub never lets one actor's document take over
    // another's key.
    if name == "thief" {
        doc["publicKey"]["id"] = json!(format!("{}/users/u0#main-key", inner.base));
    }
    // `badkey` publishes a Multikey that is not base58btc.
    if name == "badkey" {
        doc["assertionMethod"][0]["publicKeyMultibase"] = json!("z0OIl-not-base58");
    }
    doc
}

/// `host[:port]` of a URL, as its `Host` header says it.
fn authority(u: &url::Url) -> String {
    match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
        None => u.host_str().unwrap_or_default().to_string(),
    }
}

/// A FEP-521a `publicKeyMultibase` of an Ed25519 key: `z` + base58btc of
/// the multicodec `ed25519-pub` (0xed 0x01) and the key.
fn multikey(public: &[u8]) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(public);
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Whether a `Content-Type` value names `application/sexp`.
fn is_sexp(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(SEXP))
}

async fn actor(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    // A draft-cavage-only server that checks signed GETs refuses one it
    // cannot read, as it refuses such a POST.
    if headers.contains_key("signature-input") && !inner.rfc9421 {
        inner.refused_rfc9421_gets.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNAUTHORIZED, "no keyId in the Signature header").into_response();
    }
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
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let sexp = is_sexp(&content_type);
    let parsed = if sexp {
        sexp_view::activity(&body)
    } else {
        serde_json::from_slice::<Value>(&body).ok()
    };
    let rfc9421 = headers.contains_key("signature-input");
    if rfc9421 && !inner.rfc9421 {
        inner.refused_rfc9421.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNAUTHORIZED, "no keyId in the Signature header").into_response();
    }
    let mut delivery = Delivery {
        inbox: path,
        activity: parsed.clone().unwrap_or(Value::Null),
        verified: false,
        scheme: if rfc9421 { "rfc9421" } else { "cavage" },
        content_type,
        body: body.to_vec(),
    };
    if sexp && (!inner.sexp || inner.refuse_sexp.load(Ordering::SeqCst)) {
        if let Ok(mut r) = inner.refused.lock() {
            r.push(delivery);
        }
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    if parsed.is_none() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    if inner.verify {
        delivery.verified = if rfc9421 {
            verify_rfc9421(inner, &delivery.inbox, &headers, &body, &delivery.activity).await
        } else {
            verify(inner, &delivery.inbox, &headers, &body, &delivery.activity).await
        };
    }
    if let Some(kind) = delivery.activity["type"].as_str() {
        if let Ok(mut c) = inner.counts.lock() {
            let id = delivery.activity["id"].as_str().map(str::to_string);
            *c.entry((kind.to_string(), None)).or_default() += 1;
            if id.is_some() {
                *c.entry((kind.to_string(), id)).or_default() += 1;
            }
        }
    }
    if let Ok(mut d) = inner.deliveries.lock() {
        d.push(delivery);
    }
    StatusCode::ACCEPTED.into_response()
}

/// The ActivityStreams document at `url` (a sender's actor, for its key),
/// fetched unsigned.
async fn fetch_json(inner: &Inner, url: &str) -> Option<Value> {
    let r = inner
        .client
        .get(url)
        .header("accept", "application/activity+json")
        .send()
        .await
        .ok()?;
    r.json::<Value>().await.ok()
}

/// Checks an RFC 9421 signature as a server that reads only what rosefed
/// and Mastodon sign would: one label, covering `@method`, `@target-uri`
/// and a sha-256 `Content-Digest` of the body, by the Ed25519 Multikey of
/// `activity`'s actor (fetched from its document's `assertionMethod`).
async fn verify_rfc9421(
    inner: &Inner,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    activity: &Value,
) -> bool {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some((label, described)) = get("signature-input").split_once('=') else {
        return false;
    };
    let Some((list, params)) = described.split_once(')') else {
        return false;
    };
    let covered: Vec<&str> = list
        .trim_start_matches('(')
        .split_whitespace()
        .map(|c| c.trim_matches('"'))
        .collect();
    if ["@method", "@target-uri", "content-digest"]
        .iter()
        .any(|c| !covered.contains(c))
    {
        return false;
    }
    let digest = format!(
        "sha-256=:{}:",
        B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
    );
    if get("content-digest") != digest {
        return false;
    }
    let Some(key_id) = params
        .split(';')
        .find_map(|p| p.strip_prefix("keyid="))
        .map(|k| k.trim_matches('"').to_string())
    else {
        return false;
    };
    if key_id.split('#').next() != activity["actor"].as_str() {
        return false;
    }
    let mut base = String::new();
    for c in &covered {
        let value = match *c {
            "@method" => "POST".to_string(),
            "@target-uri" => format!("{}{path}", inner.base),
            "content-digest" => digest.clone(),
            other => get(other).to_string(),
        };
        base.push_str(&format!("\"{c}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {described}"));
    let Some(signature) = get("signature")
        .strip_prefix(&format!("{label}=:"))
        .and_then(|s| s.strip_suffix(':'))
        .and_then(|s| B64.decode(s).ok())
    else {
        return false;
    };
    let cached = inner
        .key_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&key_id).cloned());
    if let Some(key) = cached {
        return UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &key)
            .verify(base.as_bytes(), &signature)
            .is_ok();
    }
    let Some(doc) = fetch_json(inner, &key_id).await else {
        return false;
    };
    let multibase = doc["assertionMethod"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["id"] == key_id.as_str())
        .and_then(|k| k["publicKeyMultibase"].as_str())
        .unwrap_or_default();
    let Some(key) = multibase
        .strip_prefix('z')
        .and_then(|b| bs58::decode(b).into_vec().ok())
        .filter(|k| k.len() == 34 && k[..2] == [0xed, 0x01])
    else {
        return false;
    };
    if let Ok(mut c) = inner.key_cache.lock() {
        c.insert(key_id.clone(), key[2..].to_vec());
    }
    UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &key[2..])
        .verify(base.as_bytes(), &signature)
        .is_ok()
}

/// Checks Digest (over the raw body, whatever its format) and the signature
/// over the headers it lists, by a key of `activity`'s actor.
async fn verify(
    inner: &Inner,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    activity: &Value,
) -> bool {
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
        B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
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
            let Some(doc) = fetch_json(inner, &key_id).await else {
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

/// The peer's own reading of a sexp body (rosefed's `docs/sexp.md`), written
/// apart from rosefed's reader: enough to tell which activity arrived and
/// who sent it. It enforces no limits and keeps no positions; it reads what
/// the hub under test sent, and refuses (`None`) anything it cannot read.
///
/// As JSON: a list headed by a symbol whose tail is `:key value` pairs is
/// an object (the symbol its `type`, `@` for none); any other list is an
/// array, its symbols and keywords as strings (`(p "hi")` is
/// `["p", "hi"]`: a post body stays visible, not rendered); `#t`, `#f`,
/// `nil`, numbers and strings are what they say.
pub mod sexp_view {
    use serde_json::{Map, Value};

    /// One datum.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Datum {
        List(Vec<Datum>),
        Symbol(String),
        Keyword(String),
        Str(String),
        /// A number's text, as written.
        Number(String),
        Bool(bool),
        Nil,
    }

    /// The activity of a sexp body: the document itself, or the payload of
    /// a signed envelope `(signed :key-id … PAYLOAD)`, as JSON.
    pub fn activity(body: &[u8]) -> Option<Value> {
        let datum = read(body)?;
        let payload = match &datum {
            Datum::List(items) if items.first() == Some(&Datum::Symbol("signed".into())) => {
                items.last()?
            }
            _ => &datum,
        };
        Some(to_json(payload))
    }

    /// Reads a document: exactly one datum among whitespace and comments.
    pub fn read(body: &[u8]) -> Option<Datum> {
        let mut reader = Reader { s: body, i: 0 };
        let datum = reader.datum()?;
        reader.skip();
        (reader.i == body.len()).then_some(datum)
    }

    /// The datum as JSON (see the module's documentation).
    pub fn to_json(datum: &Datum) -> Value {
        match datum {
            Datum::List(items) => match items.split_first() {
                Some((Datum::Symbol(head), rest))
                    if rest.len() % 2 == 0
                        && rest.chunks(2).all(|p| matches!(p[0], Datum::Keyword(_))) =>
                {
                    let mut object = Map::new();
                    if head != "@" {
                        object.insert("type".into(), Value::String(head.clone()));
                    }
                    for pair in rest.chunks(2) {
                        if let Datum::Keyword(k) = &pair[0] {
                            object.insert(k.clone(), to_json(&pair[1]));
                        }
                    }
                    Value::Object(object)
                }
                _ => Value::Array(items.iter().map(to_json).collect()),
            },
            Datum::Symbol(s) => Value::String(s.clone()),
            Datum::Keyword(k) => Value::String(format!(":{k}")),
            Datum::Str(s) => Value::String(s.clone()),
            Datum::Number(n) => {
                serde_json::from_str::<Value>(n).unwrap_or_else(|_| Value::String(n.clone()))
            }
            Datum::Bool(b) => Value::Bool(*b),
            Datum::Nil => Value::Null,
        }
    }

    struct Reader<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Reader<'_> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }

        /// Skips whitespace and `;` comments.
        fn skip(&mut self) {
            while let Some(b) = self.peek() {
                match b {
                    b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                    b';' => {
                        while self.peek().is_some_and(|b| b != b'\n') {
                            self.i += 1;
                        }
                    }
                    _ => break,
                }
            }
        }

        fn datum(&mut self) -> Option<Datum> {
            self.skip();
            match self.peek()? {
                b'(' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    loop {
                        self.skip();
                        if self.peek()? == b')' {
                            self.i += 1;
                            return Some(Datum::List(items));
                        }
                        items.push(self.datum()?);
                    }
                }
                b')' => None,
                b'"' => self.string().map(Datum::Str),
                _ => self.token(),
            }
        }

        fn token(&mut self) -> Option<Datum> {
            let start = self.i;
            while self.peek().is_some_and(|b| {
                !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'"' | b';')
            }) {
                self.i += 1;
            }
            let token = std::str::from_utf8(&self.s[start..self.i]).ok()?;
            Some(match token {
                "" => return None,
                "#t" => Datum::Bool(true),
                "#f" => Datum::Bool(false),
                "nil" => Datum::Nil,
                // A quoted keyword, `:"odd key"`.
                ":" if self.peek() == Some(b'"') => Datum::Keyword(self.string()?),
                t if t.len() > 1 && t.starts_with(':') => Datum::Keyword(t[1..].to_string()),
                t if t
                    .trim_start_matches('-')
                    .starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    Datum::Number(t.to_string())
                }
                t => Datum::Symbol(t.to_string()),
            })
        }

        /// A string from its opening `"`, with the escapes `\" \\ \n \r \t`
        /// and `\u{hex}`.
        fn string(&mut self) -> Option<String> {
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let b = self.peek()?;
                self.i += 1;
                match b {
                    b'"' => return String::from_utf8(out).ok(),
                    b'\\' => {
                        let e = self.peek()?;
                        self.i += 1;
                        let c = match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' if self.peek() == Some(b'{') => {
                                let from = self.i + 1;
                                let len = self.s[from..].iter().position(|&b| b == b'}')?;
                                let hex = std::str::from_utf8(&self.s[from..from + len]).ok()?;
                                self.i = from + len + 1;
                                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                            }
                            _ => return None,
                        };
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    b => out.push(b),
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        #[test]
        fn envelopes_objects_and_bodies() {
            let body = br#"(signed :key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AA=="
                ; a comment
                (Create :id "https://a/1" :actor "https://a/u" :n -2.5 :ok #t :none nil
                        :to ("https://b/\u{41}\"")
                        :object (Note :content (p "hi " (em "you")) :"odd key" 3)))"#;
            assert_eq!(
                activity(body).unwrap(),
                json!({"type": "Create", "id": "https://a/1", "actor": "https://a/u",
                       "n": -2.5, "ok": true, "none": null, "to": ["https://b/A\""],
                       "object": {"type": "Note", "content": ["p", "hi ", ["em", "you"]], "odd key": 3}})
            );
            assert_eq!(to_json(&read(b"(@ :a ())").unwrap()), json!({"a": []}));
            for bad in [&b"(a"[..], b"(a))", b"\"x", b"(a) b", b"", b"\"\\q\""] {
                assert!(read(bad).is_none(), "{}", String::from_utf8_lossy(bad));
            }
        }
    }
}
