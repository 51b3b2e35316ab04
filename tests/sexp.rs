//! sexp (`docs/sexp.md`) on the wire, end to end, every test on SQLite and
//! PostgreSQL:
//!
//! - the inbox takes `application/sexp`: plain activities HTTP-signed by
//!   their actor, and signed envelopes that prove the activity by
//!   themselves (with no HTTP signature, or one by someone else), and
//!   refuses bad envelopes (401/400) and bad text (400 with `line:column`,
//!   413) without storing anything;
//! - AS2 documents and errors are served as sexp for `Accept:
//!   application/sexp`, the same trees as the JSON ones;
//! - apps publish post bodies written in sexp, rendered through the
//!   allow-list, the tree kept as `source`;
//! - deliveries go as signed sexp to hosts whose actors advertise it (the
//!   envelope verified here against the hub's published key), as JSON-LD
//!   to others, and as JSON-LD again after a 415;
//! - `--no-sexp` neither advertises, accepts, serves nor sends sexp.
//!
//! The remote side is federation_tests::peer, which signs and reads sexp
//! with its own code; envelopes are built here with rosefed's canonical
//! form but signed with the peer's key.

mod common;

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::peer::{Delivery, Peer, SEXP};
use federation_tests::{eventually, on_both_databases};
use rosefed::formats::sexp::{self, as2, envelope::RSA_SHA256, Envelope, Sexp};
use serde_json::{json, Value};

on_both_databases!(
    sexp_follow_and_post_are_applied,
    signed_envelopes_prove_the_activity_by_themselves,
    bad_sexp_is_refused_with_its_position_and_changes_nothing,
    documents_and_errors_are_served_as_sexp,
    a_hub_without_sexp_neither_advertises_accepts_serves_nor_sends_it,
    posts_can_be_written_in_sexp,
    deliveries_go_as_signed_sexp_to_hosts_that_take_it,
    a_host_that_refuses_sexp_gets_json_ld,
);

const WAIT: Duration = Duration::from_secs(30);
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const SEXP_UTF8: &str = "application/sexp; charset=utf-8";
const HELLO: &str = r#"(p "Hello " (a :href "https://x.example/" "friends"))"#;
const HELLO_HTML: &str =
    r#"<p>Hello <a href="https://x.example/" rel="nofollow noopener noreferrer">friends</a></p>"#;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn read(text: &[u8]) -> Sexp {
    sexp::read(text, &sexp::Limits::default())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(text)))
}

/// A Follow of `target` by the peer's actor `i`, as sexp.
fn follow(peer: &Peer, i: usize, target: &str) -> String {
    format!(
        r#"(Follow :id "{}" :actor "{}" :object "{target}")"#,
        peer.new_id(),
        peer.actor(i)
    )
}

/// A public Create of a Note by the peer's actor `i` with `body` as its
/// content: (activity id, note id, sexp text).
fn create(peer: &Peer, i: usize, body: &str) -> (String, String, String) {
    let id = peer.new_id();
    let note = format!("{}/objects/{}", peer.base(), uuid::Uuid::new_v4());
    let actor = peer.actor(i);
    let text = format!(
        r#"(Create :id "{id}" :actor "{actor}" :to ("{PUBLIC}")
        :object (Note :id "{note}" :attributedTo "{actor}" :to ("{PUBLIC}") :content {body}))"#
    );
    (id, note, text)
}

/// `payload` in a signed envelope under `key_id`, signed by `signer`'s key
/// over rosefed's signing input.
fn envelope(
    signer: &Peer,
    key_id: &str,
    algorithm: &str,
    created: i64,
    expires: Option<i64>,
    payload: &Sexp,
) -> String {
    let input = Envelope::signing_input(key_id, algorithm, created, expires, payload).unwrap();
    let signature = B64.encode(signer.sign_bytes(input.as_bytes()));
    Envelope {
        key_id: key_id.into(),
        algorithm: algorithm.into(),
        created,
        expires,
        signature,
        payload: payload.clone(),
    }
    .to_sexp()
    .to_string()
}

/// POSTs `body` as sexp with no HTTP signature at all.
async fn post_unsigned(app: &TestApp, path: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", SEXP)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Rows in the tables a received activity writes to.
async fn stored(app: &TestApp) -> [i64; 3] {
    [
        app.scalar("SELECT COUNT(*) FROM ap_activities").await,
        app.scalar("SELECT COUNT(*) FROM objects").await,
        app.scalar("SELECT COUNT(*) FROM followers").await,
    ]
}

/// The JSON error of a refused request, checked to have the status.
async fn error_of(r: reqwest::Response, status: u16, what: &str) -> String {
    assert_eq!(r.status(), status, "{what}");
    let body: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: no JSON error body: {e}"));
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {body}"))
        .to_string()
}

/// `line:column` (from 1, in characters) where `needle` first occurs in `text`.
fn position(text: &str, needle: &str) -> String {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {text}"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{line}:{column}")
}

