//! What apps are told, through the real server on SQLite and PostgreSQL:
//! follows and follow requests, likes, announces, replies and mentions are
//! recorded once each and read newest first a page at a time; an app's
//! webhook receives each as JSON signed with HMAC-SHA256, retried when it
//! fails.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::peer::Peer;
use federation_tests::{eventually, on_both_databases, SendJson};
use rosefed::actors::AppName;
use serde_json::{json, Value};

on_both_databases!(
    notifications_are_recorded_once_and_paged,
    webhooks_are_signed_and_retried,
);

/// A request the webhook receiver got: its headers and body.
type Call = (HeaderMap, Vec<u8>);

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn notifications(
    app: &TestApp,
    token: &str,
    name: &str,
    query: &str,
) -> (Vec<Value>, Option<String>) {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/apps/{name}/notifications{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let link = r
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_string());
    (r.json().await.unwrap(), link)
}

async fn notifications_are_recorded_once_and_paged(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/inbox");
    let blog = app.url("/actors/blog");
    rosefed::db::apps::set_manual(&app.state.db, &AppName::parse("market").unwrap(), true)
        .await
        .unwrap();
    let token = app.token("blog").await;
    let ours: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&json!({"content": "<p>ours</p>"}))
        .send_json()
        .await;
    let ours = ours["id"].as_str().unwrap().to_string();

    let send = |i: usize, activity: Value| {
        let peer = &peer;
        let inbox = inbox.clone();
        async move { assert_eq!(peer.post_as(i, &inbox, &activity).await.status(), 202) }
    };
    send(0, peer.follow(0, &blog)).await;
    send(1, peer.follow(1, &app.url("/actors/market"))).await;
    let like = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": ours});
    send(0, like.clone()).await;
    send(0, like).await; // a replay: no second notification
    send(
        1,
        json!({"id": peer.new_id(), "type": "Announce", "actor": peer.actor(1), "object": ours}),
    )
    .await;
    let note = |i: usize, extra: Value| {
        let mut object = json!({"id": peer.new_id(), "type": "Note", "attributedTo": peer.actor(i),
            "to": [PUBLIC], "content": "<p>hi</p>"});
        for (k, v) in extra.as_object().unwrap() {
            object[k] = v.clone();
        }
        json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(i), "to": [PUBLIC], "object": object})
    };
    let mention = json!([{"type": "Mention", "href": blog}]);
    // A reply that also mentions blog is one notification (a reply).
    send(0, note(0, json!({"inReplyTo": ours, "tag": mention}))).await;
    send(2, note(2, json!({"tag": mention}))).await;
    // A mention of someone else tells blog nothing.
    send(
        2,
        note(
            2,
            json!({"tag": [{"type": "Mention", "href": peer.actor(5)}]}),
        ),
    )
    .await;

    let (all, _) = notifications(&app, &token, "blog", "").await;
    let kinds: Vec<&str> = all.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["mention", "reply", "announce", "like", "follow"],
        "{all:?}"
    );
    assert_eq!(all[3]["actor"], peer.actor(0));
    assert_eq!(all[3]["object"], ours);
    assert!(
        all[1]["object"].as_str().unwrap().starts_with(peer.base()),
        "the reply itself"
    );

    // Pages of two, following the Link header.
    let (first, link) = notifications(&app, &token, "blog", "?limit=2").await;
    assert_eq!(first.len(), 2);
    let next = link.expect("a next page");
    let url = next
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let (second, _) = notifications(&app, &token, "blog", &url[url.find('?').unwrap()..]).await;
    assert_eq!(second[0]["id"], all[2]["id"]);

    // Each app sees its own; another app's token is refused.
    let market = app.token("market").await;
    let (theirs, _) = notifications(&app, &market, "market", "").await;
    let kinds: Vec<&str> = theirs.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["follow_request"]);
    let r = app
        .client
        .get(app.url("/api/v1/apps/blog/notifications"))
        .bearer_auth(&market)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

async fn webhooks_are_signed_and_retried(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |a| {
        a.federation.delivery_retry_base_ms = 50;
        a.federation.delivery_poll_ms = 50;
    })
    .await;
    // The app's receiver: refuses the first call (500), then accepts.
    let received: Arc<Mutex<Vec<Call>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| async move {
                let mut calls = received.lock().unwrap();
                calls.push((headers, body.to_vec()));
                if calls.len() == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let blog = AppName::parse("blog").unwrap();
    let secret = rosefed::notifications::set_webhook(&app.state.db, &app.state.config, &blog, &url)
        .await
        .unwrap();
    assert!(secret.starts_with("whsec_"));
    for bad in ["ftp://x.example/", "not a url", "/relative"] {
        assert!(
            rosefed::notifications::set_webhook(&app.state.db, &app.state.config, &blog, bad)
                .await
                .is_err(),
            "{bad}"
        );
    }

    let peer = Peer::start(true, false).await;
    let r = peer
        .post_as(
            0,
            &app.url("/inbox"),
            &peer.follow(0, &app.url("/actors/blog")),
        )
        .await;
    assert_eq!(r.status(), 202);
    eventually(
        "the webhook retried and accepted",
        Duration::from_secs(30),
        || async { (received.lock().unwrap().len() >= 2).then_some(()) },
    )
    .await;
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls[0].1, calls[1].1, "the same notification, retried");
    let (headers, body) = &calls[1];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        headers["x-rosefed-signature"].to_str().unwrap(),
        rosefed::notifications::sign(&secret, body)
    );
    assert_ne!(
        headers["x-rosefed-signature"].to_str().unwrap(),
        rosefed::notifications::sign("another secret", body),
        "the signature depends on the secret"
    );
    let n: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(n["type"], "follow");
    assert_eq!(n["app"], "blog");
    assert_eq!(n["actor"], peer.actor(0));
    // The worker records the outcome after the receiver has answered.
    eventually(
        "the webhook job recorded as done",
        Duration::from_secs(30),
        || async {
            let done = app
                .scalar(
                    "SELECT COUNT(*) FROM delivery_jobs WHERE kind = 'webhook' AND state = 'done'",
                )
                .await;
            (done == 1).then_some(())
        },
    )
    .await;
}
