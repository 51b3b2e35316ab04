//! Faults across containers: rosefed-a (SQLite) and rosefed-b (PostgreSQL)
//! each in its own container on a private network, as
//! docker-compose.federation.yml runs them. Each scenario runs inside the
//! federation-tests container and asks the host for its faults
//! ([`federation_tests::faults`]); `federation-tests/docker/run.sh` runs
//! them one by one on fresh volumes. They are `#[ignore]`d in a plain
//! `cargo test`, which has no containers to break.
//!
//! - A is SIGKILLed in the middle of a fan-out and started again: every
//!   inbox gets the post, none is lost.
//! - B is cut off the network while A publishes, edits and deletes: after
//!   reconnecting, the backlog arrives and each post ends in its last state
//!   (per-object order is what the delivery queue guarantees).
//! - B's PostgreSQL is stopped: B's `/health` says 503; when the database
//!   is back, B recovers without being restarted and nothing sent to it
//!   meanwhile is lost.

use federation_tests::faults::{fault, peer_host, scrape};
use federation_tests::instance::Instance;
use federation_tests::peer::Peer;
use federation_tests::{eventually, wait_for, WAIT};
use serde_json::{json, Value};

/// Failed delivery attempts (to be retried), in any format.
fn retries(scrape: &str) -> f64 {
    federation_tests::metrics::sum(scrape, "rosefed_deliveries_total", &["outcome=\"retry\""])
}

/// The two containers, from the environment the compose file sets.
fn containers() -> (Instance, Instance) {
    match (Instance::external("A"), Instance::external("B")) {
        (Some(a), Some(b)) => (a, b),
        _ => panic!(
            "ROSEFED_{{A,B}}_{{URL,TOKEN}} name the containers; run federation-tests/docker/run.sh"
        ),
    }
}

/// B's blog follows A's blog; waits until A counts one more follower.
async fn b_follows_a(a: &Instance, b: &Instance) {
    let before = a.total("/actors/blog/followers").await;
    b.api("/follow", json!({ "target": a.url("/actors/blog") }))
        .await;
    wait_for!(
        "A to count B's blog as a follower",
        a.total("/actors/blog/followers").await,
        |n: &i64| *n == before + 1
    );
}

