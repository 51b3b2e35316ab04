//! The SSRF guard end to end, in a production-mode hub (https public URL).
//!
//! The hub looks names up in a fixed table, as a hub on the internet looks
//! them up in DNS: names answering with loopback, private, link-local and
//! unique-local addresses, IPv6 and IPv4-mapped ones among them. The test's
//! own https server (its certificate from a CA the hub trusts through
//! `--extra-ca-file`) listens on 127.0.0.2, the one internal address the
//! hub is told it may reach (`--allowed-private-address 127.0.0.2/32`),
//! and on the same port of 127.0.0.1 and ::1, where it counts every
//! connection: a refusal must be the guard's, before any connection, not
//! a connection that happened to fail. Without the guard, the loopback
//! cases would be served a valid actor and accepted.
//!
//! What a peer can make the hub fetch (the key of a signed inbox POST) is
//! tested through the inbox, with the status and reason the peer gets and
//! the line the operator's log gets; redirects, the response cap and the
//! content-type check through the hub's own fetcher. Every test runs on
//! SQLite and PostgreSQL.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::peer::Peer;
use federation_tests::{eventually, on_both_databases};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rosefed::fetch::{FetchError, NameLookup, MAX_RESPONSE_BYTES};
use serde_json::{json, Value};
use tokio::net::TcpListener;

on_both_databases!(
    a_peer_cannot_make_the_hub_fetch_an_internal_address,
    redirects_stay_on_the_origin_and_under_the_guard,
    responses_are_capped_while_streaming_and_must_be_activity_json,
    a_private_ca_is_trusted_only_through_extra_ca_file,
);

const HUB: &str = "https://hub.test";
const WAIT: Duration = Duration::from_secs(20);
/// How much the endless body would send if nobody hung up on it.
const ENDLESS: usize = 256 << 20;

async fn a_peer_cannot_make_the_hub_fetch_an_internal_address(db: TestDatabase) {
    let f = Fixture::start(db).await;
    let p = f.site.port;
    let refused = [
        (
            format!("https://loopback.test:{p}/users/u0"),
            "loopback.test resolves only to internal addresses (127.0.0.1)",
        ),
        (
            format!("https://v6loopback.test:{p}/users/u0"),
            "v6loopback.test resolves only to internal addresses (::1)",
        ),
        (
            format!("https://mapped.test:{p}/users/u0"),
            "mapped.test resolves only to internal addresses (::ffff:127.0.0.1)",
        ),
        (
            format!("https://metadata.test:{p}/users/u0"),
            "metadata.test resolves only to internal addresses (169.254.169.254)",
        ),
        (
            format!("https://private.test:{p}/users/u0"),
            "private.test resolves only to internal addresses (10.0.0.1, 192.168.1.1)",
        ),
        (
            format!("https://ula.test:{p}/users/u0"),
            "ula.test resolves only to internal addresses (fd00::1, fe80::1)",
        ),
        (
            format!("https://127.0.0.1:{p}/users/u0"),
            "127.0.0.1 is an internal address",
        ),
        (
            format!("https://[::1]:{p}/users/u0"),
            "::1 is an internal address",
        ),
        (
            format!("https://localhost:{p}/users/u0"),
            "localhost is an internal address",
        ),
        (
            format!("http://peer.test:{p}/users/u0"),
            "plain http is not allowed in production",
        ),
        (
            format!("https://peer.test:{p}/html/u0"),
            "did not answer with ActivityStreams JSON (content-type 'text/html",
        ),
    ];
    // Every case is tried before failing, so a broken guard shows all it
    // lets through.
    let mut wrong = Vec::new();
    for (actor, reason) in &refused {
        let (status, body) = f.follow_from(actor).await;
        let error = serde_json::from_str::<Value>(&body).unwrap_or_default()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status != 401 || !error.contains(actor) || !error.contains(reason) {
            wrong.push(format!("{actor}: {status} {body}"));
            continue;
        }
        // The operator sees the same reason, with the actor that asked.
        let line = eventually("the refusal in the log", WAIT, || async {
            logs()
                .lines()
                .find(|l| l.contains("inbox rejected") && l.contains(&format!("peer={actor} ")))
                .map(str::to_string)
        })
        .await;
        assert!(line.contains("status=401"), "{line}");
        assert!(line.contains(reason), "{line}");
    }
    assert!(wrong.is_empty(), "not refused as expected: {wrong:#?}");

    // The allowed address is reachable, so the refusals above are the
    // guard's: a follow from it is accepted, and the Accept is delivered
    // there through the same guard.
    let allowed = format!("https://peer.test:{p}/users/u0");
    let (status, body) = f.follow_from(&allowed).await;
    assert_eq!(status, 202, "{body}");
    // A name with an internal and an allowed answer connects to the
    // allowed one only, though the internal one comes first.
    let mixed = format!("https://mixed.test:{p}/users/u0");
    let (status, body) = f.follow_from(&mixed).await;
    assert_eq!(status, 202, "{body}");
    for actor in [&allowed, &mixed] {
        eventually("the Accept to be delivered", WAIT, || async {
            f.site.shared.accepts_for(actor).then_some(())
        })
        .await;
    }
    assert_eq!(
        f.app.scalar("SELECT COUNT(*) FROM followers").await,
        2,
        "only the two allowed actors follow"
    );
    assert_eq!(f.app.scalar("SELECT COUNT(*) FROM remote_actors").await, 2);
    f.site.assert_internal_untouched();
}

