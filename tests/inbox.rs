//! The inbox against a stand-in remote server (federation_tests::peer) that
//! signs with its own, independent HTTP-signature code: what is accepted,
//! what every kind of bad request gets, and that refused requests change
//! nothing; and that received activities past retention are pruned.
//! Every test runs on SQLite and PostgreSQL.

mod common;

use std::time::{Duration, SystemTime};

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::peer::Peer;
use federation_tests::SendJson;
use federation_tests::{eventually, on_both_databases};
use serde_json::{json, Value};

on_both_databases!(
    follow_is_accepted_once_and_the_accept_is_delivered_signed,
    bad_requests_get_a_clear_status_and_change_nothing,
    posts_reactions_and_undo_are_applied,
    deleting_an_actor_removes_its_follows_and_content,
    manual_approval_and_shared_inbox_fan_out,
    another_actors_document_cannot_take_over_a_key,
    a_signature_must_cover_target_host_date_and_digest,
    received_activities_past_retention_are_pruned,
);

const WAIT: Duration = Duration::from_secs(20);
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn follow_is_accepted_once_and_the_accept_is_delivered_signed(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, true).await;
    let follow = peer.follow(0, &app.url("/actors/blog"));
    let r = peer
        .post_as(0, &app.url("/actors/blog/inbox"), &follow)
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM followers WHERE state = 'accepted'")
            .await,
        1
    );
    let accept = eventually("the Accept to arrive", WAIT, || {
        let peer = peer.clone();
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["type"] == "Accept")
        }
    })
    .await;
    // An Accept is for one actor: its own inbox, not the shared one.
    assert_eq!(accept.inbox, "/users/u0/inbox");
    assert!(accept.verified, "the Accept's HTTP signature must verify");
    assert_eq!(accept.activity["object"]["id"], follow["id"]);
    assert_eq!(accept.activity["actor"], app.url("/actors/blog"));

    // A replay is accepted and changes nothing: no second Accept queued.
    let r = peer.post_as(0, &app.url("/inbox"), &follow).await;
    assert_eq!(r.status(), 202);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM delivery_jobs").await, 1);
    let followers = app.get_ap("/actors/blog/followers?page=1").await;
    assert_eq!(followers["orderedItems"], json!([peer.actor(0)]));
}

/// One attack: name, headers, content type, body, expected status.
type Case<'a> = (&'a str, Vec<(String, String)>, &'a str, Vec<u8>, u16);

/// Sends a request with explicit headers and body.
async fn raw(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    ct: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    try_raw(client, url, headers, ct, body).await.unwrap()
}

/// As [`raw`], with the connection's failure as an error: a body refused by
/// its declared length is answered before it is read, and the client may
/// see the connection close before the answer.
async fn try_raw(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    ct: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    let mut r = client.post(url).header("content-type", ct).body(body);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.send().await
}

