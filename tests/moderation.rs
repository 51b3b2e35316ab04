//! Domain blocks as they act on a real peer, on SQLite and PostgreSQL: a
//! suspension refuses its servers, severs follows both ways and hides what
//! they posted; a silence keeps their posts off the timeline unless an app
//! follows the author; `reject_reports` drops their Flags. Imports are all
//! or nothing and idempotent, export → import gives the same file, and
//! every change is in the audit log. The peer is named `localhost` (the
//! hub is 127.0.0.1), which a development hub may block.

mod common;

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use federation_tests::peer::Peer;
use federation_tests::SendJson;
use rosefed::moderation::domain_blocks::{self, BlockSpec, Outcome, Severity};
use serde_json::{json, Value};

on_both_databases!(
    suspension_refuses_severs_and_hides,
    silence_keeps_posts_off_the_timeline_unless_followed,
    reject_reports_drops_flags,
    csv_imports_are_all_or_nothing_and_round_trip,
    the_timeline_pages_newest_first_with_counts,
);

/// The public timeline: newest first, a page at a time through `next`,
/// with counts, no deleted posts, nothing repeated or skipped.
async fn the_timeline_pages_newest_first_with_counts(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = peer().await;
    let token = app.token("blog").await;
    let mut ours = Vec::new();
    for i in 0..5 {
        let created: Value = app
            .client
            .post(app.url("/api/v1/apps/blog/posts"))
            .bearer_auth(&token)
            .json(&json!({"content": format!("<p>post {i}</p>")}))
            .send_json()
            .await;
        ours.push(created["id"].as_str().unwrap().to_string());
    }
    assert_eq!(post(&app, &peer, 0, "remote post").await, 202);
    let like =
        json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": ours[4]});
    assert_eq!(
        peer.post_as(0, &app.url("/inbox"), &like).await.status(),
        202
    );
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/delete"))
        .bearer_auth(&token)
        .json(&json!({"id": ours[0]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let mut seen: Vec<Value> = Vec::new();
    let mut url = app.url("/api/v1/timeline?limit=2");
    loop {
        let page: Value = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(page["orderedItems"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    let contents: Vec<&str> = seen
        .iter()
        .map(|o| o["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            "<p>remote post</p>",
            "<p>post 4</p>",
            "<p>post 3</p>",
            "<p>post 2</p>",
            "<p>post 1</p>"
        ],
        "newest first, each once, the deleted one left out"
    );
    assert_eq!(seen[1]["likes"]["totalItems"], 1);
}

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn peer() -> Peer {
    Peer::start_as(Some("localhost"), true, false).await
}

async fn block(app: &TestApp, severity: Severity, reject_reports: bool) {
    let spec = BlockSpec {
        severity,
        reject_reports,
        private_comment: "seen in the wild".into(),
        ..BlockSpec::suspend("localhost")
    };
    domain_blocks::apply(&app.state.db, &app.state.config, "root", &spec)
        .await
        .unwrap();
}

/// Actor `i` of the peer posts a public Note to the hub; the status.
async fn post(app: &TestApp, peer: &Peer, i: usize, text: &str) -> u16 {
    let note = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(i), "to": [PUBLIC],
        "object": {"id": peer.new_id(), "type": "Note", "attributedTo": peer.actor(i),
                   "to": [PUBLIC], "content": format!("<p>{text}</p>")}});
    peer.post_as(i, &app.url("/inbox"), &note)
        .await
        .status()
        .as_u16()
}

async fn timeline(app: &TestApp) -> String {
    let body: Value = app.get("/api/v1/timeline").await.json().await.unwrap();
    body["orderedItems"].to_string()
}

async fn suspension_refuses_severs_and_hides(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = peer().await;
    // u0 follows blog; blog follows u1.
    let follow = peer.follow(0, &app.url("/actors/blog"));
    assert_eq!(
        peer.post_as(0, &app.url("/actors/blog/inbox"), &follow)
            .await
            .status(),
        202
    );
    let token = app.token("blog").await;
    let _: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/follow"))
        .bearer_auth(&token)
        .json(&json!({"target": peer.actor(1)}))
        .send_json()
        .await;
    assert_eq!(post(&app, &peer, 0, "before the block").await, 202);
    assert!(timeline(&app).await.contains("before the block"));
    let follows = "SELECT (SELECT COUNT(*) FROM followers) + (SELECT COUNT(*) FROM following)";
    assert_eq!(app.scalar(follows).await, 2);

    block(&app, Severity::Suspend, false).await;
    assert_eq!(app.scalar(follows).await, 0, "follows severed both ways");
    assert!(
        !timeline(&app).await.contains("before the block"),
        "content hidden"
    );
    assert_eq!(
        post(&app, &peer, 0, "after").await,
        403,
        "refused at ingress"
    );
    let stored = app
        .scalar("SELECT COUNT(*) FROM objects WHERE content LIKE '%after%'")
        .await;
    assert_eq!(stored, 0);

    // The audit log has who, what and on what, with the comment.
    let entries = rosefed::db::audit_log::recent(&app.state.db, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (e.actor.as_str(), e.action.as_str(), e.target.as_str()),
        ("root", "domain_block.create", "localhost")
    );
    assert_eq!(e.comment, "seen in the wild");
    assert!(e.details.contains("\"follows_severed\":2"), "{}", e.details);

    // Lifted: accepted again, and that is logged too.
    domain_blocks::remove(&app.state.db, &app.state.config, "root", "localhost")
        .await
        .unwrap();
    assert_eq!(post(&app, &peer, 0, "welcome back").await, 202);
    let actions: Vec<String> = rosefed::db::audit_log::recent(&app.state.db, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["domain_block.remove", "domain_block.create"]);
}

async fn silence_keeps_posts_off_the_timeline_unless_followed(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = peer().await;
    // blog follows u1, and u1 accepts.
    let token = app.token("blog").await;
    let followed: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/follow"))
        .bearer_auth(&token)
        .json(&json!({"target": peer.actor(1)}))
        .send_json()
        .await;
    let accept = json!({"id": peer.new_id(), "type": "Accept", "actor": peer.actor(1),
        "object": followed["activity"]["id"]});
    assert_eq!(
        peer.post_as(1, &app.url("/actors/blog/inbox"), &accept)
            .await
            .status(),
        202
    );

    block(&app, Severity::Silence, false).await;
    // Still accepted (a silence is not a suspension)…
    assert_eq!(post(&app, &peer, 0, "from a stranger").await, 202);
    assert_eq!(post(&app, &peer, 1, "from a followed author").await, 202);
    // …but only the followed author's post is on the timeline.
    let shown = timeline(&app).await;
    assert!(!shown.contains("from a stranger"), "{shown}");
    assert!(shown.contains("from a followed author"), "{shown}");
    // Without the block both are.
    domain_blocks::remove(&app.state.db, &app.state.config, "root", "localhost")
        .await
        .unwrap();
    assert!(timeline(&app).await.contains("from a stranger"));
}

async fn reject_reports_drops_flags(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = peer().await;
    let flag = |peer: &Peer| {
        json!({"id": peer.new_id(), "type": "Flag", "actor": peer.actor(0),
               "object": [app.url("/actors/blog")], "content": "spam"})
    };
    let reports = "SELECT COUNT(*) FROM reports";
    block(&app, Severity::Noop, true).await;
    let r = peer.post_as(0, &app.url("/inbox"), &flag(&peer)).await;
    assert_eq!(r.status(), 202);
    assert_eq!(app.scalar(reports).await, 0, "dropped");
    // noop without reject_reports: kept.
    block(&app, Severity::Noop, false).await;
    let r = peer.post_as(0, &app.url("/inbox"), &flag(&peer)).await;
    assert_eq!(r.status(), 202);
    assert_eq!(app.scalar(reports).await, 1);
}

async fn csv_imports_are_all_or_nothing_and_round_trip(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (db, config) = (&app.state.db, &app.state.config);
    let csv = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
               loud.example,silence,false,true,\"Loud, often\",false\n\
               spam.example,suspend,true,false,Spam,true\n";
    let specs = domain_blocks::parse_csv(csv, config).unwrap();
    // The preview changes nothing.
    let plan = domain_blocks::plan(db, config, &specs).await.unwrap();
    assert!(plan.iter().all(|p| p.outcome == Outcome::Created));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 0);
    let done = domain_blocks::import(db, config, "root", &specs)
        .await
        .unwrap();
    assert_eq!(done.len(), 2);
    let exported = domain_blocks::to_csv(&domain_blocks::list(db).await.unwrap()).unwrap();
    assert_eq!(exported, csv, "export gives back the imported file");
    // Importing it again changes nothing and logs nothing.
    let logged = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(logged, 2);
    let again = domain_blocks::import(
        db,
        config,
        "root",
        &domain_blocks::parse_csv(&exported, config).unwrap(),
    )
    .await
    .unwrap();
    assert!(
        again.iter().all(|p| p.outcome == Outcome::Unchanged),
        "{again:?}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, logged);

    // Subdomains match by label: `_` in a blocked domain is no wildcard.
    let spec = BlockSpec::suspend("a_b.example");
    domain_blocks::apply(db, config, "root", &spec)
        .await
        .unwrap();
    let matching = |host: &'static str| rosefed::db::domain_blocks::matching(db, host);
    assert!(matching("x.a_b.example").await.unwrap().is_some());
    assert!(matching("a_b.example").await.unwrap().is_some());
    assert!(matching("x.aZb.example").await.unwrap().is_none());
    assert!(matching("xa_b.example").await.unwrap().is_none());
    domain_blocks::remove(db, config, "root", "a_b.example")
        .await
        .unwrap();

    // A file with one bad line imports nothing, and says which line.
    let bad = "#domain,#severity\nnew.example,suspend\nbad.example,ban\n";
    let errors = domain_blocks::parse_csv(bad, config).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 2);
}
