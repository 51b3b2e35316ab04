//! RFC 9421 HTTP Message Signatures at the inbox, against a stand-in peer
//! (federation_tests::peer) whose RFC 9421 signer is written apart from
//! rosefed's: each algorithm with the key an actor publishes for it
//! (`publicKey` for RSA, an `assertionMethod` Multikey for Ed25519), the
//! tampering cases, and malformed fields, which get 401 with a reason and
//! never a 5xx; FEP-8b32 object proofs on what arrives (a forward is
//! accepted on its proof alone) and on what the hub sends. Every test runs
//! on SQLite and PostgreSQL. Deliveries "double-knock": RFC 9421 first,
//! draft-cavage for a peer that refuses it, remembered with an expiry.
//! With `--authorized-fetch`, ActivityStreams GETs must be signed.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use federation_tests::peer::Peer;
use serde_json::Value;

on_both_databases!(
    each_algorithm_is_accepted_with_the_key_its_actor_publishes,
    tampered_requests_are_refused,
    malformed_signature_fields_get_401_never_a_5xx,
    a_forwarded_activity_is_accepted_on_its_proof_alone,
    outgoing_activities_carry_a_proof,
    deliveries_double_knock_and_remember_who_refused_rfc9421,
    cavage_only_signing_is_an_option,
    authorized_fetch_wants_signed_gets_from_servers_not_suspended,
);

const CT: &str = "application/activity+json";
/// What the hub signs over, as rosefed and Mastodon do.
const COVERED: [&str; 3] = ["@method", "@target-uri", "content-digest"];

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn post(url: &str, headers: &[(String, String)], body: Vec<u8>) -> reqwest::Response {
    let mut r = federation_tests::http()
        .post(url)
        .header("content-type", CT)
        .body(body);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.send().await.unwrap()
}

/// The `error` text of a refusal.
async fn reason(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap_or_default();
    body["error"].as_str().unwrap_or_default().to_string()
}

async fn each_algorithm_is_accepted_with_the_key_its_actor_publishes(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let target = app.url("/actors/blog");
    let cases = [
        (peer.ed25519_key_id(0), "ed25519", &COVERED[..]),
        (peer.key_id(1), "rsa-v1_5-sha256", &COVERED[..]),
        (peer.key_id(2), "rsa-pss-sha512", &COVERED[..]),
        // No alg: the key's own algorithm. The target as @authority + @path.
        (
            peer.ed25519_key_id(3),
            "",
            &["@method", "@authority", "@path", "content-digest"][..],
        ),
    ];
    for (i, (key_id, alg, covered)) in cases.iter().enumerate() {
        let body = peer.follow(i, &target).to_string().into_bytes();
        let headers = peer.sign_rfc9421(key_id, alg, &inbox, &body, now(), covered, "");
        let r = post(&inbox, &headers, body).await;
        assert_eq!(r.status(), 202, "{alg} with {key_id}: {}", reason(r).await);
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM followers WHERE state = 'accepted'")
            .await,
        4
    );
    // Each proven key keeps its own text: the Multikey for Ed25519.
    let ed = app
        .text(&format!(
            "SELECT public_key FROM remote_keys WHERE key_id = '{}'",
            peer.ed25519_key_id(0)
        ))
        .await
        .unwrap_or_default();
    assert!(ed.starts_with('z'), "{ed}");
    // An Update of the actor that no longer lists its Ed25519 key makes the
    // hub forget it at once (a revoked key stops verifying from the cache).
    let mut document =
        federation_tests::get_ap_json(&federation_tests::http(), &peer.actor(0)).await;
    document.as_object_mut().unwrap().remove("assertionMethod");
    let update = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Update", "actor": peer.actor(0), "object": document,
    });
    let r = peer.post_as(0, &app.url("/inbox"), &update).await;
    assert_eq!(r.status(), 202, "{}", reason(r).await);
    let forgotten = format!(
        "SELECT COUNT(*) FROM remote_keys WHERE key_id = '{}'",
        peer.ed25519_key_id(0)
    );
    assert_eq!(app.scalar(&forgotten).await, 0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM remote_keys WHERE key_id = '{}'",
            peer.key_id(0)
        ))
        .await,
        1
    );

    // One actor, both keys, both schemes, in turn: each verifies with its
    // own key (no flapping between them).
    for round in 0..2 {
        let body = peer.follow(0, &app.url("/actors/events")).to_string();
        let r = if round == 0 {
            peer.post_as(
                0,
                &app.url("/actors/events/inbox"),
                &serde_json::from_str(&body).unwrap(),
            )
            .await
        } else {
            let url = app.url("/actors/events/inbox");
            let headers = peer.sign_rfc9421(
                &peer.ed25519_key_id(0),
                "ed25519",
                &url,
                body.as_bytes(),
                now(),
                &COVERED,
                "",
            );
            post(&url, &headers, body.into_bytes()).await
        };
        assert_eq!(r.status(), 202, "round {round}: {}", reason(r).await);
    }
    // What proved each activity, for operators.
    let metrics = metrics_of(&app);
    assert!(
        metrics.contains("rosefed_inbox_proven_total{by=\"rfc9421\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rosefed_inbox_proven_total{by=\"cavage\"} 2"),
        "{metrics}"
    );
}