async fn bad_requests_get_a_clear_status_and_change_nothing(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let other = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let client = federation_tests::http();
    let ct = "application/activity+json";
    let now = SystemTime::now();
    let follow = peer.follow(0, &app.url("/actors/blog"));
    let body = follow.to_string().into_bytes();
    let signed =
        |key_id: &str, date: SystemTime, b: &[u8]| peer.sign(key_id, "POST", &inbox, b, date);

    // A blocked domain: "localhost" reaches the same peer, under another name.
    rosefed::moderation::domain_blocks::apply(
        &app.state.db,
        &app.state.config,
        "test",
        &rosefed::moderation::domain_blocks::BlockSpec::suspend("localhost"),
    )
    .await
    .unwrap();
    let blocked_actor = peer.actor(0).replace("127.0.0.1", "localhost");
    let blocked = json!({"id": format!("{}/activities/b", peer.base().replace("127.0.0.1", "localhost")),
        "type": "Follow", "actor": blocked_actor, "object": app.url("/actors/blog")});

    let mut tampered = signed(&peer.key_id(0), now, &body);
    if let Some(sig) = tampered.iter_mut().find(|(k, _)| k == "signature") {
        sig.1 = sig.1.replace("signature=\"", "signature=\"AAAA");
    }
    let foreign_id = json!({"id": other.new_id(), "type": "Follow", "actor": peer.actor(0), "object": app.url("/actors/blog")});
    let foreign_object = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": format!("{}/objects/1", other.base()), "type": "Note",
                   "attributedTo": peer.actor(0), "content": "forged"}});
    let unknown_actor = json!({"id": "http://127.0.0.1:1/a/1", "type": "Follow",
        "actor": "http://127.0.0.1:1/users/x", "object": app.url("/actors/blog")});
    let nobody = peer.follow(0, &app.url("/actors/nobody"));
    let mut nested = String::new();
    for _ in 0..200 {
        nested.push('[');
    }

    // Signed for another server (its Host), then replayed to us.
    let elsewhere = inbox.replace(&app.authority, "other.example:1");
    let mut for_elsewhere = peer.sign(&peer.key_id(0), "POST", &elsewhere, &body, now);
    for_elsewhere.push(("host".into(), "other.example:1".into()));
    // A document elsewhere on the peer's site claims to be u0 with a key
    // under its own URL; only u0's own document may vouch for u0's keys.
    let fake_key = format!("{}/fake/u0#main-key", peer.base());
    let nul_id = format!(
        r#"{{"id":"{}\u0000","type":"Follow","actor":"{}","object":"{}"}}"#,
        peer.new_id(),
        peer.actor(0),
        app.url("/actors/blog")
    );
    let long = json!({"id": format!("{}/{}", peer.base(), "a".repeat(3000)), "type": "Follow", "actor": peer.actor(0), "object": app.url("/actors/blog")});
    // Stored and indexed (objects.in_reply_to): bounded like every id.
    let long_reply = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": format!("{}/objects/r", peer.base()), "type": "Note", "attributedTo": peer.actor(0),
                   "content": "<p>re</p>", "inReplyTo": format!("{}/{}", peer.base(), "r".repeat(3000))}});
    let dotted = json!({"id": format!("{}/activities/d", peer.base().replace("127.0.0.1", "localhost.")),
        "type": "Follow", "actor": peer.actor(0).replace("127.0.0.1", "localhost."), "object": app.url("/actors/blog")});

    let cases: Vec<Case> = vec![
        (
            "signed for another host",
            for_elsewhere,
            ct,
            body.clone(),
            401,
        ),
        (
            "key vouched for by a document that is not the actor's",
            peer.sign(&fake_key, "POST", &inbox, &body, now),
            ct,
            body.clone(),
            401,
        ),
        (
            "NUL in an id",
            signed(&peer.key_id(0), now, nul_id.as_bytes()),
            ct,
            nul_id.clone().into_bytes(),
            400,
        ),
        (
            "overlong id",
            signed(&peer.key_id(0), now, long.to_string().as_bytes()),
            ct,
            long.to_string().into_bytes(),
            400,
        ),
        (
            "blocked domain with a trailing dot",
            vec![],
            ct,
            dotted.to_string().into_bytes(),
            403,
        ),
        ("no signature", vec![], ct, body.clone(), 401),
        ("bad signature", tampered, ct, body.clone(), 401),
        (
            "digest mismatch",
            signed(&peer.key_id(0), now, b"other body"),
            ct,
            body.clone(),
            401,
        ),
        (
            "another actor's key",
            signed(&peer.key_id(1), now, &body),
            ct,
            body.clone(),
            401,
        ),
        (
            "key on another origin",
            other.sign(&other.key_id(0), "POST", &inbox, &body, now),
            ct,
            body.clone(),
            401,
        ),
        (
            "stale date",
            signed(&peer.key_id(0), now - Duration::from_secs(7200), &body),
            ct,
            body.clone(),
            401,
        ),
        (
            "future date",
            signed(&peer.key_id(0), now + Duration::from_secs(7200), &body),
            ct,
            body.clone(),
            401,
        ),
        (
            "id from another origin",
            signed(&peer.key_id(0), now, foreign_id.to_string().as_bytes()),
            ct,
            foreign_id.to_string().into_bytes(),
            400,
        ),
        (
            "embedded object from another origin",
            signed(&peer.key_id(0), now, foreign_object.to_string().as_bytes()),
            ct,
            foreign_object.to_string().into_bytes(),
            400,
        ),
        (
            "over-long inReplyTo",
            signed(&peer.key_id(0), now, long_reply.to_string().as_bytes()),
            ct,
            long_reply.to_string().into_bytes(),
            400,
        ),
        (
            "malformed JSON",
            signed(&peer.key_id(0), now, b"{\"id\":"),
            ct,
            b"{\"id\":".to_vec(),
            400,
        ),
        (
            "wrong content type",
            signed(&peer.key_id(0), now, &body),
            "text/plain",
            body.clone(),
            415,
        ),
        (
            "oversized body",
            vec![],
            ct,
            vec![b' '; 1024 * 1024 + 1],
            413,
        ),
        ("deeply nested body", vec![], ct, nested.into_bytes(), 400),
        (
            "unknown actor whose fetch fails",
            peer.sign(
                "http://127.0.0.1:1/users/x#main-key",
                "POST",
                &inbox,
                unknown_actor.to_string().as_bytes(),
                now,
            ),
            ct,
            unknown_actor.to_string().into_bytes(),
            401,
        ),
        (
            "blocked domain",
            vec![],
            ct,
            blocked.to_string().into_bytes(),
            403,
        ),
        (
            "follow of an unknown actor",
            peer.sign(
                &peer.key_id(0),
                "POST",
                &app.url("/inbox"),
                nobody.to_string().as_bytes(),
                now,
            ),
            ct,
            nobody.to_string().into_bytes(),
            404,
        ),
    ];
    for (what, headers, content_type, body, status) in cases {
        let url = if what == "follow of an unknown actor" {
            app.url("/inbox")
        } else {
            inbox.clone()
        };
        match try_raw(&client, &url, &headers, content_type, body).await {
            Ok(r) => {
                assert_eq!(r.status(), status, "{what}");
                let error: Value = r
                    .json()
                    .await
                    .unwrap_or_else(|e| panic!("{what}: no JSON error body: {e}"));
                assert!(error["error"].is_string(), "{what}: {error}");
            }
            // 413 only: see try_raw. What follows still holds.
            Err(e) if status == 413 && e.is_request() => {}
            Err(e) => panic!("{what}: {e}"),
        }
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM ap_activities").await,
            0,
            "{what} left an activity"
        );
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM followers").await,
            0,
            "{what} left a follower"
        );
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM objects").await,
            0,
            "{what} left a post"
        );
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM remote_actors WHERE key_id LIKE '%/fake/%'")
            .await,
        0,
        "a key from a document that is not the actor's was stored"
    );
    // The blocked domain was refused before anything was fetched.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM remote_actors WHERE domain = 'localhost'")
            .await,
        0
    );
}

