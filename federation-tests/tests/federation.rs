//! Two real rosefed instances federating through their public HTTP APIs:
//! A on SQLite, B on PostgreSQL, each with its own public URL. Two rosefeds
//! speak sexp to each other (docs/sexp.md §8); with one side JSON-LD-only
//! the same flow runs in JSON-LD, and again with authorized fetch and one
//! side signing only draft-cavage. Plus the faults: a receiver down while
//! posts go out, a sender SIGKILLed in the middle of a fan-out, and two
//! processes sharing one queue.
//!
//! Set ROSEFED_A_URL, ROSEFED_A_TOKEN, ROSEFED_B_URL and ROSEFED_B_TOKEN
//! (tokens for each instance's `blog` app) to run the flow against two
//! instances that are already running, as docker-compose.federation.yml
//! does; the fault tests need to control processes and are skipped then.

use std::time::Duration;

use federation_tests::database::{Backend, TestDatabase};
use federation_tests::hub::{cli, Hub};
use federation_tests::instance::{Instance, FAST_DELIVERY as FAST};
use federation_tests::peer::Peer;
use federation_tests::{eventually, free_port, wait_for, WAIT};
use serde_json::{json, Value};

async fn pair() -> Option<(Instance, Instance)> {
    if let (Some(a), Some(b)) = (Instance::external("A"), Instance::external("B")) {
        return Some((a, b));
    }
    let a = Instance::spawn(Backend::Sqlite).await?;
    let b = Instance::spawn(Backend::Postgres).await?;
    Some((a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_publish_react_update_delete_unfollow() {
    let Some((a, b)) = pair().await else { return };
    flow(&a, &b).await;
    // Two rosefeds negotiate sexp: every activity of the flow, both ways.
    spoke_only(&a, "sexp").await;
    spoke_only(&b, "sexp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_json_ld_only_side_the_flow_runs_in_json_ld() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to start an instance with --no-sexp itself");
        return;
    }
    let Some(a) = Instance::spawn_with(Backend::Sqlite, &["--no-sexp"]).await else {
        return;
    };
    let Some(b) = Instance::spawn(Backend::Postgres).await else {
        return;
    };
    flow(&a, &b).await;
    spoke_only(&a, "jsonld").await;
    spoke_only(&b, "jsonld").await;
}

/// Modern signatures between two rosefeds, in JSON-LD so that HTTP
/// signatures and object proofs (not sexp envelopes) carry the proof: A
/// signs RFC 9421 (Ed25519), B only draft-cavage, and both demand signed
/// GETs (authorized fetch), so every actor fetch is a signed GET too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authorized_fetch_and_both_signature_schemes_the_flow_runs() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to start instances with their own flags");
        return;
    }
    let Some(a) = Instance::spawn_with(Backend::Sqlite, &["--no-sexp", "--authorized-fetch"]).await
    else {
        return;
    };
    let Some(b) = Instance::spawn_with(
        Backend::Postgres,
        &[
            "--no-sexp",
            "--authorized-fetch",
            "--http-signatures",
            "cavage",
        ],
    )
    .await
    else {
        return;
    };
    flow(&a, &b).await;
    spoke_only(&a, "jsonld").await;
    spoke_only(&b, "jsonld").await;
    // Between rosefeds every activity carries its FEP-8b32 proof, and the
    // proof is what authenticated it.
    for hub in [&a, &b] {
        if let Some(url) = &hub.metrics_url {
            let text = federation_tests::metrics::scrape(url).await;
            assert!(
                federation_tests::metrics::sum(
                    &text,
                    "rosefed_inbox_proven_total",
                    &["by=\"proof\""]
                ) > 0.0,
                "{text}"
            );
        }
    }
}

/// Asserts that `instance` received activities, all of them in `format`
/// (when its metrics can be read).
async fn spoke_only(instance: &Instance, format: &str) {
    let other = if format == "sexp" { "jsonld" } else { "sexp" };
    let (Some(wanted), Some(unwanted)) = (
        instance.received(format).await,
        instance.received(other).await,
    ) else {
        eprintln!("{}: metrics unknown; formats not checked", instance.base);
        return;
    };
    assert!(
        wanted > 0.0,
        "{}: nothing received in {format}",
        instance.base
    );
    assert_eq!(
        unwanted, 0.0,
        "{}: {unwanted} activities received in {other}",
        instance.base
    );
}

