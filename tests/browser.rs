//! The public pages in a real browser (headless Chromium from Debian's
//! packages, through chromedriver): a profile page with posts and a post
//! page with a hostile remote reply render, run no script, and show the
//! hostile text as text. Screenshots go to `target/screenshots/` for
//! reviewers.

mod common;

use common::chromium::Chromium;
use common::TestApp;
use fantoccini::Locator;
use federation_tests::database::{Backend, TestDatabase};
use federation_tests::peer::Peer;
use federation_tests::SendJson;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_and_post_pages_in_chromium() {
    let Some(browser) = Chromium::start().await else {
        return;
    };
    let db = TestDatabase::create(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(false, false).await;
    let token = app.token("blog").await;
    let mut ids = Vec::new();
    for (i, body) in [
        json!({"content": "<p>Welcome to the <strong>co-op blog</strong>.</p>"}),
        json!({"type": "Article", "name": "Market day", "content": "<p>Stalls open at <em>nine</em>.</p>"}),
        json!({"content": "<p>Third post, with a <a href=\"https://example.org/\">link</a>.</p>"}),
    ]
    .into_iter()
    .enumerate()
    {
        let created: Value = app
            .client
            .post(app.url("/api/v1/apps/blog/posts"))
            .bearer_auth(&token)
            .json(&body)
            .send_json()
            .await;
        ids.push(created["id"].as_str().unwrap_or_else(|| panic!("post {i}: {created}")).to_string());
    }
    let reply = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": format!("{}/objects/r1", peer.base()), "type": "Note",
                   "attributedTo": peer.actor(0), "inReplyTo": ids[0],
                   "content": "<p>Lovely <img src=x onerror=alert(1)><script>alert(2)</script></p>"}});
    assert_eq!(
        peer.post_as(0, &app.url("/actors/blog/inbox"), &reply)
            .await
            .status(),
        202
    );

    let c = &browser.client;
    c.goto(&app.url("/@blog")).await.expect("open the profile");
    assert_eq!(
        c.title().await.unwrap(),
        format!("Blog (@blog@{})", app.authority)
    );
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Blog");
    let posts = c.find_all(Locator::Css("article.post")).await.unwrap();
    assert_eq!(posts.len(), 3);
    assert!(
        posts[0].text().await.unwrap().contains("Third post"),
        "newest first"
    );
    // The avatar loads as an image the browser can decode.
    let avatar_width: Value = c
        .execute(
            "return document.querySelector('img.icon').naturalWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        avatar_width.as_u64().unwrap_or(0) > 0,
        "avatar decoded: {avatar_width}"
    );
    browser.screenshot("profile").await;

    // The post with the hostile reply: its author's name is shown as text,
    // and nothing ran (no dialog is open).
    c.goto(&ids[0]).await.expect("open the post");
    let replies = c
        .find(Locator::Css("section[aria-labelledby=replies]"))
        .await
        .unwrap();
    let text = replies.text().await.unwrap();
    assert!(
        text.contains("<script>alert('u0')</script>u0 & co"),
        "{text}"
    );
    assert!(text.contains("Lovely"), "{text}");
    assert!(c.get_alert_text().await.is_err(), "no script ran");
    let scripts: Value = c
        .execute("return document.scripts.length", vec![])
        .await
        .unwrap();
    assert_eq!(scripts, json!(0));
    browser.screenshot("post").await;
    browser.close().await;
}