/// The hub's Prometheus text.
fn metrics_of(app: &TestApp) -> String {
    let mut out = String::new();
    app.state.metrics.render_requests(&mut out);
    out
}

/// A tampering case: name, headers, body, what the refusal says.
type Tamper<'a> = (&'a str, Vec<(String, String)>, Vec<u8>, &'a str);

async fn tampered_requests_are_refused(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let target = app.url("/actors/blog");
    let follow = peer.follow(0, &target).to_string().into_bytes();
    let ed = peer.ed25519_key_id(0);
    let sign = |key_id: &str, alg: &str, url: &str, created: i64, extra: &str| {
        peer.sign_rfc9421(key_id, alg, url, &follow, created, &COVERED, extra)
    };
    let mut other_body = follow.clone();
    other_body.extend_from_slice(b" ");
    let t = now();
    let cases: Vec<Tamper> = vec![
        (
            "the body changed",
            sign(&ed, "ed25519", &inbox, t, ""),
            other_body,
            "Content-Digest does not match",
        ),
        (
            "signed for another inbox",
            sign(&ed, "ed25519", &app.url("/inbox"), t, ""),
            follow.clone(),
            "does not verify",
        ),
        (
            "signed for another server",
            sign(
                &ed,
                "ed25519",
                &inbox.replace(&app.authority, "other.example"),
                t,
                "",
            ),
            follow.clone(),
            "does not verify",
        ),
        (
            "created two hours ago",
            sign(&ed, "ed25519", &inbox, t - 7200, ""),
            follow.clone(),
            "outside the allowed window",
        ),
        (
            "expired",
            sign(
                &ed,
                "ed25519",
                &inbox,
                t - 10,
                &format!(";expires={}", t - 5),
            ),
            follow.clone(),
            "expired",
        ),
        (
            "another actor's key",
            sign(&peer.ed25519_key_id(1), "ed25519", &inbox, t, ""),
            follow.clone(),
            "belongs to",
        ),
        (
            "an Ed25519 alg with the RSA key",
            sign(&peer.key_id(0), "ed25519", &inbox, t, ""),
            follow.clone(),
            "cannot verify",
        ),
        (
            "an RSA signature under the Ed25519 key id",
            sign(&ed, "rsa-v1_5-sha256", &inbox, t, ""),
            follow.clone(),
            "cannot verify",
        ),
    ];
    for (name, headers, body, expected) in cases {
        let r = post(&inbox, &headers, body).await;
        assert_eq!(r.status(), 401, "{name}");
        let why = reason(r).await;
        assert!(why.contains(expected), "{name}: {why}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ap_activities").await, 0);
}