/// The whole flow between two instances: follow and accept, publish (HTML
/// and a sexp body), like, announce, update, undo, delete, unfollow.
async fn flow(a: &Instance, b: &Instance) {
    let a_blog = a.url("/actors/blog");

    // B's blog follows A's blog by handle; A accepts.
    b.api(
        "/follow",
        json!({ "target": format!("@blog@{}", a.authority) }),
    )
    .await;
    wait_for!(
        "A to count B as a follower",
        a.total("/actors/blog/followers").await,
        |n: &i64| *n == 1
    );
    wait_for!(
        "B to see its follow accepted",
        b.total("/actors/blog/following").await,
        |n: &i64| *n == 1
    );

    // A publishes; B stores the post.
    let post = a
        .api("/posts", json!({ "content": "<p>hello from A</p>" }))
        .await;
    let id = post["id"].as_str().unwrap().to_string();
    let copy = wait_for!("B to store A's post", b.stored(&id).await, |v: &Option<
        Value,
    >| v
        .is_some());
    let copy = copy.unwrap();
    assert_eq!(copy["content"], "<p>hello from A</p>");
    assert_eq!(copy["attributedTo"], a_blog);

    // A post written in sexp arrives as its tree and is shown as B renders
    // it, whichever format carried it.
    let tree = r#"(p "hello from " (em "A"))"#;
    let sexp_post = a
        .api(
            "/posts",
            json!({ "content": tree, "content_type": "application/sexp" }),
        )
        .await;
    let sexp_id = sexp_post["id"].as_str().unwrap().to_string();
    let sexp_copy = wait_for!(
        "B to store A's sexp post",
        b.stored(&sexp_id).await,
        |v: &Option<Value>| v.is_some()
    )
    .unwrap();
    assert_eq!(sexp_copy["content"], "<p>hello from <em>A</em></p>");
    assert_eq!(sexp_copy["source"]["content"], tree);
    assert_eq!(sexp_copy["source"]["mediaType"], "application/sexp");

    // B likes and announces; A counts them.
    b.api("/like", json!({ "object": id })).await;
    b.api("/announce", json!({ "object": id })).await;
    wait_for!(
        "A to count the like and the announce",
        a.stored(&id).await.unwrap_or_default(),
        |v: &Value| v["likes"]["totalItems"] == 1 && v["shares"]["totalItems"] == 1
    );

    // A updates; B shows the new text.
    a.api(
        "/posts/update",
        json!({ "id": id, "content": "<p>edited</p>" }),
    )
    .await;
    wait_for!(
        "B to show the edit",
        b.stored(&id).await.unwrap_or_default(),
        |v: &Value| v["content"] == "<p>edited</p>"
    );

    // B undoes the like; A's count drops.
    b.api("/unlike", json!({ "object": id })).await;
    wait_for!(
        "A to drop the like",
        a.stored(&id).await.unwrap_or_default(),
        |v: &Value| v["likes"]["totalItems"] == 0 && v["shares"]["totalItems"] == 1
    );

    // A deletes; B keeps a Tombstone.
    a.api("/posts/delete", json!({ "id": id })).await;
    wait_for!(
        "B to have a Tombstone",
        b.stored(&id).await.unwrap_or_default(),
        |v: &Value| v["type"] == "Tombstone"
    );

    // B unfollows; A stops delivering to it.
    b.api("/unfollow", json!({ "target": a_blog })).await;
    wait_for!(
        "A to drop the follower",
        a.total("/actors/blog/followers").await,
        |n: &i64| *n == 0
    );
    let after = a
        .api("/posts", json!({ "content": "<p>not for B</p>" }))
        .await;
    let after_id = after["id"].as_str().unwrap().to_string();
    // A marker post B does get proves deliveries have caught up.
    b.api("/follow", json!({ "target": a_blog })).await;
    wait_for!(
        "A to count B again",
        a.total("/actors/blog/followers").await,
        |n: &i64| *n == 1
    );
    let marker = a.api("/posts", json!({ "content": "<p>marker</p>" })).await;
    let marker_id = marker["id"].as_str().unwrap().to_string();
    wait_for!(
        "B to store the marker",
        b.stored(&marker_id).await,
        |v: &Option<Value>| v.is_some()
    );
    assert!(
        b.stored(&after_id).await.is_none(),
        "A delivered to an unfollower"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_receiver_gets_the_post_after_restart() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to stop and start the instances itself");
        return;
    }
    let Some((a, mut b)) = pair().await else {
        return;
    };
    b.api("/follow", json!({ "target": a.url("/actors/blog") }))
        .await;
    wait_for!(
        "A to count B",
        a.total("/actors/blog/followers").await,
        |n: &i64| *n == 1
    );

    let mut hub_b = b.hub.take().unwrap();
    assert!(hub_b.terminate().await.success());
    let post = a
        .api("/posts", json!({ "content": "<p>while you were out</p>" }))
        .await;
    let id = post["id"].as_str().unwrap().to_string();

    let db = b.db.as_ref().unwrap();
    let restarted = Hub::start_on(hub_b.port, &db.url, db.dir.path(), FAST).await;
    b.hub = Some(restarted);
    let copy = wait_for!(
        "B to get the post after its restart",
        b.stored(&id).await,
        |v: &Option<Value>| v.is_some()
    );
    assert_eq!(copy.unwrap()["content"], "<p>while you were out</p>");
}

