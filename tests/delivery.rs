//! Delivery behaviour against a stand-in remote server: ordering per
//! object, hosts marked unavailable and revived, and key rotation on the
//! receiving side. Short timings come from flags, as an operator would set
//! them. Every test runs on SQLite and PostgreSQL, except the refresh of
//! PostgreSQL's statistics, which SQLite does not keep.

mod common;

use std::time::Duration;

use common::TestApp;
use federation_tests::database::{Backend, TestDatabase};
use federation_tests::peer::Peer;
use federation_tests::{eventually, on_both_databases};
use serde_json::{json, Value};

on_both_databases!(
    an_update_never_overtakes_its_create,
    an_unavailable_host_waits_until_it_is_heard_from,
    a_rotated_key_is_fetched_again,
);

const WAIT: Duration = Duration::from_secs(30);

async fn fast_app(db: TestDatabase, unavailable_after_secs: u64) -> TestApp {
    TestApp::spawn_with(db, |a| {
        a.federation.delivery_retry_base_ms = 100;
        a.federation.delivery_poll_ms = 50;
        a.federation.delivery_unavailable_after_secs = unavailable_after_secs;
    })
    .await
}

/// A token for blog and a peer actor following it (Accept delivered).
async fn followed(app: &TestApp, peer: &Peer) -> String {
    let token = app.token("blog").await;
    let r = peer
        .post_as(
            0,
            &app.url("/inbox"),
            &peer.follow(0, &app.url("/actors/blog")),
        )
        .await;
    assert_eq!(r.status(), 202);
    eventually("the Accept", WAIT, || {
        let peer = peer.clone();
        async move { (peer.count("Accept", None) == 1).then_some(()) }
    })
    .await;
    token
}