/// A stored post as the API shows it.
async fn object(app: &TestApp, id: &str) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/objects"))
        .query(&[("id", id)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GET /api/v1/objects?id={id}");
    r.json().await.unwrap()
}

/// The first delivery to `peer` of the activity `id`, once it arrived.
async fn delivered(peer: &Peer, id: &str) -> Delivery {
    eventually(&format!("{id} to arrive"), WAIT, || {
        let (peer, id) = (peer.clone(), id.to_string());
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["id"] == id.as_str())
        }
    })
    .await
}

/// The first Accept delivered to `peer`.
async fn accepted(peer: &Peer) -> Delivery {
    eventually("the Accept to arrive", WAIT, || {
        let peer = peer.clone();
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["type"] == "Accept")
        }
    })
    .await
}

/// A hub with short delivery timings.
async fn fast_app(db: TestDatabase, no_sexp: bool) -> TestApp {
    TestApp::spawn_with(db, |a| {
        a.federation.delivery_retry_base_ms = 100;
        a.federation.delivery_poll_ms = 50;
        a.federation.no_sexp = no_sexp;
    })
    .await
}

/// Publishes through the API as blog; returns the answer (201 checked).
async fn publish(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "publish {body}");
    r.json().await.unwrap()
}

/// Publishes a raw `application/sexp` body to the API path as blog.
async fn publish_sexp(app: &TestApp, token: &str, path: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/apps/blog{path}")))
        .bearer_auth(token)
        .header("content-type", SEXP)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn sexp_follow_and_post_are_applied(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");

    let r = peer
        .post_raw_as(
            0,
            &inbox,
            SEXP,
            follow(&peer, 0, &app.url("/actors/blog")).as_bytes(),
        )
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM followers WHERE app_name = 'blog' AND actor_id = '{}' AND state = 'accepted'",
            peer.actor(0)
        ))
        .await,
        1
    );

    let (id, note, text) = create(&peer, 0, HELLO);
    let r = peer.post_raw_as(0, &inbox, SEXP, text.as_bytes()).await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        app.text(&format!("SELECT content FROM objects WHERE id = '{note}'"))
            .await
            .as_deref(),
        Some(HELLO_HTML)
    );
    assert_eq!(
        app.text(&format!(
            "SELECT source_sexp FROM objects WHERE id = '{note}'"
        ))
        .await
        .as_deref(),
        Some(HELLO),
        "the canonical tree is kept"
    );
    // The activity is kept as the AS2 JSON every stored activity is.
    let body = app
        .text(&format!("SELECT body FROM ap_activities WHERE id = '{id}'"))
        .await
        .expect("the Create is recorded");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["type"], "Create");
    assert_eq!(body["object"]["content"], HELLO_HTML);

    let shown = object(&app, &note).await;
    assert_eq!(shown["content"], HELLO_HTML);
    assert_eq!(
        shown["source"],
        json!({"content": HELLO, "mediaType": SEXP})
    );

    // A body whose source is not canonical is stored canonical; one with
    // markup outside the allow-list is rendered as text.
    let (_, note, text) = create(
        &peer,
        0,
        "(p ; a comment\n \"x\" (script \"alert(1)\") (a :href \"javascript:alert(1)\" \"y\"))",
    );
    let r = peer
        .post_raw_as(0, &app.url("/inbox"), SEXP, text.as_bytes())
        .await;
    assert_eq!(r.status(), 202);
    let shown = object(&app, &note).await;
    assert_eq!(
        shown["source"]["content"],
        r#"(p "x" (script "alert(1)") (a :href "javascript:alert(1)" "y"))"#
    );
    let html = shown["content"].as_str().unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
}