/// Publishes a post as `blog` on `hub`; returns the Create's id.
async fn publish(hub: &Hub, token: &str, content: &str) -> String {
    let blog = Instance::at(&hub.base, token).expect("a hub's base is a URL");
    blog.publish(content).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_in_the_middle_of_a_fan_out_loses_nothing() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to start and kill processes itself");
        return;
    }
    const N: usize = 300;
    let Some(db) = TestDatabase::create(Backend::Sqlite).await else {
        return;
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let token = cli(&base, &db.url, db.dir.path(), &["apps", "token", "blog"])
        .trim()
        .to_string();
    let mut hub = Hub::start_on(port, &db.url, db.dir.path(), FAST).await;
    let peer = Peer::start(false, true).await;
    peer.gather_followers(N, &hub.url("/actors/blog"), &hub.url("/inbox"))
        .await;

    // Slow deliveries down so the kill lands in the middle of the fan-out.
    peer.delay_deliveries(25);
    let activity = publish(&hub, &token, "<p>to everyone</p>").await;
    eventually("the fan-out to start", WAIT, || {
        let (peer, activity) = (peer.clone(), activity.clone());
        async move { (peer.per_inbox(&activity).len() >= 20).then_some(()) }
    })
    .await;
    hub.kill();
    let at_kill = peer.per_inbox(&activity).len();
    assert!(
        at_kill < N,
        "the fan-out finished before the kill; nothing was tested"
    );
    peer.delay_deliveries(0);

    let _restarted = Hub::start_on(port, &db.url, db.dir.path(), FAST).await;
    let seen = eventually("every inbox to get the post", WAIT, || {
        let (peer, activity) = (peer.clone(), activity.clone());
        async move {
            let seen = peer.per_inbox(&activity);
            (seen.len() == N).then_some(seen)
        }
    })
    .await;
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("fan-out to {N}: {at_kill} inboxes reached before SIGKILL, 0 lost, {duplicates} re-sent (receivers dedup by id)");
    assert!(
        peer.deliveries().iter().all(|d| d.verified),
        "every delivery is signed verifiably"
    );
    // A re-sent delivery can only be one in flight at the kill.
    assert!(duplicates <= 64, "{duplicates} duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_queue_and_deliver_once() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to start and kill processes itself");
        return;
    }
    const N: usize = 200;
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let public = free_port();
    let base = format!("http://127.0.0.1:{public}");
    let token = cli(&base, &db.url, db.dir.path(), &["apps", "token", "blog"])
        .trim()
        .to_string();
    let metrics = [free_port(), free_port()];
    let flags = |m: &u16| {
        let mut f: Vec<String> = FAST.iter().map(|s| s.to_string()).collect();
        f.extend(["--metrics-bind".to_string(), format!("127.0.0.1:{m}")]);
        f
    };
    let (f1, f2) = (flags(&metrics[0]), flags(&metrics[1]));
    let f1: Vec<&str> = f1.iter().map(String::as_str).collect();
    let f2: Vec<&str> = f2.iter().map(String::as_str).collect();
    let mut one = Hub::spawn_behind(public, public, &db.url, db.dir.path(), &f1);
    one.wait_healthy().await;
    let mut two = Hub::spawn_behind(public, free_port(), &db.url, db.dir.path(), &f2);
    two.wait_healthy().await;

    let peer = Peer::start(false, true).await;
    peer.gather_followers(N, &one.url("/actors/blog"), &one.url("/inbox"))
        .await;
    // Slow enough that the second process's polling worker joins in.
    peer.delay_deliveries(20);
    let activity = publish(&one, &token, "<p>scaled out</p>").await;
    let seen = eventually("every inbox to get the post", WAIT, || {
        let (peer, activity) = (peer.clone(), activity.clone());
        async move {
            let seen = peer.per_inbox(&activity);
            (seen.len() == N).then_some(seen)
        }
    })
    .await;
    // Give a would-be double delivery the time to land before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen_after = peer.per_inbox(&activity);
    assert_eq!(seen, seen_after);
    assert!(
        seen.values().all(|n| *n == 1),
        "some inbox got the post twice: {seen:?}"
    );
    assert!(
        peer.deliveries().iter().all(|d| d.verified),
        "every delivery is signed verifiably"
    );
    // Both processes took part: each reports deliveries of its own.
    for port in metrics {
        let text = federation_tests::http()
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let delivered = federation_tests::metrics::sum(
            &text,
            "rosefed_deliveries_total",
            &["outcome=\"delivered\""],
        );
        assert!(
            delivered > 0.0,
            "process with metrics on {port} delivered nothing:\n{text}"
        );
    }
}