async fn health(instance: &Instance) -> Option<(u16, Value)> {
    let r = federation_tests::http()
        .get(instance.url("/health"))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.json().await.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the containers: federation-tests/docker/run.sh"]
async fn sigkill_of_a_in_the_middle_of_a_fan_out_loses_nothing() {
    const N: usize = 200;
    let (a, b) = containers();
    b_follows_a(&a, &b).await;
    let peer = Peer::start_as(Some(&peer_host()), false, true).await;
    peer.gather_followers(N, &a.url("/actors/blog"), &a.url("/inbox"))
        .await;

    // A delivers to one host 8 at a time; at half a second each the fan-out
    // takes over ten seconds, so the kill, which crosses to the host and
    // back, lands in the middle of it.
    peer.delay_deliveries(500);
    let (post, activity) = a.publish("<p>to everyone</p>").await;
    eventually("the fan-out to start", WAIT, || {
        let reached = peer.per_inbox(&activity).len();
        async move { (reached >= 16).then_some(()) }
    })
    .await;
    fault("kill rosefed-a").await;
    let at_kill = peer.per_inbox(&activity).len();
    assert!(
        at_kill < N,
        "the fan-out finished before the kill; nothing was tested"
    );
    peer.delay_deliveries(0);
    fault("start rosefed-a").await;

    let seen = eventually("every peer inbox to get the post", WAIT, || {
        let seen = peer.per_inbox(&activity);
        async move { (seen.len() == N).then_some(seen) }
    })
    .await;
    wait_for!(
        "B to store the post",
        b.stored(&post).await,
        |v: &Option<Value>| v.is_some()
    );
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "fan-out to {N} inboxes + B: {at_kill} reached before SIGKILL, 0 lost, {duplicates} re-sent (receivers dedup by id)"
    );
    assert!(
        peer.deliveries().iter().all(|d| d.verified),
        "every delivery is signed verifiably"
    );
    // Only deliveries in flight at the kill can be sent twice.
    assert!(duplicates <= 64, "{duplicates} duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the containers: federation-tests/docker/run.sh"]
async fn a_partitioned_b_gets_the_backlog_in_order() {
    let (a, b) = containers();
    b_follows_a(&a, &b).await;
    let retries_before = retries(&scrape("A").await);

    fault("disconnect rosefed-b").await;
    // While B is unreachable: a post edited twice, a post created then
    // deleted, and a plain post. Each must end in its last state on B, which
    // only happens if each post's activities arrive in order.
    let (edited, _) = a.publish("<p>v1</p>").await;
    for content in ["<p>v2</p>", "<p>v3</p>"] {
        a.api("/posts/update", json!({ "id": edited, "content": content }))
            .await;
    }
    let (deleted, _) = a.publish("<p>short-lived</p>").await;
    a.api("/posts/delete", json!({ "id": deleted })).await;
    let (plain, _) = a.publish("<p>after the cut</p>").await;
    // The partition is real and lasts: A has failed at B several times
    // over (three posts, each retried with backoff) before it heals.
    let cut = std::time::Instant::now();
    let retries = wait_for!(
        "A to fail deliveries to the unreachable B, round after round",
        retries(&scrape("A").await),
        |n: &f64| *n >= retries_before + 9.0
    );
    fault("connect rosefed-b").await;
    eprintln!(
        "partition held {:.1}s after the last post; A failed {} delivery attempts to B meanwhile",
        cut.elapsed().as_secs_f64(),
        retries - retries_before
    );

    let got = wait_for!(
        "B to show the last edit",
        b.stored(&edited).await.unwrap_or_default(),
        |v: &Value| v["content"] == "<p>v3</p>"
    );
    assert_eq!(got["type"], "Note", "{got}");
    wait_for!(
        "B to hold a Tombstone for the deleted post",
        b.stored(&deleted).await.unwrap_or_default(),
        |v: &Value| v["type"] == "Tombstone"
    );
    wait_for!(
        "B to store the plain post",
        b.stored(&plain).await,
        |v: &Option<Value>| v.is_some()
    );
    // And the link works both ways again: B's reaction reaches A.
    b.api("/like", json!({ "object": plain })).await;
    wait_for!(
        "A to count B's like",
        a.stored(&plain).await.unwrap_or_default(),
        |v: &Value| v["likes"]["totalItems"] == 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the containers: federation-tests/docker/run.sh"]
async fn b_rides_out_a_database_outage_without_a_restart() {
    let (a, b) = containers();
    b_follows_a(&a, &b).await;
    let started = fault("started rosefed-b").await;

    fault("stop postgres").await;
    let (status, body) = wait_for!(
        "B's /health to report the database down",
        health(&b).await.unwrap_or((0, Value::Null)),
        |(s, _): &(u16, Value)| *s == 503
    );
    assert_eq!(body["database"]["status"], "unreachable", "{status} {body}");
    // Sent while B cannot store anything: A must keep it until B can.
    let retries_before = retries(&scrape("A").await);
    let (post, _) = a.publish("<p>during the outage</p>").await;
    wait_for!(
        "B to refuse a delivery while its database is down",
        retries(&scrape("A").await),
        |n: &f64| *n > retries_before
    );

    fault("start postgres").await;
    wait_for!(
        "B's /health to recover",
        health(&b).await.map(|(s, _)| s),
        |s: &Option<u16>| *s == Some(200)
    );
    let copy = wait_for!(
        "B to store the post sent during the outage",
        b.stored(&post).await,
        |v: &Option<Value>| v.is_some()
    );
    assert_eq!(
        copy.unwrap_or_default()["content"],
        "<p>during the outage</p>"
    );
    // B writes again: it publishes, and A receives it.
    a.api("/follow", json!({ "target": b.url("/actors/blog") }))
        .await;
    wait_for!(
        "B to count A as a follower",
        b.total("/actors/blog/followers").await,
        |n: &i64| *n == 1
    );
    let (from_b, _) = b.publish("<p>B is back</p>").await;
    wait_for!(
        "A to store B's post",
        a.stored(&from_b).await,
        |v: &Option<Value>| v.is_some()
    );
    assert_eq!(
        fault("started rosefed-b").await,
        started,
        "rosefed-b was restarted; it should have recovered by itself"
    );
}