async fn redirects_stay_on_the_origin_and_under_the_guard(db: TestDatabase) {
    let f = Fixture::start(db).await;
    let p = f.site.port;
    let peer = |path: &str| format!("https://peer.test:{p}{path}");

    // A same-origin redirect to a path is followed.
    let doc = f.fetch(&peer("/moved/u0")).await.unwrap();
    assert_eq!(doc["id"], peer("/users/u0"));
    // An allowed address by its literal is as reachable as by name.
    let doc = f.fetch(&format!("https://127.0.0.2:{p}/users/u0")).await;
    assert!(doc.is_ok(), "{doc:?}");

    let mut wrong = Vec::new();
    for target in [
        format!("https://loopback.test:{p}/users/u0"),
        format!("https://127.0.0.1:{p}/users/u0"),
        format!("https://[::1]:{p}/users/u0"),
        format!("https://metadata.test:{p}/latest/meta-data/"),
        // Another origin, though an allowed address: one site must not
        // answer for another.
        format!("https://other.test:{p}/users/u0"),
        // A downgrade to plain http is another origin too.
        peer("/users/u0").replace("https://", "http://"),
    ] {
        let url = format!("{}?to={}", peer("/redirect"), urlencode(&target));
        match f.fetch(&url).await {
            Err(FetchError::Refused(u, why))
                if u == url && why == format!("redirect to another origin ({target})") => {}
            other => wrong.push(format!("{target}: {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "redirects not refused: {wrong:#?}");
    let url = peer("/loop");
    assert_eq!(refused(f.fetch(&url).await, &url), "more than 3 redirects");
    // A same-origin redirect over a new connection, by which time the name
    // answers with loopback (DNS rebinding): every connection is checked.
    let url = format!("https://rebind.test:{p}/rebind");
    assert_eq!(
        refused(f.fetch(&url).await, &url),
        "rebind.test resolves only to internal addresses (127.0.0.1)"
    );
    assert_eq!(f.site.shared.rebinds.load(Ordering::SeqCst), 1);

    // WebFinger goes through the same guard.
    let actor = f
        .app
        .state
        .fetcher
        .webfinger(&format!("@u0@peer.test:{p}"))
        .await
        .unwrap();
    assert_eq!(actor, peer("/users/u0"));
    let handle = format!("@u0@loopback.test:{p}");
    let err = f.app.state.fetcher.webfinger(&handle).await.unwrap_err();
    assert!(
        matches!(&err, FetchError::Refused(_, why) if why.contains("resolves only to internal")),
        "{err}"
    );
    f.site.assert_internal_untouched();
}

async fn responses_are_capped_while_streaming_and_must_be_activity_json(db: TestDatabase) {
    let f = Fixture::start(db).await;
    let p = f.site.port;
    let peer = |path: &str| format!("https://peer.test:{p}{path}");

    // Without a Content-Length: refused once the cap is passed, and the
    // connection is dropped there, not read to the end.
    let started = Instant::now();
    let err = f.fetch(&peer("/endless")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(_)), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} sent more than {MAX_RESPONSE_BYTES} bytes",
            peer("/endless")
        )
    );
    let shared = &f.site.shared;
    eventually("the server to see the hub hang up", WAIT, || async {
        shared.endless_closed.load(Ordering::SeqCst).then_some(())
    })
    .await;
    let sent = shared.endless_sent.load(Ordering::SeqCst);
    // Past the cap, minus what the socket buffers took unread.
    assert!(sent > MAX_RESPONSE_BYTES, "sent {sent}");
    assert!(sent < ENDLESS / 4, "the hub read on: {sent} bytes sent");
    assert!(started.elapsed() < WAIT);

    // Just under the cap, streamed the same way, is read.
    let doc = f.fetch(&peer("/under-cap")).await.unwrap();
    assert_eq!(doc["type"], "Note");
    // A declared length over the cap is refused before reading.
    let err = f.fetch(&peer("/declared-large")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(_)), "{err}");

    // The content type must be ActivityStreams JSON, however good the body.
    let err = f.fetch(&peer("/html/u0")).await.unwrap_err();
    assert!(
        matches!(&err, FetchError::ContentType(_, ct) if ct.starts_with("text/html")),
        "{err}"
    );
    // Plain http is refused in production, even to an allowed address.
    let url = peer("/users/u0").replace("https://", "http://");
    assert_eq!(
        refused(f.fetch(&url).await, &url),
        "plain http is not allowed in production"
    );
    f.site.assert_internal_untouched();
}

async fn a_private_ca_is_trusted_only_through_extra_ca_file(db: TestDatabase) {
    let site = Site::start().await;
    let url = format!("https://peer.test:{}/users/u0", site.port);
    let untrusting = TestApp::spawn_production(db, HUB, site.lookup(), |args| {
        args.federation.allowed_private_addresses = vec!["127.0.0.2".into()];
    })
    .await;
    let err = untrusting
        .state
        .fetcher
        .get_activity_json(&url)
        .await
        .unwrap_err();
    // The cause, not only reqwest's "error sending request".
    assert!(matches!(&err, FetchError::Network(..)), "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // A file that is not PEM stops the hub at start, naming the flag.
    let bad = untrusting.db.dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let mut args = common::hub_args(&untrusting.db.url, HUB);
    args.federation.extra_ca_file = Some(bad.clone());
    let config = rosefed::config::Config::from_args(&args).unwrap();
    let err = rosefed::instance::prepare(config).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        err.to_string()
            .starts_with(&format!("--extra-ca-file '{}'", bad.display())),
        "{err}"
    );
    site.assert_internal_untouched();
}

/// A production hub, the https site, and a peer to sign as (its key is
/// the one the site's actors publish).
struct Fixture {
    app: TestApp,
    site: Site,
    peer: Peer,
}

impl Fixture {
    async fn start(db: TestDatabase) -> Fixture {
        capture_logs();
        let site = Site::start().await;
        let ca = db.dir.path().join("ca.pem");
        std::fs::write(&ca, &site.ca_pem).unwrap();
        let app = TestApp::spawn_production(db, HUB, site.lookup(), |args| {
            args.federation.allowed_private_addresses = vec!["127.0.0.2/32".into()];
            args.federation.extra_ca_file = Some(ca);
        })
        .await;
        assert_eq!(app.state.config.mode, rosefed::config::Mode::Production);
        Fixture {
            app,
            peer: site.peer.clone(),
            site,
        }
    }

    async fn fetch(&self, url: &str) -> Result<Value, FetchError> {
        self.app.state.fetcher.get_activity_json(url).await
    }

    /// POSTs a Follow of the blog by `actor` to the hub's inbox, signed
    /// with `actor`'s key id for the hub's public host; the status and body.
    async fn follow_from(&self, actor: &str) -> (u16, String) {
        let public_inbox = format!("{HUB}/actors/blog/inbox");
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/follows/{}", uuid::Uuid::new_v4()),
            "type": "Follow", "actor": actor, "object": format!("{HUB}/actors/blog"),
        })
        .to_string();
        let key_id = format!("{actor}#main-key");
        let mut request = self
            .app
            .client
            .post(self.app.url("/actors/blog/inbox"))
            .header("host", "hub.test")
            .header("content-type", "application/activity+json")
            .body(follow.clone());
        for (k, v) in self.peer.sign(
            &key_id,
            "POST",
            &public_inbox,
            follow.as_bytes(),
            SystemTime::now(),
        ) {
            request = request.header(k, v);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }
}