async fn signed_envelopes_prove_the_activity_by_themselves(db: TestDatabase) {
    const MAX_AGE: i64 = 600;
    let app = TestApp::spawn_with(db, |a| {
        a.federation.sexp_signature_max_age_secs = MAX_AGE as u64;
    })
    .await;
    let peer = Peer::start(true, false).await;
    let other = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let signed_by_u0 = |payload: &Sexp, created: i64| {
        envelope(&peer, &peer.key_id(0), RSA_SHA256, created, None, payload)
    };
    let signed_by_u0_as =
        |key_id: &str, payload: &Sexp| envelope(&peer, key_id, RSA_SHA256, now(), None, payload);
    let is_stored = |note: String| {
        let app = &app;
        async move {
            app.scalar(&format!("SELECT COUNT(*) FROM objects WHERE id = '{note}'"))
                .await
                == 1
        }
    };

    // Accepted: HTTP-signed by the actor too; with no HTTP signature; HTTP-
    // signed by another actor (a forward or a relay); to the shared inbox;
    // created a little less than the allowed age ago.
    for (what, way, created) in [
        ("HTTP-signed by the actor", 0, now()),
        ("no HTTP signature", 1, now()),
        ("HTTP-signed by a relaying actor", 2, now()),
        ("to the shared inbox, unsigned", 3, now()),
        ("created within the allowed age", 0, now() - MAX_AGE / 2),
    ] {
        let (_, note, text) = create(&peer, 0, HELLO);
        let body = signed_by_u0(&read(text.as_bytes()), created);
        let r = match way {
            0 => peer.post_raw_as(0, &inbox, SEXP, body.as_bytes()).await,
            1 => post_unsigned(&app, "/actors/blog/inbox", &body).await,
            2 => peer.post_raw_as(1, &inbox, SEXP, body.as_bytes()).await,
            _ => post_unsigned(&app, "/inbox", &body).await,
        };
        assert_eq!(r.status(), 202, "{what}");
        assert!(is_stored(note.clone()).await, "{what}: not applied");
        assert_eq!(object(&app, &note).await["source"]["content"], HELLO);
    }
    // Without an envelope, no HTTP signature proves nothing, and a relay's
    // HTTP signature is not the actor's.
    let (_, note, text) = create(&peer, 0, HELLO);
    let error = error_of(
        post_unsigned(&app, "/actors/blog/inbox", &text).await,
        401,
        "plain sexp without a signature",
    )
    .await;
    assert!(!is_stored(note).await, "{error}");
    let (_, note, text) = create(&peer, 0, HELLO);
    let error = error_of(
        peer.post_raw_as(1, &inbox, SEXP, text.as_bytes()).await,
        401,
        "plain sexp HTTP-signed by another actor",
    )
    .await;
    assert!(!is_stored(note).await, "{error}");

    let before = stored(&app).await;
    let mut refused: Vec<(&str, String, u16, &str)> = Vec::new();
    {
        let (_, _, text) = create(&peer, 0, HELLO);
        let signed = signed_by_u0(&read(text.as_bytes()), now());
        let tampered = signed.replace("\"Hello \"", "\"Goodbye \"");
        assert_ne!(signed, tampered);
        refused.push(("tampered payload", tampered, 401, "sexp envelope"));
    }
    let payload = |i| read(create(&peer, i, HELLO).2.as_bytes());
    refused.push((
        "another actor's key",
        envelope(&peer, &peer.key_id(1), RSA_SHA256, now(), None, &payload(0)),
        401,
        "not to the activity's actor",
    ));
    refused.push((
        "a key on another origin",
        envelope(
            &other,
            &other.key_id(0),
            RSA_SHA256,
            now(),
            None,
            &payload(0),
        ),
        401,
        "not on the actor's origin",
    ));
    refused.push((
        "a key vouched for by a document that is not the actor's",
        signed_by_u0_as(&format!("{}/fake/u0#main-key", peer.base()), &payload(0)),
        401,
        "",
    ));
    refused.push((
        "stale created",
        signed_by_u0(&payload(0), now() - 2 * MAX_AGE),
        401,
        "older than",
    ));
    refused.push((
        "created far in the future",
        signed_by_u0(&payload(0), now() + 2 * 3600),
        401,
        "in the future",
    ));
    refused.push((
        "expired",
        envelope(
            &peer,
            &peer.key_id(0),
            RSA_SHA256,
            now() - 60,
            Some(now() - 30),
            &payload(0),
        ),
        401,
        "expired",
    ));
    refused.push((
        "unknown algorithm",
        envelope(
            &peer,
            &peer.key_id(0),
            "rsa-sha512",
            now(),
            None,
            &payload(0),
        ),
        401,
        "rsa-sha512",
    ));
    let good = signed_by_u0(&payload(0), now());
    let signature_at = good.find(" :signature ").unwrap();
    let payload_at = good.find(" (Create").unwrap();
    let without_signature = format!("{}{}", &good[..signature_at], &good[payload_at..]);
    refused.push((
        "missing :signature",
        without_signature,
        400,
        "parameter :signature is missing",
    ));
    refused.push((
        "unknown parameter",
        good.replacen("(signed ", "(signed :nonce \"n\" ", 1),
        400,
        "unknown envelope parameter :nonce",
    ));
    refused.push((
        "repeated parameter",
        good.replacen("(signed ", &format!("(signed :created {} ", now()), 1),
        400,
        "given twice",
    ));
    for (what, body, status, says) in refused {
        // HTTP-signed by the actor: a bad envelope is not rescued by a good
        // HTTP signature.
        let r = peer.post_raw_as(0, &inbox, SEXP, body.as_bytes()).await;
        let error = error_of(r, status, what).await;
        assert!(error.contains(says), "{what}: {error}");
        assert_eq!(stored(&app).await, before, "{what} changed something");
    }
}

