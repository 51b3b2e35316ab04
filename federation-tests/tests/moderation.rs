//! Domain blocks between two real rosefed instances: A (127.0.0.1, SQLite)
//! moderates B, named `localhost` (PostgreSQL). A silenced instance's posts
//! stay off A's timeline unless one of A's apps follows the author; a
//! suspended instance is refused, the follows between them end both ways,
//! and what it posted before is hidden.

use federation_tests::database::Backend;
use federation_tests::hub::cli;
use federation_tests::instance::Instance;
use federation_tests::wait_for;
use serde_json::{json, Value};

/// A's timeline (the public API) as text.
async fn timeline(a: &Instance) -> String {
    let body: Value = federation_tests::http()
        .get(a.url("/api/v1/timeline?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["orderedItems"].to_string()
}

/// Runs `rosefed ARGS` against `instance`'s database.
fn rosefed(instance: &Instance, args: &[&str]) -> String {
    let db = instance.db.as_ref().expect("an instance this test started");
    cli(&instance.base, &db.url, db.dir.path(), args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_and_suspension_between_two_instances() {
    if Instance::external("A").is_some() {
        eprintln!("skipped: needs to name and start its instances itself");
        return;
    }
    let Some(a) = Instance::spawn(Backend::Sqlite).await else {
        return;
    };
    let Some(b) = Instance::spawn_named(Backend::Postgres, "localhost", &[]).await else {
        return;
    };
    // The blogs follow each other.
    a.api("/follow", json!({ "target": b.url("/actors/blog") }))
        .await;
    b.api("/follow", json!({ "target": a.url("/actors/blog") }))
        .await;
    wait_for!(
        "both follows accepted",
        (
            a.total("/actors/blog/following").await,
            b.total("/actors/blog/following").await
        ),
        |n: &(i64, i64)| *n == (1, 1)
    );

    // A silences B's domain. B's blog, which A follows, still reaches A's
    // timeline; B's market, which A does not follow, is stored (its reply
    // to A's post arrives) but kept off the timeline.
    rosefed(
        &a,
        &["domain-blocks", "add", "localhost", "--severity", "silence"],
    );
    let (a_post, _) = a.publish("<p>from A</p>").await;
    wait_for!(
        "B to store A's post",
        b.stored(&a_post).await,
        |v: &Option<Value>| v.is_some()
    );
    let (followed, _) = b.publish("<p>by a followed author</p>").await;
    let out = rosefed(
        &b,
        &[
            "post",
            "market",
            "--content",
            "<p>by a stranger</p>",
            "--in-reply-to",
            &a_post,
        ],
    );
    let stranger = out
        .split_whitespace()
        .nth(1)
        .map(|id| id.trim_end_matches(';').to_string())
        .unwrap_or_else(|| panic!("no id in {out}"));
    wait_for!(
        "A to store both",
        (
            a.stored(&followed).await.is_some(),
            a.stored(&stranger).await.is_some()
        ),
        |v: &(bool, bool)| *v == (true, true)
    );
    let shown = timeline(&a).await;
    assert!(shown.contains("by a followed author"), "{shown}");
    assert!(!shown.contains("by a stranger"), "silenced: {shown}");

    // A suspends B's domain: the follows end both ways, B's posts leave
    // the timeline, and what B sends next is refused.
    let done = rosefed(
        &a,
        &["domain-blocks", "add", "localhost", "--severity", "suspend"],
    );
    assert!(done.contains("changed the block of localhost"), "{done}");
    assert_eq!(a.total("/actors/blog/following").await, 0);
    assert_eq!(a.total("/actors/blog/followers").await, 0);
    let shown = timeline(&a).await;
    assert!(
        !shown.contains("by a followed author") && !shown.contains("by a stranger"),
        "{shown}"
    );
    let (late, _) = b.publish("<p>after the suspension</p>").await;
    // B still counts A as a follower, so it delivers, and A refuses (403,
    // which B gives up on at once).
    wait_for!(
        "B to give up delivering to A",
        rosefed(&b, &["queue", "status"]),
        |status: &String| status.lines().any(|l| l.starts_with(&a.authority)
            && l.split_whitespace().nth(3).is_some_and(|dead| dead != "0"))
    );
    assert!(
        a.stored(&late).await.is_none(),
        "a suspended instance's post is not stored"
    );
    let log = rosefed(&a, &["audit-log", "list"]);
    assert!(
        log.contains("domain_block.create") && log.contains("domain_block.update"),
        "{log}"
    );
}