/// The reason of a refusal by the guard, or a panic naming what came
/// instead.
fn refused(result: Result<Value, FetchError>, url: &str) -> String {
    match result {
        Err(FetchError::Refused(refused_url, why)) => {
            assert_eq!(refused_url, url);
            why
        }
        other => panic!("{url} was not refused: {other:?}"),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Names as the hub resolves them; a name with several answers gives them
/// in turn, the last one from then on.
fn table() -> Vec<(&'static str, Vec<Vec<&'static str>>)> {
    vec![
        ("peer.test", vec![vec!["127.0.0.2"]]),
        ("other.test", vec![vec!["127.0.0.2"]]),
        ("loopback.test", vec![vec!["127.0.0.1"]]),
        ("v6loopback.test", vec![vec!["::1"]]),
        ("mapped.test", vec![vec!["::ffff:127.0.0.1"]]),
        ("metadata.test", vec![vec!["169.254.169.254"]]),
        ("private.test", vec![vec!["10.0.0.1", "192.168.1.1"]]),
        ("ula.test", vec![vec!["fd00::1", "fe80::1"]]),
        (
            "mixed.test",
            vec![vec!["127.0.0.1", "10.0.0.1", "127.0.0.2"]],
        ),
        ("rebind.test", vec![vec!["127.0.0.2"], vec!["127.0.0.1"]]),
    ]
}

struct Table {
    answers: HashMap<String, Vec<Vec<IpAddr>>>,
    asked: Mutex<HashMap<String, usize>>,
}

impl Resolve for Table {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let answer = self.answers.get(&host).map(|answers| {
            let mut asked = self.asked.lock().unwrap();
            let n = asked.entry(host.clone()).or_insert(0);
            let answer = answers[(*n).min(answers.len() - 1)].clone();
            *n += 1;
            answer
        });
        Box::pin(async move {
            let ips = answer.ok_or_else(|| format!("{host}: no such name"))?;
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The test's https server: one router on 127.0.0.2 (allowed) and on the
/// same port of 127.0.0.1 and ::1 (internal, where nothing may connect).
struct Site {
    port: u16,
    ca_pem: String,
    shared: Arc<Shared>,
    peer: Peer,
    /// Connections accepted on each internal listener.
    internal: Vec<(SocketAddr, Arc<AtomicUsize>)>,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

struct Shared {
    public_key_pem: String,
    endless_sent: AtomicUsize,
    endless_closed: AtomicBool,
    rebinds: AtomicUsize,
    /// (inbox URL, activity) of every POST to an inbox.
    delivered: Mutex<Vec<(String, Value)>>,
}

impl Shared {
    /// Whether an Accept reached `actor`'s inbox.
    fn accepts_for(&self, actor: &str) -> bool {
        let inbox = format!("{actor}/inbox");
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .any(|(to, a)| *to == inbox && a["type"] == "Accept")
    }
}

impl Site {
    async fn start() -> Site {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let (ca_pem, tls) = certificates();
        // Signs as the site's actors: the peer's key is theirs.
        let peer = Peer::start(false, false).await;
        let client = federation_tests::http();
        let public_key_pem = federation_tests::get_ap_json(&client, &peer.actor(0)).await
            ["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_string();
        let shared = Arc::new(Shared {
            public_key_pem,
            endless_sent: AtomicUsize::new(0),
            endless_closed: AtomicBool::new(false),
            rebinds: AtomicUsize::new(0),
            delivered: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/users/{name}", get(actor))
            .route("/html/{name}", get(actor))
            .route("/users/{name}/inbox", axum::routing::post(inbox))
            .route("/moved/{name}", get(moved))
            .route("/redirect", get(redirect))
            .route("/loop", get(|| async { found("/loop") }))
            .route("/rebind", get(rebind))
            .route("/endless", get(endless))
            .route("/under-cap", get(under_cap))
            .route("/declared-large", get(declared_large))
            .route("/.well-known/webfinger", get(webfinger))
            .with_state(shared.clone());
        let (allowed, listeners) = bind_one_port().await;
        let port = allowed.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let mut internal = Vec::new();
        let mut stops = Vec::new();
        for (i, tcp) in std::iter::once(allowed).chain(listeners).enumerate() {
            let accepted = Arc::new(AtomicUsize::new(0));
            if i > 0 {
                internal.push((tcp.local_addr().unwrap(), accepted.clone()));
            }
            let listener = TlsListener {
                tcp,
                acceptor: acceptor.clone(),
                accepted,
            };
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            stops.push(stop);
            let router = router.clone();
            tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        }
        assert!(
            internal
                .iter()
                .any(|(a, _)| a.ip().is_loopback() && a.is_ipv4()),
            "the 127.0.0.1 twin must listen"
        );
        Site {
            port,
            ca_pem,
            shared,
            peer,
            internal,
            _stop: stops,
        }
    }

    fn lookup(&self) -> NameLookup {
        let answers = table()
            .into_iter()
            .map(|(name, answers)| {
                let answers = answers
                    .into_iter()
                    .map(|ips| ips.into_iter().map(|ip| ip.parse().unwrap()).collect())
                    .collect();
                (name.to_string(), answers)
            })
            .collect();
        NameLookup(Arc::new(Table {
            answers,
            asked: Mutex::default(),
        }))
    }

    /// Nothing connected to 127.0.0.1 or ::1, whatever was asked.
    fn assert_internal_untouched(&self) {
        for (addr, accepted) in &self.internal {
            assert_eq!(
                accepted.load(Ordering::SeqCst),
                0,
                "the hub connected to {addr}"
            );
        }
    }
}

/// A listener on 127.0.0.2 and, on its port, listeners on 127.0.0.1 and
/// (where the machine has IPv6) ::1.
async fn bind_one_port() -> (TcpListener, Vec<TcpListener>) {
    for _ in 0..50 {
        let allowed = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = allowed.local_addr().unwrap().port();
        let Ok(v4) = TcpListener::bind(("127.0.0.1", port)).await else {
            continue;
        };
        match TcpListener::bind(("::1", port)).await {
            Ok(v6) => return (allowed, vec![v4, v6]),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            // No IPv6 here: the ::1 cases are still refused, and nothing
            // could have been reached there anyway.
            Err(_) => return (allowed, vec![v4]),
        }
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

/// A CA, and a server configuration with a certificate it issued for
/// every name and literal the tests use, so that no refusal is TLS's.
fn certificates() -> (String, rustls::ServerConfig) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "rosefed SSRF test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let mut names: Vec<String> = table().iter().map(|(n, _)| n.to_string()).collect();
    names.extend(["localhost", "127.0.0.1", "127.0.0.2", "::1"].map(String::from));
    let mut leaf = CertificateParams::new(names).unwrap();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key.into())
    .unwrap();
    (ca_pem, config)
}

/// TCP plus a TLS handshake, counting every connection, even one whose
/// handshake fails.
struct TlsListener {
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    accepted: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            self.accepted.fetch_add(1, Ordering::SeqCst);
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

const ACTIVITY_JSON: &str = "application/activity+json";

/// An actor document for the URL asked (whatever name it was reached by),
/// with the peer's key; served as text/html under `/html/`.
async fn actor(State(s): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let id = format!("https://{host}{}", uri.path());
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id, "type": "Person", "preferredUsername": "u0",
        "inbox": format!("{id}/inbox"),
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": s.public_key_pem},
    });
    let ct = if uri.path().starts_with("/html/") {
        "text/html; charset=utf-8"
    } else {
        ACTIVITY_JSON
    };
    ([(header::CONTENT_TYPE, ct)], doc.to_string()).into_response()
}

async fn inbox(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> StatusCode {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let activity = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.delivered
        .lock()
        .unwrap()
        .push((format!("https://{host}{}", uri.path()), activity));
    StatusCode::ACCEPTED
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

async fn moved(uri: Uri) -> Response {
    found(&uri.path().replace("/moved/", "/users/"))
}

async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    found(q.get("to").map_or("/", String::as_str))
}

/// A same-origin redirect that makes the client connect again (and so
/// resolve the name again).
async fn rebind(State(s): State<Arc<Shared>>) -> Response {
    s.rebinds.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, "/users/u0"),
            (header::CONNECTION, "close"),
        ],
    )
        .into_response()
}

/// Marks the endless body as dropped (the connection gone) when it is.
struct Hangup(Arc<Shared>);

impl Drop for Hangup {
    fn drop(&mut self) {
        self.0.endless_closed.store(true, Ordering::SeqCst);
    }
}

/// An ActivityStreams body without Content-Length (chunked) that goes on
/// for [`ENDLESS`] bytes, counting what it hands to the connection.
async fn endless(State(s): State<Arc<Shared>>) -> Response {
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    let head = Bytes::from_static(br#"{"type":"Note","content":""#);
    let body = futures_util::stream::unfold((Hangup(s), true), move |(hangup, first)| {
        let next = if first { head.clone() } else { chunk.clone() };
        async move {
            let sent = hangup
                .0
                .endless_sent
                .fetch_add(next.len(), Ordering::SeqCst);
            (sent < ENDLESS).then_some((Ok::<_, std::io::Error>(next), (hangup, false)))
        }
    });
    (
        [(header::CONTENT_TYPE, ACTIVITY_JSON)],
        Body::from_stream(body),
    )
        .into_response()
}

/// A Note a little under the cap, chunked like [`endless`].
async fn under_cap() -> Response {
    let head = r#"{"type":"Note","content":""#;
    let tail = r#""}"#;
    let mut doc = head.as_bytes().to_vec();
    doc.resize(MAX_RESPONSE_BYTES - tail.len() - 16, b'a');
    doc.extend_from_slice(tail.as_bytes());
    let chunks: Vec<Result<Bytes, std::io::Error>> = doc
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (
        [(header::CONTENT_TYPE, ACTIVITY_JSON)],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}

async fn declared_large() -> Response {
    (
        [(header::CONTENT_TYPE, ACTIVITY_JSON)],
        vec![b' '; 2 * MAX_RESPONSE_BYTES],
    )
        .into_response()
}

async fn webfinger(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let jrd = json!({"links": [{"rel": "self", "type": ACTIVITY_JSON,
        "href": format!("https://{host}/users/u0")}]});
    (
        [(header::CONTENT_TYPE, "application/jrd+json")],
        jrd.to_string(),
    )
        .into_response()
}

/// Everything the hubs in this test binary log, as text.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter("rosefed=info")
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    });
}

fn logs() -> String {
    LOGS.get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap()).into_owned())
        .unwrap_or_default()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