async fn malformed_signature_fields_get_401_never_a_5xx(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let follow = peer
        .follow(0, &app.url("/actors/blog"))
        .to_string()
        .into_bytes();
    let ed = peer.ed25519_key_id(0);
    let good = peer.sign_rfc9421(&ed, "ed25519", &inbox, &follow, now(), &COVERED, "");
    let field = |name: &str| {
        good.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (input, signature, digest) = (
        field("signature-input"),
        field("signature"),
        field("content-digest"),
    );
    let params = input.split_once(')').map_or("", |(_, p)| p).to_string();
    let with_input = |value: String| {
        vec![
            ("content-digest".to_string(), digest.clone()),
            ("signature-input".to_string(), value),
            ("signature".to_string(), signature.clone()),
        ]
    };
    // By `badkey`, whose Multikey is not base58btc.
    let bad_key_body = peer
        .follow(0, &app.url("/actors/blog"))
        .to_string()
        .replace(&peer.actor(0), &format!("{}/users/badkey", peer.base()))
        .into_bytes();
    let many_components: String = (0..40).map(|i| format!(" \"x-{i}\"")).collect();
    let many_params: String = (0..40).map(|i| format!(";p{i}=1")).collect();
    let cases = vec![
        (
            "an unknown derived component",
            with_input(format!("sig1=(\"@method\" \"@nonsense\"){params}")),
            "\"@nonsense\"",
        ),
        (
            "a field parameter",
            with_input(format!("sig1=(\"@method\" \"date\";sf){params}")),
            ";sf",
        ),
        (
            "a label twice",
            with_input(format!("{input}, {input}")),
            "appears twice",
        ),
        (
            "a huge component list",
            with_input(format!("sig1=(\"@method\"{many_components}){params}")),
            "more than 32 components",
        ),
        (
            "a huge parameter list",
            with_input(format!("sig1=(\"@method\"){params}{many_params}")),
            "more than 16 parameters",
        ),
        (
            "an unknown algorithm",
            with_input(input.replace("ed25519\"", "hmac-sha256\"")),
            "unsupported signature algorithm 'hmac-sha256'",
        ),
        (
            "not a structured field",
            with_input("sig1=(((".to_string()),
            "malformed Signature-Input",
        ),
        (
            "no signature for the label",
            vec![
                ("content-digest".to_string(), digest.clone()),
                ("signature-input".to_string(), input.clone()),
                ("signature".to_string(), signature.replace("sig1=", "sig2=")),
            ],
            "no byte sequence for label 'sig1'",
        ),
        (
            "no Signature at all",
            vec![
                ("content-digest".to_string(), digest.clone()),
                ("signature-input".to_string(), input.clone()),
            ],
            "no Signature header",
        ),
        (
            "a bad Multikey",
            peer.sign_rfc9421(
                &format!("{}/users/badkey#ed25519-key", peer.base()),
                "ed25519",
                &inbox,
                &bad_key_body,
                now(),
                &COVERED,
                "",
            ),
            "unreadable public key",
        ),
    ];
    for (name, headers, expected) in cases {
        let body = if name == "a bad Multikey" {
            bad_key_body.clone()
        } else {
            follow.clone()
        };
        let r = post(&inbox, &headers, body).await;
        assert_eq!(r.status(), 401, "{name}");
        let why = reason(r).await;
        assert!(why.contains(expected), "{name}: {why}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 0);
}

/// A Create of a public Note by peer actor `i`, with a FEP-8b32 proof by
/// `key_id` (made with rosefed's signer: its output is checked against
/// the FEP's own example in `signatures::proof`).
fn proven_create(peer: &Peer, i: usize, key_id: &str, content: &str) -> Value {
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    proven_create_at(peer, i, key_id, content, &created)
}

/// As [`proven_create`], with the proof's `created` time.
fn proven_create_at(peer: &Peer, i: usize, key_id: &str, content: &str, created: &str) -> Value {
    let mut create = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Create", "actor": peer.actor(i),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": peer.new_id(), "type": "Note", "attributedTo": peer.actor(i),
                   "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": content},
    });
    rosefed::signatures::proof::attach(&mut create, key_id, created, |m| peer.sign_ed25519(m))
        .unwrap();
    create
}