async fn api(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/apps/blog{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn an_update_never_overtakes_its_create(db: TestDatabase) {
    let app = fast_app(db, 3600).await;
    let peer = Peer::start(true, false).await;
    let token = followed(&app, &peer).await;

    peer.answer_with(503);
    let created = api(&app, &token, "/posts", json!({ "content": "<p>v1</p>" })).await;
    let id = created["id"].as_str().unwrap().to_string();
    api(
        &app,
        &token,
        "/posts/update",
        json!({ "id": id, "content": "<p>v2</p>" }),
    )
    .await;
    eventually("the Create to fail at least once", WAIT, || async {
        let attempts = app
            .scalar("SELECT COALESCE(MAX(attempts), 0) FROM delivery_jobs j JOIN ap_activities a ON a.id = j.activity_id WHERE a.activity_type = 'Create'")
            .await;
        (attempts >= 2).then_some(())
    })
    .await;
    let update_attempts = app
        .scalar("SELECT COALESCE(MAX(attempts), 0) FROM delivery_jobs j JOIN ap_activities a ON a.id = j.activity_id WHERE a.activity_type = 'Update'")
        .await;
    assert_eq!(
        update_attempts, 0,
        "the Update was tried while its Create was pending"
    );

    peer.answer_with(202);
    eventually("both to arrive", WAIT, || {
        let peer = peer.clone();
        async move { (peer.count("Create", None) == 1 && peer.count("Update", None) == 1).then_some(()) }
    })
    .await;
    let order: Vec<String> = peer
        .deliveries()
        .iter()
        .filter(|d| d.activity["type"] == "Create" || d.activity["type"] == "Update")
        .map(|d| d.activity["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(order, ["Create", "Update"]);
    // What `rosefed queue status` shows: one host, all delivered (once the
    // worker has recorded the answer the peer has already sent).
    eventually("the queue to show all three delivered", WAIT, || {
        let db = app.state.db.clone();
        async move {
            let status = rosefed::db::delivery::status(&db).await.unwrap();
            (status.len() == 1 && (status[0].pending, status[0].dead, status[0].done) == (0, 0, 3))
                .then_some(())
        }
    })
    .await;
}

async fn an_unavailable_host_waits_until_it_is_heard_from(db: TestDatabase) {
    // Failing at all counts as "for days" here.
    let app = fast_app(db, 0).await;
    let peer = Peer::start(true, false).await;
    let token = followed(&app, &peer).await;

    peer.answer_with(503);
    api(
        &app,
        &token,
        "/posts",
        json!({ "content": "<p>hello?</p>" }),
    )
    .await;
    eventually("the host to be marked unavailable", WAIT, || async {
        (app.scalar("SELECT COUNT(*) FROM hosts WHERE unavailable = 1")
            .await
            == 1)
            .then_some(())
    })
    .await;
    peer.answer_with(202);
    let attempts_before = app
        .scalar("SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM delivery_jobs")
        .await;
    // Asserting that nothing happens needs a window: ten poll intervals.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.scalar("SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM delivery_jobs")
            .await,
        attempts_before,
        "an unavailable host was retried"
    );
    assert_eq!(peer.count("Create", None), 0);

    // Hearing from the host (any signed activity) makes it deliverable.
    let like = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": app.url("/objects/x")});
    assert_eq!(
        peer.post_as(0, &app.url("/inbox"), &like).await.status(),
        202
    );
    eventually("the Create after the host came back", WAIT, || {
        let peer = peer.clone();
        async move { (peer.count("Create", None) == 1).then_some(()) }
    })
    .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM hosts WHERE unavailable = 1")
            .await,
        0
    );
}

async fn a_rotated_key_is_fetched_again(db: TestDatabase) {
    let app = fast_app(db, 3600).await;
    let peer = Peer::start(true, false).await;
    followed(&app, &peer).await;
    let cached = app.scalar("SELECT COUNT(*) FROM remote_actors").await;
    assert_eq!(cached, 1);

    peer.rotate_key();
    let like = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": app.url("/objects/y")});
    let r = peer.post_as(0, &app.url("/inbox"), &like).await;
    assert_eq!(
        r.status(),
        202,
        "a signature by the rotated key verifies after one refetch"
    );
    let pem: String = sqlx::query_scalar("SELECT public_key_pem FROM remote_actors")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let served = federation_tests::get_ap_json(&app.client, &peer.actor(0)).await;
    assert_eq!(pem, served["publicKey"]["publicKeyPem"].as_str().unwrap());

    // A second failure within the minute does not refetch: bad signatures
    // cannot make the hub hammer a server.
    peer.rotate_key();
    let again = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": app.url("/objects/z")});
    assert_eq!(
        peer.post_as(0, &app.url("/inbox"), &again).await.status(),
        401
    );
}

/// A fan-out that fills a claim refreshes PostgreSQL's statistics of the
/// queue (`db::delivery::refresh_statistics`): taken over delivered jobs
/// only, they had claims planned as a sort of every pending job. Only a
/// manual `ANALYZE` sets `last_analyze` (autovacuum sets
/// `last_autoanalyze`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_refreshes_the_queue_statistics_on_postgres() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let app = TestApp::spawn_with(db, |a| {
        a.federation.delivery_poll_ms = 50;
        // A claim asks for two windows: four jobs fill it.
        a.federation.delivery_concurrency = 2;
    })
    .await;
    let peer = Peer::start(false, true).await;
    let token = app.token("blog").await;
    peer.gather_followers(12, &app.url("/actors/blog"), &app.url("/inbox"))
        .await;
    let created = api(
        &app,
        &token,
        "/posts",
        json!({ "content": "<p>to all</p>" }),
    )
    .await;
    let activity = created["activity"]["id"].as_str().unwrap().to_string();
    eventually("every delivery", WAIT, || {
        let (peer, activity) = (peer.clone(), activity.clone());
        async move { (peer.per_inbox(&activity).len() == 12).then_some(()) }
    })
    .await;
    eventually("the queue's statistics refreshed", WAIT, || {
        let pool = app.state.db.pool().clone();
        async move {
            let analyzed: bool = sqlx::query_scalar(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables \
                 WHERE relname = 'delivery_jobs'",
            )
            .fetch_one(&pool)
            .await
            .unwrap_or(false);
            analyzed.then_some(())
        }
    })
    .await;
}