async fn posts_reactions_and_undo_are_applied(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/inbox");
    let note_id = format!("{}/objects/n1", peer.base());
    let create = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor(0),
                   "content": "<p>hello<script>x()</script></p>"},
        // Mastodon embeds an LD signature; it is tolerated, not relied on.
        "signature": {"type": "RsaSignature2017", "creator": peer.key_id(0),
                      "created": "2026-11-25T00:00:00Z", "signatureValue": "Zm9v"}});
    assert_eq!(peer.post_as(0, &inbox, &create).await.status(), 202);
    let stored: Value = app
        .get(&format!("/api/v1/objects?id={note_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["content"], "<p>hello</p>", "content is sanitised");

    let update = json!({"id": peer.new_id(), "type": "Update", "actor": peer.actor(0),
        "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor(0), "content": "<p>edited</p>"}});
    assert_eq!(peer.post_as(0, &inbox, &update).await.status(), 202);
    let stored: Value = app
        .get(&format!("/api/v1/objects?id={note_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["content"], "<p>edited</p>");

    // Someone else may not edit it.
    let hijack = json!({"id": peer.new_id(), "type": "Update", "actor": peer.actor(1),
        "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor(1), "content": "mine"}});
    assert_eq!(peer.post_as(1, &inbox, &hijack).await.status(), 403);

    // Likes and announces of a post of ours are counted; Undo drops them.
    let token = app.token("blog").await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&json!({"content": "<p>ours</p>"}))
        .send_json()
        .await;
    let ours = created["id"].as_str().unwrap().to_string();
    let like = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": ours});
    let announce =
        json!({"id": peer.new_id(), "type": "Announce", "actor": peer.actor(1), "object": ours});
    assert_eq!(peer.post_as(0, &inbox, &like).await.status(), 202);
    assert_eq!(peer.post_as(1, &inbox, &announce).await.status(), 202);
    let doc = app.get_ap(&ours.replace(&app.base, "")).await;
    assert_eq!(doc["likes"]["totalItems"], 1);
    assert_eq!(doc["shares"]["totalItems"], 1);
    let undo = json!({"id": peer.new_id(), "type": "Undo", "actor": peer.actor(0), "object": like});
    assert_eq!(peer.post_as(0, &inbox, &undo).await.status(), 202);
    let doc = app.get_ap(&ours.replace(&app.base, "")).await;
    assert_eq!(doc["likes"]["totalItems"], 0);
    // Nobody can undo another's activity.
    let undo_other =
        json!({"id": peer.new_id(), "type": "Undo", "actor": peer.actor(0), "object": announce});
    assert_eq!(peer.post_as(0, &inbox, &undo_other).await.status(), 403);

    // A reply to our post is threaded to it.
    let reply = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": format!("{}/objects/r1", peer.base()), "type": "Note", "attributedTo": peer.actor(0),
                   "inReplyTo": ours, "content": "a reply"}});
    assert_eq!(peer.post_as(0, &inbox, &reply).await.status(), 202);
    let doc = app.get_ap(&ours.replace(&app.base, "")).await;
    assert_eq!(doc["replies"]["totalItems"], 1);

    // Delete leaves a Tombstone; a replayed Create does not revive it.
    let delete = json!({"id": peer.new_id(), "type": "Delete", "actor": peer.actor(0),
        "object": {"id": note_id, "type": "Tombstone"}});
    assert_eq!(peer.post_as(0, &inbox, &delete).await.status(), 202);
    let mut again = create.clone();
    again["id"] = json!(peer.new_id());
    assert_eq!(peer.post_as(0, &inbox, &again).await.status(), 202);
    let stored: Value = app
        .get(&format!("/api/v1/objects?id={note_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["type"], "Tombstone");

    // Flags are kept as reports; unknown types are accepted and ignored.
    let flag = json!({"id": peer.new_id(), "type": "Flag", "actor": peer.actor(0), "object": [ours], "content": "spam"});
    assert_eq!(peer.post_as(0, &inbox, &flag).await.status(), 202);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 1);
    // A post addressed only to our actor (a direct message) is not stored:
    // everything stored is served without login.
    let direct_id = format!("{}/objects/dm", peer.base());
    let direct = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [app.url("/actors/blog")],
        "object": {"id": direct_id, "type": "Note", "attributedTo": peer.actor(0), "to": [app.url("/actors/blog")], "content": "secret"}});
    assert_eq!(peer.post_as(0, &inbox, &direct).await.status(), 202);
    assert_eq!(
        app.get(&format!("/api/v1/objects?id={direct_id}"))
            .await
            .status(),
        404
    );
    let odd = json!({"id": peer.new_id(), "type": "Arrive", "actor": peer.actor(0)});
    assert_eq!(peer.post_as(0, &inbox, &odd).await.status(), 202);
}

async fn deleting_an_actor_removes_its_follows_and_content(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(false, false).await;
    let inbox = app.url("/inbox");
    assert_eq!(
        peer.post_as(0, &inbox, &peer.follow(0, &app.url("/actors/market")))
            .await
            .status(),
        202
    );
    let create = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": format!("{}/objects/x", peer.base()), "type": "Note", "attributedTo": peer.actor(0), "content": "bye"}});
    assert_eq!(peer.post_as(0, &inbox, &create).await.status(), 202);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 1);
    let delete = json!({"id": peer.new_id(), "type": "Delete", "actor": peer.actor(0), "object": peer.actor(0)});
    assert_eq!(peer.post_as(0, &inbox, &delete).await.status(), 202);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM objects").await, 0);
}

/// An app that approves followers by hand keeps a Follow pending until its
/// operator decides; its posts reach each follower server once, through
/// the shared inbox.
async fn manual_approval_and_shared_inbox_fan_out(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let blog = rosefed::actors::AppName::parse("blog").unwrap();
    rosefed::db::apps::set_manual(&app.state.db, &blog, true)
        .await
        .unwrap();
    let token = app.token("blog").await;
    let peer = Peer::start(true, true).await;
    for i in 0..3 {
        let r = peer
            .post_as(
                i,
                &app.url("/inbox"),
                &peer.follow(i, &app.url("/actors/blog")),
            )
            .await;
        assert_eq!(r.status(), 202);
    }
    let pending: Value = app
        .client
        .get(app.url("/api/v1/apps/blog/follow-requests"))
        .bearer_auth(&token)
        .send_json()
        .await;
    assert_eq!(pending["pending"].as_array().unwrap().len(), 3);
    assert_eq!(app.get_ap("/actors/blog/followers").await["totalItems"], 0);
    for i in 0..2 {
        let r = app
            .client
            .post(app.url("/api/v1/apps/blog/follow-requests/approve"))
            .bearer_auth(&token)
            .json(&json!({ "actor": peer.actor(i) }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/follow-requests/reject"))
        .bearer_auth(&token)
        .json(&json!({ "actor": peer.actor(2) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_ap("/actors/blog/followers").await["totalItems"], 2);

    let created: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&json!({ "content": "<p>for my two followers</p>" }))
        .send_json()
        .await;
    let activity = created["activity"]["id"].as_str().unwrap().to_string();
    let create = eventually("the Create to arrive", WAIT, || {
        let (peer, activity) = (peer.clone(), activity.clone());
        async move {
            peer.deliveries()
                .into_iter()
                .find(|d| d.activity["id"] == activity)
        }
    })
    .await;
    assert_eq!(
        create.inbox, "/inbox",
        "two followers on one server share one delivery"
    );
    assert!(create.verified);
    let answers: Vec<String> = peer
        .deliveries()
        .iter()
        .filter(|d| d.activity["type"] == "Accept" || d.activity["type"] == "Reject")
        .map(|d| format!("{} {}", d.activity["type"], d.inbox))
        .collect();
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM delivery_jobs WHERE activity_id IN (SELECT id FROM ap_activities WHERE activity_type = 'Create')").await,
        1
    );
    // Another app's token cannot act for blog.
    let r = app
        .client
        .post(app.url("/api/v1/apps/market/posts"))
        .bearer_auth(&token)
        .json(&json!({ "content": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .json(&json!({ "content": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

/// `thief` lists u0's key id in its own document. Learning about `thief`
/// (here: our app follows it) must not make u0's signatures resolve to
/// `thief`: key ids map to actors only when the key's own URL vouches.
async fn another_actors_document_cannot_take_over_a_key(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let token = app.token("blog").await;
    let thief = format!("{}/users/thief", peer.base());
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/follow"))
        .bearer_auth(&token)
        .json(&json!({ "target": thief }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(
        app.text("SELECT key_id FROM remote_actors WHERE id LIKE '%/users/thief'")
            .await
            .as_deref(),
        Some(peer.key_id(0).as_str()),
        "the thief's claim is on record (as what its document says)"
    );
    // u0 signs with its key: it is u0's, whatever thief's document says.
    for i in 0..2 {
        let follow = peer.follow(0, &app.url("/actors/blog"));
        let r = peer.post_as(0, &app.url("/inbox"), &follow).await;
        assert_eq!(r.status(), 202, "u0's delivery {i}");
    }
    assert_eq!(
        app.text(&format!(
            "SELECT actor_id FROM remote_keys WHERE key_id = '{}'",
            peer.key_id(0)
        ))
        .await
        .as_deref(),
        Some(peer.actor(0).as_str())
    );
    // And thief cannot use u0's key to speak as itself.
    let mut as_thief = peer.follow(0, &app.url("/actors/market"));
    as_thief["actor"] = json!(thief);
    as_thief["id"] = json!(format!("{}/activities/t", peer.base()));
    let r = peer.post_as(0, &app.url("/inbox"), &as_thief).await;
    assert_eq!(r.status(), 401);
}

/// A signature that leaves out the request target, the host, the date or
/// the digest proves too little and is refused; `hs2019` (what newer
/// servers name RSA signatures) is accepted end to end.
async fn a_signature_must_cover_target_host_date_and_digest(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/actors/blog/inbox");
    let client = federation_tests::http();
    let all = ["(request-target)", "host", "date", "digest"];
    // A fresh Follow by u0, signed over `covered` with `algorithm`.
    let send = |covered: Vec<&'static str>, algorithm: &'static str| {
        let (peer, client, inbox) = (peer.clone(), client.clone(), inbox.clone());
        let target = app.url("/actors/blog");
        async move {
            let body = peer.follow(0, &target).to_string().into_bytes();
            let headers = peer.sign_covering(
                &peer.key_id(0),
                "POST",
                &inbox,
                &body,
                SystemTime::now(),
                &covered,
                algorithm,
            );
            raw(&client, &inbox, &headers, "application/activity+json", body).await
        }
    };
    for missing in all {
        let covered = all.into_iter().filter(|h| *h != missing).collect();
        let r = send(covered, "rsa-sha256").await;
        assert_eq!(r.status(), 401, "without {missing}");
        let error: Value = r.json().await.unwrap();
        assert!(
            error["error"]
                .as_str()
                .unwrap_or("")
                .contains(missing.trim_matches(|c| c == '(' || c == ')')),
            "without {missing}: {error}"
        );
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 0);
    let r = send(all.to_vec(), "hs2019").await;
    assert_eq!(r.status(), 202, "hs2019");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 1);
}

/// A starting hub prunes received activities past retention (30 days by
/// default), in several pieces when there are many, and keeps recent ones
/// and its own outbox however old.
async fn received_activities_past_retention_are_pruned(db: TestDatabase) {
    let mut app = TestApp::spawn(db).await;
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let now = rosefed::db::now_millis();
    let rows = [
        // Expired received activities, several pieces' worth.
        ("expired", 2_500i64, 0i64, now - 40 * DAY_MS),
        ("recent", 3, 0, now - DAY_MS),
        ("outbox", 2, 1, now - 400 * DAY_MS),
    ];
    for (what, n, local, at) in rows {
        let done = sqlx::query(
            "INSERT INTO ap_activities (id, app_name, actor, activity_type, object_id, local, body, created_at) \
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1) \
             SELECT 'https://remote.example/' || $2 || '/' || i, NULL, \
                    'https://remote.example/users/someone', 'Like', NULL, $3, '{}', $4 FROM c",
        )
        .bind(n)
        .bind(what)
        .bind(local)
        .bind(at)
        .execute(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(done.rows_affected(), n as u64, "{what}");
    }
    let count = |what: &str| {
        format!(
            "SELECT COUNT(*) FROM ap_activities WHERE id LIKE 'https://remote.example/{what}/%'"
        )
    };
    // Pruning runs when the delivery worker starts, then hourly (the
    // first start may have pruned some already, racing the inserts).
    app.restart().await;
    eventually("the expired activities pruned", WAIT, || {
        let app = &app;
        let sql = count("expired");
        async move { (app.scalar(&sql).await == 0).then_some(()) }
    })
    .await;
    assert_eq!(app.scalar(&count("recent")).await, 3);
    assert_eq!(app.scalar(&count("outbox")).await, 2);
}