async fn bad_sexp_is_refused_with_its_position_and_changes_nothing(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let good = follow(&peer, 0, &app.url("/actors/blog"));
    let head = |text: &str| text.replacen("(Follow", "(Foo", 1);
    let commented = format!("; first a comment\n  {}", head(&good));
    let nested = format!("{}{}", "(".repeat(65), ")".repeat(65));
    let long: String = format!(
        r#"(Follow :id "{}" :actor "{}" :object "{}")"#,
        "x".repeat(256 * 1024 + 1),
        peer.actor(0),
        app.url("/actors/blog")
    );
    let no_actor = format!(
        r#"(Follow :id "{}" :object "{}")"#,
        peer.new_id(),
        app.url("/actors/blog")
    );
    let bad_escape = good.replacen(":object \"", ":object \"\\q", 1);
    let mut invalid_utf8 = br#"(Follow :id "caf"#.to_vec();
    invalid_utf8.extend_from_slice(b"\xff\" :actor \"x\")");
    let mut nul = br#"(Follow :id "a"#.to_vec();
    nul.extend_from_slice(b"\0\")");

    // (what, body, status, what the error must say)
    let cases: Vec<(&str, Vec<u8>, u16, Vec<String>)> = vec![
        (
            "unbalanced (",
            good.trim_end_matches(')').as_bytes().to_vec(),
            400,
            vec!["1:1: unterminated list".into()],
        ),
        (
            "stray )",
            format!("{good})").into_bytes(),
            400,
            vec![format!("1:{}: unexpected `)`", good.chars().count() + 1)],
        ),
        (
            "bad escape",
            bad_escape.clone().into_bytes(),
            400,
            vec![format!("{}: bad escape", position(&bad_escape, "\\q"))],
        ),
        (
            "invalid UTF-8",
            invalid_utf8,
            400,
            vec!["1:17: invalid UTF-8".into()],
        ),
        ("NUL", nul, 400, vec!["1:15: NUL".into()]),
        (
            "65 nested lists",
            nested.into_bytes(),
            400,
            vec!["1:65: lists nested deeper than 64".into()],
        ),
        (
            "a string over the limit",
            long.clone().into_bytes(),
            400,
            vec![format!(
                "{}: string longer than 262144 bytes",
                position(&long, "\"xxx")
            )],
        ),
        (
            "a body over --max-body-bytes",
            format!("({})", " ".repeat(1024 * 1024)).into_bytes(),
            413,
            vec!["larger than 1048576 bytes".into()],
        ),
        (
            "unknown head symbol",
            head(&good).into_bytes(),
            400,
            vec!["1:2: unknown head symbol 'Foo'".into()],
        ),
        (
            "unknown head symbol after a comment",
            commented.into_bytes(),
            400,
            vec!["2:4: unknown head symbol 'Foo'".into()],
        ),
        (
            "a second datum",
            format!("{good}\n {good}").into_bytes(),
            400,
            vec!["2:2: a second datum".into()],
        ),
        (
            "an activity missing :actor",
            no_actor.into_bytes(),
            400,
            vec!["activity has no actor".into()],
        ),
    ];
    for (what, body, status, says) in cases {
        let r = match peer.try_post_raw_as(0, &inbox, SEXP, &body).await {
            Ok(r) => r,
            // Refused by its declared length before it was read: the hub
            // may close while the body is still being sent (413 only).
            Err(e) if status == 413 && e.is_request() => {
                assert_eq!(stored(&app).await, [0, 0, 0], "{what} stored something");
                continue;
            }
            Err(e) => panic!("{what}: {e}"),
        };
        let error = error_of(r, status, what).await;
        for s in says {
            assert!(error.contains(&s), "{what}: {error:?} does not say {s:?}");
        }
        assert_eq!(stored(&app).await, [0, 0, 0], "{what} stored something");
    }
    // sexp is UTF-8 only: a body declared in another charset is refused
    // whatever it holds; UTF-8 declared is taken.
    let error = error_of(
        peer.post_raw_as(
            0,
            &inbox,
            "application/sexp; charset=iso-8859-1",
            good.as_bytes(),
        )
        .await,
        415,
        "a charset other than UTF-8",
    )
    .await;
    assert!(error.contains("iso-8859-1"), "{error}");
    assert_eq!(stored(&app).await, [0, 0, 0]);
    // The same Follow, well formed, is taken: the refusals were the text's.
    let r = peer
        .post_raw_as(
            0,
            &inbox,
            "application/sexp; charset=UTF-8",
            good.as_bytes(),
        )
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 1);
}