async fn a_forwarded_activity_is_accepted_on_its_proof_alone(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/inbox");
    let stored = |id: &str| {
        let (app, id) = (&app, id.to_string());
        async move {
            app.scalar(&format!(
                "SELECT COUNT(*) FROM ap_activities WHERE id = '{id}'"
            ))
            .await
        }
    };
    // HTTP-signed by another actor (a relay, a forward): the proof is u0's.
    let create = proven_create(&peer, 0, &peer.ed25519_key_id(0), "forwarded");
    let r = peer.post_as(1, &inbox, &create).await;
    assert_eq!(r.status(), 202, "{}", reason(r).await);
    assert_eq!(stored(create["id"].as_str().unwrap()).await, 1);
    // No HTTP signature at all.
    let create = proven_create(&peer, 0, &peer.ed25519_key_id(0), "unsigned");
    let r = post(&inbox, &[], create.to_string().into_bytes()).await;
    assert_eq!(r.status(), 202, "{}", reason(r).await);
    assert_eq!(stored(create["id"].as_str().unwrap()).await, 1);

    // A proof that does not hold refuses the activity, even with the
    // actor's own valid HTTP signature.
    let mut tampered = proven_create(&peer, 0, &peer.ed25519_key_id(0), "original");
    tampered["object"]["content"] = "changed".into();
    // (The peer's actors share one key pair, so this proof verifies: what
    // refuses it is that the key is u1's.)
    let wrong_key = proven_create(&peer, 0, &peer.ed25519_key_id(1), "u1's key");
    let mut bad_value = proven_create(&peer, 0, &peer.ed25519_key_id(0), "bad value");
    bad_value["proof"]["proofValue"] = "z0OIl".into();
    let unsigned = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Create", "actor": peer.actor(0),
        "object": {"id": peer.new_id(), "type": "Note", "attributedTo": peer.actor(0), "content": "x"},
    });
    for (name, activity, expected) in [
        (
            "tampered after proving",
            &tampered,
            "object proof: proof does not verify",
        ),
        ("proved with another actor's key", &wrong_key, "belongs to"),
        ("an unreadable proofValue", &bad_value, "proofValue"),
    ] {
        let r = peer.post_as(0, &inbox, activity).await;
        assert_eq!(r.status(), 401, "{name}");
        let why = reason(r).await;
        assert!(why.contains(expected), "{name}: {why}");
        assert_eq!(stored(activity["id"].as_str().unwrap()).await, 0, "{name}");
    }
    // The actor's own embedded object with a proof that does not hold.
    let mut object_tampered = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(), "type": "Note", "attributedTo": peer.actor(0),
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": "signed note",
    });
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    rosefed::signatures::proof::attach(
        &mut object_tampered,
        &peer.ed25519_key_id(0),
        &created,
        |m| peer.sign_ed25519(m),
    )
    .unwrap();
    let good_object = object_tampered.clone();
    object_tampered["content"] = "changed note".into();
    for (object, status) in [(object_tampered, 401), (good_object, 202)] {
        let create = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": peer.new_id(), "type": "Create", "actor": peer.actor(0),
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": object,
        });
        let r = peer.post_as(0, &inbox, &create).await;
        assert_eq!(
            r.status(),
            status,
            "embedded object proof: {}",
            reason(r).await
        );
        assert_eq!(
            stored(create["id"].as_str().unwrap()).await,
            i64::from(status == 202)
        );
    }
    // A proof made two days ago no longer stands alone (it could be a
    // replay): a relay's request is refused, the actor's own is taken.
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let old = proven_create_at(&peer, 0, &peer.ed25519_key_id(0), "old", &two_days_ago);
    let r = peer.post_as(1, &inbox, &old).await;
    assert_eq!(r.status(), 401, "an old proof, relayed");
    assert_eq!(stored(old["id"].as_str().unwrap()).await, 0);
    let r = peer.post_as(0, &inbox, &old).await;
    assert_eq!(
        r.status(),
        202,
        "an old proof, sent by its actor: {}",
        reason(r).await
    );
    assert_eq!(stored(old["id"].as_str().unwrap()).await, 1);
    // Without a proof, a relay's HTTP signature is not the actor's.
    let r = peer.post_as(1, &inbox, &unsigned).await;
    assert_eq!(r.status(), 401);
    assert_eq!(stored(unsigned["id"].as_str().unwrap()).await, 0);
}

