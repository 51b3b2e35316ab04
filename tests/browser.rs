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

/// An administrator in Chromium: signs in with the hub's own form, blocks
/// a domain through the form, imports a CSV through the preview, resolves
/// a report, and finds all three in the audit log; a screenshot of the
/// dashboard is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_moderates_domains_in_chromium() {
    let Some(browser) = Chromium::start().await else {
        return;
    };
    let db = TestDatabase::create(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn(db).await;
    rosefed::oauth::users::add(
        &app.state.db,
        "root",
        "root@coop.example",
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    let c = &browser.client;

    // Signed out, the admin area leads to the sign-in form and back.
    c.goto(&app.url("/admin/domain_blocks")).await.unwrap();
    type_into(c, Locator::Css("input[name=username]"), "root").await;
    type_into(
        c,
        Locator::Css("input[name=password]"),
        "correct horse battery",
    )
    .await;
    click_then(
        c,
        Locator::Css("form button[type=submit]"),
        Locator::Id("domain"),
    )
    .await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/admin/domain_blocks"
    );

    // Block a domain through the form.
    type_into(c, Locator::Id("domain"), "spam.example").await;
    c.find(Locator::Css("#severity option[value=silence]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    type_into(c, Locator::Id("public_comment"), "<b>Spam</b> & worse").await;
    let status = click_then(
        c,
        Locator::XPath("//button[text()='Block']"),
        Locator::Css("[role=status]"),
    )
    .await;
    assert_eq!(status.text().await.unwrap(), "Blocked spam.example.");

    // Import a CSV: the preview first, then the import.
    type_into(
        c,
        Locator::Id("csv"),
        "#domain,#severity\nloud.example,suspend\n",
    )
    .await;
    click_then(
        c,
        Locator::XPath("//button[text()='Preview import']"),
        Locator::Css("button[name=confirm]"),
    )
    .await;
    let preview = c
        .find(Locator::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains("loud.example") && preview.contains("new block"),
        "{preview}"
    );
    let status = click_then(
        c,
        Locator::Css("button[name=confirm]"),
        Locator::Css("[role=status]"),
    )
    .await;
    assert_eq!(
        status.text().await.unwrap(),
        "Imported: 1 new, 0 changed, 0 unchanged."
    );
    let table = c
        .find(Locator::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("<b>Spam</b> & worse"),
        "shown as text: {table}"
    );

    // A report an app filed: opened from the list and resolved.
    let token = app.token("blog").await;
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/reports"))
        .bearer_auth(&token)
        .json(&json!({"target": "http://spam.example/users/x", "comment": "<i>spam</i> again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    c.goto(&app.url("/admin/reports")).await.unwrap();
    let row = c
        .find(Locator::Css("tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("<i>spam</i> again") && row.contains("open"),
        "{row}"
    );
    click_then(c, Locator::Css("tbody tr a"), Locator::Id("comment")).await;
    type_into(c, Locator::Id("comment"), "warned them").await;
    let status = click_then(
        c,
        Locator::XPath("//button[text()='Resolve']"),
        Locator::Css("[role=status]"),
    )
    .await;
    assert_eq!(status.text().await.unwrap(), "Resolved.");

    // The audit log has all three, under the admin's name.
    c.goto(&app.url("/admin/audit_log")).await.unwrap();
    let log = c
        .find(Locator::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(log.matches("domain_block.create").count(), 2, "{log}");
    assert!(
        log.contains("report.resolve") && log.contains("warned them"),
        "{log}"
    );
    assert_eq!(log.matches("root").count(), 3, "{log}");
    assert!(c.get_alert_text().await.is_err(), "no script ran");

    c.goto(&app.url("/admin")).await.unwrap();
    let dashboard = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dashboard.contains("Domain blocks (2)"), "{dashboard}");
    browser.screenshot("admin-dashboard").await;
    c.goto(&app.url("/admin/domain_blocks")).await.unwrap();
    browser.screenshot("admin-domain-blocks").await;
    browser.close().await;
}

async fn type_into(c: &fantoccini::Client, at: Locator<'_>, text: &str) {
    c.find(at).await.unwrap().send_keys(text).await.unwrap();
}

/// Clicks what `click` finds, then waits for `next`, which only the page
/// the click leads to has: a click starts a navigation without waiting for
/// it, so finding at once could find the old page's elements.
async fn click_then(
    c: &fantoccini::Client,
    click: Locator<'_>,
    next: Locator<'_>,
) -> fantoccini::elements::Element {
    c.find(click).await.unwrap().click().await.unwrap();
    c.wait().for_element(next).await.unwrap()
}