/// GETs `path` as sexp and as JSON; checks the sexp answer and returns both
/// trees.
async fn both_ways(app: &TestApp, path: &str) -> (Value, Value) {
    let r = app.get_as(path, SEXP).await;
    assert_eq!(r.status(), 200, "GET {path} as sexp");
    assert_eq!(r.headers()["content-type"], SEXP_UTF8, "GET {path}");
    let text = r.bytes().await.unwrap();
    let datum = sexp::read(&text, &sexp::Limits::default())
        .unwrap_or_else(|e| panic!("GET {path}: {e}: {}", String::from_utf8_lossy(&text)));
    let from_sexp = as2::to_json(&datum).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (from_sexp, app.get_ap(path).await)
}

async fn documents_and_errors_are_served_as_sexp(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let r = peer
        .post_raw_as(
            0,
            &app.url("/inbox"),
            SEXP,
            follow(&peer, 0, &app.url("/actors/blog")).as_bytes(),
        )
        .await;
    assert_eq!(r.status(), 202);
    let token = app.token("blog").await;
    let created = publish(
        &app,
        &token,
        json!({"content": HELLO, "content_type": SEXP, "name": "On \"sexp\""}),
    )
    .await;
    let object_path = created["id"].as_str().unwrap().replace(&app.base, "");
    let activity_path = created["activity"]["id"]
        .as_str()
        .unwrap()
        .replace(&app.base, "");

    let actor = app.get_ap("/actors/blog").await;
    assert!(
        actor["inboxFormats"]
            .as_array()
            .is_some_and(|f| f.contains(&json!(SEXP))),
        "{}",
        actor["inboxFormats"]
    );
    for path in [
        "/actors/blog",
        "/actors/blog/outbox",
        "/actors/blog/outbox?page=1",
        "/actors/blog/followers",
        "/actors/blog/followers?page=1",
        "/actors/blog/following",
        "/actor",
        &object_path,
        &activity_path,
    ] {
        let (from_sexp, json) = both_ways(&app, path).await;
        assert_eq!(from_sexp, json, "GET {path}: sexp and JSON differ");
    }
    // The served object carries its body as the tree, not as HTML.
    let text = app.get_as(&object_path, SEXP).await.text().await.unwrap();
    assert!(text.contains(&format!(":content {HELLO}")), "{text}");
    assert!(!text.contains(":source"), "{text}");
    let (page, _) = both_ways(&app, "/actors/blog/outbox?page=1").await;
    assert_eq!(page["orderedItems"][0]["object"]["content"], HELLO_HTML);
    let (followers, _) = both_ways(&app, "/actors/blog/followers?page=1").await;
    assert_eq!(followers["orderedItems"], json!([peer.actor(0)]));

    // Errors come back as (err :code … :message "…").
    for (path, code, says) in [
        ("/actors/nobody", 404, "nobody"),
        (
            "/objects/00000000-0000-0000-0000-000000000000",
            404,
            "no such post",
        ),
        ("/no/such/path", 404, ""),
    ] {
        let r = app.get_as(path, SEXP).await;
        assert_eq!(r.status(), code, "GET {path}");
        assert_eq!(r.headers()["content-type"], SEXP_UTF8, "GET {path}");
        let text = r.bytes().await.unwrap();
        let Sexp::List(items) = read(&text) else {
            panic!("GET {path}: not a list");
        };
        assert_eq!(items.len(), 5, "GET {path}");
        assert_eq!(items[0], Sexp::Symbol("err".into()), "GET {path}");
        assert_eq!(items[1], Sexp::Keyword("code".into()), "GET {path}");
        assert_eq!(items[2], Sexp::Integer(i64::from(code)), "GET {path}");
        assert_eq!(items[3], Sexp::Keyword("message".into()), "GET {path}");
        let message = items[4].as_str().unwrap_or_else(|| panic!("GET {path}"));
        assert!(message.contains(says), "GET {path}: {message}");
    }
    // Asked for sexp first and JSON second: sexp; the other way round: JSON.
    let r = app
        .get_as(
            "/actors/blog",
            "application/activity+json;q=0.5, application/sexp",
        )
        .await;
    assert_eq!(r.headers()["content-type"], SEXP_UTF8);
    let r = app
        .get_as(
            "/actors/blog",
            "application/sexp;q=0.5, application/activity+json",
        )
        .await;
    assert_eq!(r.headers()["content-type"], "application/activity+json");
}