async fn outgoing_activities_carry_a_proof(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let r = peer
        .post_as(
            0,
            &app.url("/actors/blog/inbox"),
            &peer.follow(0, &app.url("/actors/blog")),
        )
        .await;
    assert_eq!(r.status(), 202);
    let accept =
        federation_tests::eventually("the Accept", std::time::Duration::from_secs(20), || {
            let peer = peer.clone();
            async move {
                peer.deliveries()
                    .into_iter()
                    .find(|d| d.activity["type"] == "Accept")
            }
        })
        .await;
    let proof = &accept.activity["proof"];
    assert_eq!(proof["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(
        proof["verificationMethod"],
        format!("{}#ed25519-key", app.url("/actors/blog"))
    );
    // It verifies with the Multikey the actor document publishes.
    let actor = app.get_ap("/actors/blog").await;
    let multikey = actor["assertionMethod"][0]["publicKeyMultibase"]
        .as_str()
        .unwrap();
    let key = rosefed::signatures::PublicKey::parse(multikey).unwrap();
    let found = rosefed::signatures::proof::find(&accept.activity)
        .unwrap()
        .unwrap();
    found.verify(&accept.activity, &key).unwrap();
    let mut changed = accept.activity.clone();
    changed["object"] = "https://elsewhere.example/follow".into();
    assert!(found.verify(&changed, &key).is_err());
}

/// Has peer actor 0 follow the app `blog` and waits for its Accept.
async fn accepted_follow(app: &TestApp, peer: &Peer) -> federation_tests::peer::Delivery {
    let r = peer
        .post_as(
            0,
            &app.url("/actors/blog/inbox"),
            &peer.follow(0, &app.url("/actors/blog")),
        )
        .await;
    assert_eq!(r.status(), 202);
    federation_tests::eventually("the Accept", std::time::Duration::from_secs(20), || {
        let peer = peer.clone();
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["type"] == "Accept")
        }
    })
    .await
}

/// Publishes a post as `blog` and waits until the peer has it.
async fn published(app: &TestApp, peer: &Peer, text: &str) -> federation_tests::peer::Delivery {
    let token = app.token("blog").await;
    let r = federation_tests::http()
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(token)
        .json(&serde_json::json!({"content": text}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "publish: {}", r.status());
    let text = text.to_string();
    federation_tests::eventually("the post", std::time::Duration::from_secs(20), || {
        let (peer, text) = (peer.clone(), text.clone());
        async move {
            peer.deliveries().into_iter().find(|d| {
                d.activity["type"] == "Create"
                    && d.activity["object"]["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(&text))
            })
        }
    })
    .await
}

/// Waits until `cavage_until(peer)` is past `after`.
async fn remembered_after<F, Fut>(cavage_until: &F, peer: &Peer, after: i64)
where
    F: Fn(&Peer) -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    federation_tests::eventually(
        "the host's draft-cavage time to be recorded",
        std::time::Duration::from_secs(10),
        || async move { (cavage_until(peer).await > after).then_some(()) },
    )
    .await;
}

async fn deliveries_double_knock_and_remember_who_refused_rfc9421(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let old = Peer::start(true, true).await;
    let modern = Peer::start_rfc9421(true, true).await;
    let host = |peer: &Peer| peer.base().trim_start_matches("http://").to_string();
    let cavage_until = |peer: &Peer| {
        let (app, host) = (&app, host(peer));
        async move {
            app.scalar(&format!(
                "SELECT COALESCE(MAX(cavage_until), 0) FROM hosts WHERE host = '{host}'"
            ))
            .await
        }
    };
    let now_ms = || now() * 1000;

    // A peer that reads RFC 9421 gets it, verified, and nothing is noted.
    let accept = accepted_follow(&app, &modern).await;
    assert_eq!(accept.scheme, "rfc9421");
    assert!(accept.verified, "the RFC 9421 signature must verify");
    assert_eq!(cavage_until(&modern).await, 0);

    // A draft-cavage-only peer refuses the hub's RFC 9421 GET of its
    // actor (for the Follow's key): the GET is sent again signed
    // draft-cavage at once, and the host is remembered for a week, in the
    // database too, so the Accept goes draft-cavage straight away.
    let accept = accepted_follow(&app, &old).await;
    assert_eq!(accept.scheme, "cavage");
    assert!(accept.verified, "the draft-cavage signature must verify");
    assert_eq!(old.refused_rfc9421_gets(), 1);
    assert_eq!(old.refused_rfc9421(), 0);
    // (Recorded once the hub has the answer, just after the peer has it.)
    let week = 6 * 24 * 3600 * 1000;
    remembered_after(&cavage_until, &old, now_ms() + week).await;
    // The next delivery goes draft-cavage straight away.
    let post = published(&app, &old, "second").await;
    assert_eq!(post.scheme, "cavage");
    assert_eq!(old.refused_rfc9421(), 0);
    let post = published(&app, &modern, "for the modern peer").await;
    assert_eq!(post.scheme, "rfc9421");
    assert!(post.verified);

    // Once the week is over, RFC 9421 is tried again, now by a delivery:
    // refused, and the same POST goes again signed draft-cavage at once.
    sqlx::query(&format!(
        "UPDATE hosts SET cavage_until = 1 WHERE host = '{}'",
        host(&old)
    ))
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let post = published(&app, &old, "third").await;
    assert_eq!(post.scheme, "cavage");
    assert_eq!(old.refused_rfc9421(), 1);
    remembered_after(&cavage_until, &old, now_ms() + week).await;
    assert!(
        metrics_of(&app).contains("rosefed_signature_fallbacks_total 1"),
        "{}",
        metrics_of(&app)
    );
    // Nothing was lost or sent twice on the way.
    for text in ["second", "third"] {
        let n = old
            .deliveries()
            .iter()
            .filter(|d| {
                d.activity["type"] == "Create"
                    && d.activity["object"]["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(text))
            })
            .count();
        assert_eq!(n, 1, "{text}");
    }
}

async fn cavage_only_signing_is_an_option(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |args| {
        args.federation.http_signatures = rosefed::config::HttpSignatures::Cavage;
    })
    .await;
    let modern = Peer::start_rfc9421(true, true).await;
    let accept = accepted_follow(&app, &modern).await;
    assert_eq!(accept.scheme, "cavage");
    assert!(accept.verified);
}

async fn authorized_fetch_wants_signed_gets_from_servers_not_suspended(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |args| {
        args.federation.authorized_fetch = true;
    })
    .await;
    let peer = Peer::start(true, false).await;
    let client = federation_tests::http();
    let get = |path: &str, accept: &str, headers: Vec<(String, String)>| {
        let mut r = client.get(app.url(path)).header("accept", accept);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };
    let ap = "application/activity+json";
    // A post to fetch, and the paths that need a signature.
    let token = app.token("blog").await;
    let created: Value = client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(token)
        .json(&serde_json::json!({"content": "hello"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let note = created["object"]["id"]
        .as_str()
        .or(created["id"].as_str())
        .unwrap()
        .replace(&app.url(""), "");
    let guarded = [
        "/actors/blog".to_string(),
        "/actors/blog/outbox".to_string(),
        "/actors/blog/followers".to_string(),
        note,
    ];
    for path in &guarded {
        // Unsigned: 401, saying why.
        let r = get(path, ap, vec![]).await.unwrap();
        assert_eq!(r.status(), 401, "unsigned GET {path}");
        assert!(reason(r).await.contains("authorized fetch"), "{path}");
        // Signed, either scheme: served.
        let url = app.url(path);
        let cavage = peer.sign(&peer.key_id(0), "GET", &url, b"", SystemTime::now());
        let r = get(path, ap, cavage).await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "cavage-signed GET {path}: {}",
            reason(r).await
        );
        let modern = peer.sign_rfc9421_get(0, &url, now());
        let r = get(path, ap, modern).await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "RFC 9421-signed GET {path}: {}",
            reason(r).await
        );
        // A signature made for another path is no signature.
        let elsewhere = peer.sign_rfc9421_get(0, &app.url("/actors/events"), now());
        let r = get(path, ap, elsewhere).await.unwrap();
        assert_eq!(r.status(), 401, "misdirected signature, {path}");
    }
    // The API reads that hand out the same documents: a member app's token
    // or a signature.
    let note_id = created["object"]["id"]
        .as_str()
        .or(created["id"].as_str())
        .unwrap_or_default()
        .to_string();
    for path in [
        format!("/api/v1/objects?id={note_id}"),
        "/api/v1/timeline".to_string(),
    ] {
        let r = get(&path, "application/json", vec![]).await.unwrap();
        assert_eq!(r.status(), 401, "unsigned GET {path}");
        let url = app.url(&path);
        let r = get(
            &path,
            "application/json",
            peer.sign_rfc9421_get(0, &url, now()),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "signed GET {path}: {}", reason(r).await);
        let r = client
            .get(&url)
            .bearer_auth(app.token("blog").await)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {path} with an app token");
    }
    // An activity's HTML page does not hand the document out either.
    let activity_path = created["activity"]["id"]
        .as_str()
        .unwrap_or_default()
        .replace(&app.url(""), "");
    let page = get(&activity_path, "text/html", vec![])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("signed requests only"), "{page}");
    assert!(!page.contains("hello"), "{page}");
    // What must stay open: the instance actor, WebFinger, HTML pages.
    for (path, accept) in [
        ("/actor", ap),
        (
            "/.well-known/webfinger?resource=acct:blog@{authority}",
            "application/jrd+json",
        ),
        ("/actors/blog", "text/html"),
        ("/@blog", "text/html"),
    ] {
        let path = path.replace("{authority}", &app.authority);
        let r = get(&path, accept, vec![]).await.unwrap();
        assert_eq!(r.status(), 200, "{path} must stay open");
    }
    // A server suspended here is refused even when it signs ("localhost"
    // reaches the same peer under another name), before its key is fetched.
    rosefed::moderation::domain_blocks::apply(
        &app.state.db,
        &app.state.config,
        "test",
        &rosefed::moderation::domain_blocks::BlockSpec::suspend("localhost"),
    )
    .await
    .unwrap();
    let url = app.url("/actors/blog");
    let blocked_key = peer.key_id(0).replace("127.0.0.1", "localhost");
    let r = get(
        "/actors/blog",
        ap,
        peer.sign(&blocked_key, "GET", &url, b"", SystemTime::now()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403, "{:?}", r.text().await);
    assert!(reason(r).await.contains("suspended"));
    // And an actor suspended here, whatever its server.
    rosefed::moderation::actions::apply(
        &app.state.db,
        &app.state.config,
        "test",
        rosefed::moderation::actions::Action::SuspendActor,
        &peer.actor(0),
        "",
    )
    .await
    .unwrap();
    let r = get("/actors/blog", ap, peer.sign_rfc9421_get(0, &url, now()))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(reason(r).await.contains("suspended"));
}