async fn a_hub_without_sexp_neither_advertises_accepts_serves_nor_sends_it(db: TestDatabase) {
    let app = fast_app(db, true).await;
    let actor = app.get_ap("/actors/blog").await;
    assert!(actor.get("inboxFormats").is_none(), "{actor}");
    let r = app.get_as("/actors/blog", SEXP).await;
    assert_eq!(r.status(), 406);
    let r = app
        .get_as(
            "/actors/blog",
            "application/sexp, application/activity+json;q=0.1",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/activity+json");

    let peer = Peer::start_sexp(true, true).await;
    let inbox = app.url("/actors/blog/inbox");
    let error = error_of(
        peer.post_raw_as(
            0,
            &inbox,
            SEXP,
            follow(&peer, 0, &app.url("/actors/blog")).as_bytes(),
        )
        .await,
        415,
        "sexp to a hub without sexp",
    )
    .await;
    assert!(!error.contains("or application/sexp"), "{error}");
    assert_eq!(stored(&app).await, [0, 0, 0]);

    // A follower whose actors take sexp still gets JSON-LD only.
    let json_follow = peer.follow(0, &app.url("/actors/blog"));
    assert_eq!(peer.post_as(0, &inbox, &json_follow).await.status(), 202);
    let accept = accepted(&peer).await;
    assert_eq!(accept.content_type, "application/activity+json");
    assert!(accept.verified);
    let token = app.token("blog").await;
    let created = publish(&app, &token, json!({"content": "<p>plain</p>"})).await;
    let create = delivered(&peer, created["activity"]["id"].as_str().unwrap()).await;
    assert_eq!(create.content_type, "application/activity+json");
    assert!(peer.refused().is_empty(), "sexp was tried");
}

async fn posts_can_be_written_in_sexp(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let token = app.token("blog").await;

    let created = publish(
        &app,
        &token,
        json!({"content": "(p \"hi \" (em \"you\"))", "content_type": SEXP}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let shown = object(&app, &id).await;
    assert_eq!(shown["content"], "<p>hi <em>you</em></p>");
    assert_eq!(
        shown["source"],
        json!({"content": "(p \"hi \" (em \"you\"))", "mediaType": SEXP})
    );
    assert_eq!(
        app.text(&format!(
            "SELECT source_sexp FROM objects WHERE id = '{id}'"
        ))
        .await
        .as_deref(),
        Some("(p \"hi \" (em \"you\"))")
    );
    // The Create that is sent carries both too.
    assert_eq!(created["activity"]["object"]["source"], shown["source"]);
    assert_eq!(created["activity"]["object"]["content"], shown["content"]);

    // A raw sexp body.
    let r = publish_sexp(&app, &token, "/posts", r#"(Note :content (p "raw"))"#).await;
    assert_eq!(r.status(), 201);
    let raw: Value = r.json().await.unwrap();
    let raw_id = raw["id"].as_str().unwrap().to_string();
    let shown = object(&app, &raw_id).await;
    assert_eq!(shown["content"], "<p>raw</p>");
    assert_eq!(shown["source"]["content"], r#"(p "raw")"#);
    assert_eq!(shown["type"], "Note");

    // Hostile bodies, both ways in: no script, no javascript: link, in
    // what is stored, in the JSON and in the HTML page.
    let hostile = r#"(p (script "alert(1)") (a :href "javascript:alert(1)" "x"))"#;
    let by_json = publish(
        &app,
        &token,
        json!({"content": hostile, "content_type": SEXP}),
    )
    .await;
    let r = publish_sexp(
        &app,
        &token,
        "/posts",
        &format!("(Note :content {hostile})"),
    )
    .await;
    assert_eq!(r.status(), 201);
    let by_sexp: Value = r.json().await.unwrap();
    for created in [by_json, by_sexp] {
        let id = created["id"].as_str().unwrap();
        let content = app
            .text(&format!("SELECT content FROM objects WHERE id = '{id}'"))
            .await
            .unwrap();
        let served = object(&app, id).await["content"]
            .as_str()
            .unwrap()
            .to_string();
        let page = app
            .get_as(&id.replace(&app.base, ""), "text/html")
            .await
            .text()
            .await
            .unwrap();
        for (where_, text) in [("stored", &content), ("served", &served), ("page", &page)] {
            assert!(!text.contains("<script"), "{where_}: {text}");
            assert!(!text.contains("href=\"javascript"), "{where_}: {text}");
        }
        assert!(!content.contains("javascript:"), "{content}");
        assert!(content.contains("(script"), "shown as text: {content}");
        assert_eq!(served, content);
    }

    // Malformed sexp, both ways in: 400 with the position, nothing stored.
    let before = app.scalar("SELECT COUNT(*) FROM objects").await;
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&json!({"content": "(p \"hi\" (em \"you\")", "content_type": SEXP}))
        .send()
        .await
        .unwrap();
    let error = error_of(r, 400, "malformed content").await;
    assert!(error.contains("1:1: unterminated list"), "{error}");
    let malformed = "(Note :content (p \"raw\" \\q))";
    let r = publish_sexp(&app, &token, "/posts", malformed).await;
    let error = error_of(r, 400, "malformed body").await;
    let at = position(malformed, "\\q");
    assert!(error.contains(&format!("{at}: malformed token")), "{error}");
    let r = publish_sexp(
        &app,
        &token,
        "/posts",
        "(Note :content\n  (p \"a\") (p \"b\"))",
    )
    .await;
    let error = error_of(r, 400, "a body that is not a property list").await;
    assert!(error.contains("keyword"), "{error}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM objects").await, before);

    // Updates in sexp, then back to HTML (the tree goes with it).
    let r = publish_sexp(
        &app,
        &token,
        "/posts/update",
        &format!(r#"(Note :id "{id}" :content (p "edited"))"#),
    )
    .await;
    assert_eq!(r.status(), 200);
    let shown = object(&app, &id).await;
    assert_eq!(shown["content"], "<p>edited</p>");
    assert_eq!(shown["source"]["content"], r#"(p "edited")"#);
    assert!(shown["updated"].is_string());
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/update"))
        .bearer_auth(&token)
        .json(&json!({"id": id, "content": "<p>html again</p>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shown = object(&app, &id).await;
    assert_eq!(shown["content"], "<p>html again</p>");
    assert!(shown.get("source").is_none(), "{shown}");
    assert_eq!(
        app.text(&format!(
            "SELECT source_sexp FROM objects WHERE id = '{id}'"
        ))
        .await,
        None
    );
    // Without the token, nothing.
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .header("content-type", SEXP)
        .body(r#"(Note :content (p "anon"))"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Verifies a delivered envelope against blog's published key; returns it.
async fn check_envelope(app: &TestApp, d: &Delivery) -> Envelope {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    assert!(d.is_sexp(), "{}", d.content_type);
    let envelope = Envelope::from_sexp(read(&d.body)).expect("a valid envelope");
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(envelope.key_id, actor["publicKey"]["id"]);
    assert_eq!(envelope.algorithm, RSA_SHA256);
    assert!(
        (now() - envelope.created).abs() < 300,
        "{}",
        envelope.created
    );
    let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
    let key = VerifyingKey::<rsa::sha2::Sha256>::new(
        rsa::RsaPublicKey::from_public_key_pem(pem).unwrap(),
    );
    let signature =
        Signature::try_from(B64.decode(&envelope.signature).unwrap().as_slice()).unwrap();
    let input = Envelope::signing_input(
        &envelope.key_id,
        &envelope.algorithm,
        envelope.created,
        envelope.expires,
        &envelope.payload,
    )
    .unwrap();
    key.verify(input.as_bytes(), &signature)
        .expect("the envelope verifies with blog's published key");
    // And the check can fail: another date is another input.
    let other = Envelope::signing_input(
        &envelope.key_id,
        &envelope.algorithm,
        envelope.created + 1,
        envelope.expires,
        &envelope.payload,
    )
    .unwrap();
    assert!(key.verify(other.as_bytes(), &signature).is_err());
    envelope
}

async fn deliveries_go_as_signed_sexp_to_hosts_that_take_it(db: TestDatabase) {
    let app = fast_app(db, false).await;
    let sexp_peer = Peer::start_sexp(true, true).await;
    let json_peer = Peer::start(true, true).await;
    let inbox = app.url("/actors/blog/inbox");
    for peer in [&sexp_peer, &json_peer] {
        let follow = peer.follow(0, &app.url("/actors/blog"));
        assert_eq!(peer.post_as(0, &inbox, &follow).await.status(), 202);
    }
    let accept = accepted(&sexp_peer).await;
    assert!(accept.verified, "the Accept's HTTP signature");
    check_envelope(&app, &accept).await;
    assert_eq!(accept.activity["actor"], app.url("/actors/blog"));
    let accept = accepted(&json_peer).await;
    assert_eq!(accept.content_type, "application/activity+json");

    let token = app.token("blog").await;
    let created = publish(
        &app,
        &token,
        json!({"content": HELLO, "content_type": SEXP}),
    )
    .await;
    let activity = created["activity"]["id"].as_str().unwrap();
    let activity_path = activity.replace(&app.base, "");

    let create = delivered(&sexp_peer, activity).await;
    assert_eq!(create.content_type, SEXP);
    assert!(create.verified, "the Create's HTTP signature");
    assert_eq!(create.inbox, "/inbox");
    let envelope = check_envelope(&app, &create).await;
    // The payload is the published activity, its body as the tree.
    assert_eq!(
        as2::to_json(&envelope.payload).unwrap(),
        app.get_ap(&activity_path).await
    );
    assert!(
        String::from_utf8_lossy(&create.body).contains(&format!(":content {HELLO}")),
        "{}",
        String::from_utf8_lossy(&create.body)
    );

    let create = delivered(&json_peer, activity).await;
    assert_eq!(create.content_type, "application/activity+json");
    assert!(create.verified);
    assert_eq!(create.activity["object"]["content"], HELLO_HTML);
    assert_eq!(create.activity["object"]["source"]["content"], HELLO);
    assert!(
        json_peer.refused().is_empty(),
        "sexp was tried on a JSON host"
    );

    // The Accept of a Follow carrying what sexp cannot write (an array
    // `content`) embeds only the Follow's id, type, actor and object, so it
    // still goes as sexp, and nothing else of the Follow is republished.
    let mut odd = sexp_peer.follow(1, &app.url("/actors/blog"));
    odd["content"] = json!(["not", "a", "string"]);
    assert_eq!(sexp_peer.post_as(1, &inbox, &odd).await.status(), 202);
    let accept = eventually("the Accept of the odd Follow", WAIT, || {
        let (peer, id) = (sexp_peer.clone(), odd["id"].clone());
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["type"] == "Accept" && d.activity["object"]["id"] == id)
        }
    })
    .await;
    assert!(accept.is_sexp(), "{}", accept.content_type);
    assert_eq!(accept.inbox, "/users/u1/inbox");
    assert!(accept.verified);
    assert!(accept.activity["object"].get("content").is_none());
    assert_eq!(accept.activity["object"]["actor"], sexp_peer.actor(1));
    assert!(sexp_peer.refused().is_empty());
}

async fn a_host_that_refuses_sexp_gets_json_ld(db: TestDatabase) {
    let app = fast_app(db, false).await;
    let peer = Peer::start_sexp(true, true).await;
    let follow = peer.follow(0, &app.url("/actors/blog"));
    assert_eq!(
        peer.post_as(0, &app.url("/inbox"), &follow).await.status(),
        202
    );
    assert!(accepted(&peer).await.is_sexp());

    // It still advertises sexp, but no longer takes it.
    peer.refuse_sexp(true);
    let token = app.token("blog").await;
    let created = publish(&app, &token, json!({"content": "<p>first</p>"})).await;
    let activity = created["activity"]["id"].as_str().unwrap().to_string();
    let create = delivered(&peer, &activity).await;
    assert_eq!(create.content_type, "application/activity+json");
    assert!(create.verified);
    assert_eq!(create.activity["object"]["content"], "<p>first</p>");
    let refused: Vec<Delivery> = peer
        .refused()
        .into_iter()
        .filter(|d| d.activity["id"] == activity.as_str())
        .collect();
    assert_eq!(refused.len(), 1, "one sexp attempt, then JSON-LD");
    assert!(refused[0].body.starts_with(b"(signed "));

    // The host is remembered as JSON-only: the next post goes JSON-LD first.
    let created = publish(&app, &token, json!({"content": "<p>second</p>"})).await;
    let activity = created["activity"]["id"].as_str().unwrap().to_string();
    let create = delivered(&peer, &activity).await;
    assert_eq!(create.content_type, "application/activity+json");
    assert_eq!(peer.refused().len(), 1, "sexp was tried again");
    let host = peer.base().trim_start_matches("http://");
    assert_eq!(
        app.scalar(&format!("SELECT sexp FROM hosts WHERE host = '{host}'"))
            .await,
        0
    );
}
