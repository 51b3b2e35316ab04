//! The admin area through the real server, on SQLite and PostgreSQL: who
//! may see it (signed-out visitors go to `/login`, members without the
//! admin role get 403 on every page and form), CSRF on every form, and an
//! app's profile and images changed from the pages, with bad input shown
//! back with the reason and nothing changed.

mod common;

use common::browser::{Browser, Page};
use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use reqwest::multipart::{Form, Part};

on_both_databases!(
    only_admins_reach_the_admin_pages,
    admins_edit_an_apps_profile,
    admins_set_and_remove_images,
    admins_moderate_domains_and_every_change_is_logged,
    the_dashboard_shows_counts_the_queue_and_failing_hosts,
    admins_resolve_and_forward_reports,
    admins_moderate_posts_and_actors_from_the_timeline,
);

const PASSWORD: &str = "correct horse battery staple";

async fn member(app: &TestApp, name: &str, admin: bool) {
    rosefed::oauth::users::add(
        &app.state.db,
        name,
        &format!("{name}@coop.example"),
        PASSWORD,
        admin,
    )
    .await
    .unwrap();
}

async fn sign_in(app: &TestApp, name: &str) -> Browser {
    let mut browser = Browser::new();
    let form = browser.get(&app.url("/login")).await;
    let csrf = form.hidden("csrf").unwrap();
    let done = browser
        .post_form(
            &app.url("/login"),
            &[("csrf", &csrf), ("username", name), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    browser
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![90; (width * height * 3) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

async fn only_admins_reach_the_admin_pages(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    member(&app, "bob", false).await;
    member(&app, "root", true).await;
    let pages = [
        "/admin",
        "/admin/apps",
        "/admin/apps/blog",
        "/admin/domain_blocks",
        "/admin/domain_blocks/export.csv",
        "/admin/audit_log",
        "/admin/audit_log/export.csv",
        "/admin/reports",
        "/admin/timeline",
        "/admin/actors",
    ];

    // Signed out: to /login, coming back to the page afterwards.
    let mut visitor = Browser::new();
    for path in pages {
        let page = visitor.get(&app.url(path)).await;
        assert_eq!(page.status, 303, "{path}");
        let location = page.location.unwrap();
        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(location, format!("/login?next={next}"), "{path}");
    }
    let form = visitor
        .post_form(&app.url("/admin/apps/blog"), &[("display_name", "x")])
        .await;
    assert_eq!(form.status, 303);

    // A member without the role: 403 on every page and form.
    let mut bob = sign_in(&app, "bob").await;
    for path in pages {
        let page = bob.get(&app.url(path)).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("Admins only"), "{path}");
    }
    let csrf = bob.get(&app.url("/login")).await.hidden("csrf").unwrap();
    let post = bob
        .post_form(
            &app.url("/admin/apps/blog"),
            &[
                ("csrf", &csrf),
                ("display_name", "Hijacked"),
                ("summary", ""),
            ],
        )
        .await;
    assert_eq!(post.status, 403);
    let compose = bob
        .post_form(
            &app.url("/admin/apps/blog/posts"),
            &[("csrf", &csrf), ("content", "<p>hijacked</p>")],
        )
        .await;
    assert_eq!(compose.status, 403);
    let upload = bob
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new()
                .text("csrf", csrf.clone())
                .text("remove_avatar", "on"),
        )
        .await;
    assert_eq!(upload.status, 403);
    for (path, form) in [
        (
            "/admin/domain_blocks",
            vec![
                ("csrf", csrf.as_str()),
                ("domain", "spam.example"),
                ("severity", "suspend"),
            ],
        ),
        (
            "/admin/domain_blocks/import",
            vec![
                ("csrf", csrf.as_str()),
                ("csv", "#domain\nspam.example\n"),
                ("confirm", "1"),
            ],
        ),
        (
            "/admin/domain_blocks/remove",
            vec![("csrf", csrf.as_str()), ("domain", "spam.example")],
        ),
        (
            "/admin/reports/resolve",
            vec![("csrf", csrf.as_str()), ("id", "x"), ("action", "none")],
        ),
        (
            "/admin/reports/forward",
            vec![("csrf", csrf.as_str()), ("id", "x")],
        ),
        (
            "/admin/timeline/action",
            vec![
                ("csrf", csrf.as_str()),
                ("action", "hide_post"),
                ("target", "https://a.example/p"),
            ],
        ),
    ] {
        assert_eq!(
            bob.post_form(&app.url(path), &form).await.status,
            403,
            "{path}"
        );
    }
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["name"], "Blog", "nothing changed");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, 0);

    // The admin: every page, never framed or cached.
    let mut root = sign_in(&app, "root").await;
    for path in pages {
        let page = root.get(&app.url(path)).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert!(!page.body.contains("<script"), "{path}");
    }
    assert_eq!(root.get(&app.url("/admin/apps/nobody")).await.status, 404);
}

/// The admin page of the app `blog`, which holds both forms.
async fn profile_form(browser: &mut Browser, app: &TestApp) -> Page {
    let page = browser.get(&app.url("/admin/apps/blog")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

async fn admins_edit_an_apps_profile(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    let page = profile_form(&mut root, &app).await;
    let csrf = page.hidden("csrf").unwrap();
    assert!(
        page.body.contains("value=\"Blog\""),
        "the current name is filled in"
    );

    // Saved: the actor, the profile page and the form show it; the hostile
    // name is escaped on every page.
    let hostile = "<script>alert(1)</script> Blog";
    let saved = root
        .post_form(
            &app.url("/admin/apps/blog"),
            &[
                ("csrf", &csrf),
                ("display_name", hostile),
                ("summary", "Line one\r\nline two"),
                ("manually_approves_followers", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some("/admin/apps/blog?saved=1"));
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["name"], hostile);
    assert_eq!(actor["summary"], "<p>Line one<br>line two</p>");
    assert_eq!(actor["manuallyApprovesFollowers"], true);
    let again = root.get(&app.url("/admin/apps/blog?saved=1")).await;
    assert!(again.body.contains("role=\"status\""), "{}", again.body);
    for body in [
        again.body,
        root.get(&app.url("/admin/apps")).await.body,
        app.get("/@blog").await.text().await.unwrap(),
    ] {
        assert!(!body.contains("<script>alert"), "{body}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Blog"),
            "{body}"
        );
    }

    // Refused: the reason and what was typed, nothing changed.
    let refused = root
        .post_form(
            &app.url("/admin/apps/blog"),
            &[
                ("csrf", &csrf),
                ("display_name", &"x".repeat(101)),
                ("summary", "kept"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Not saved"), "{}", refused.body);
    assert!(
        refused.body.contains("longer than 100 characters"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(">kept</textarea>"),
        "what was typed is kept"
    );
    assert_eq!(app.get_ap("/actors/blog").await["name"], hostile);

    // Publishing as the app: HTML, then a sexp tree; a bad tree is refused
    // with the reader's reason.
    let published = root
        .post_form(
            &app.url("/admin/apps/blog/posts"),
            &[("csrf", &csrf), ("content", "<p>from the admin</p>")],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.body);
    let location = published.location.unwrap();
    let id = url::Url::parse(&app.url(&location))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "published")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let post = app.get_ap(&id.replace(&app.base, "")).await;
    assert_eq!(post["content"], "<p>from the admin</p>");
    assert_eq!(post["attributedTo"], app.url("/actors/blog"));
    let tree = root
        .post_form(
            &app.url("/admin/apps/blog/posts"),
            &[
                ("csrf", &csrf),
                ("title", "A tree"),
                ("content", "(p \"hi \" (em \"there\"))"),
                ("sexp", "on"),
            ],
        )
        .await;
    assert_eq!(tree.status, 303, "{}", tree.body);
    let bad = root
        .post_form(
            &app.url("/admin/apps/blog/posts"),
            &[("csrf", &csrf), ("content", "(p \"open"), ("sexp", "on")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Not saved"), "{}", bad.body);
    assert!(
        bad.body.contains("open</textarea>"),
        "what was typed is kept: {}",
        bad.body
    );
    assert!(bad.body.contains("name=\"sexp\" checked"), "{}", bad.body);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM objects WHERE local = 1")
            .await,
        2
    );

    // Without the CSRF token, or with another: 403, nothing changed.
    for token in ["", "forged-token-forged-token-forged-token-xxxx"] {
        let forged = root
            .post_form(
                &app.url("/admin/apps/blog"),
                &[("csrf", token), ("display_name", "Forged"), ("summary", "")],
            )
            .await;
        assert_eq!(forged.status, 403, "{token}");
    }
    assert_eq!(app.get_ap("/actors/blog").await["name"], hostile);
}

async fn admins_set_and_remove_images(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    let csrf = profile_form(&mut root, &app).await.hidden("csrf").unwrap();
    let avatar = png(64, 64);
    let header = png(300, 100);
    let file = |bytes: &[u8], name: &str| Part::bytes(bytes.to_vec()).file_name(name.to_string());

    let saved = root
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new()
                .text("csrf", csrf.clone())
                .part("avatar", file(&avatar, "me.png"))
                .part("header", file(&header, "banner.png")),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let served = app.get("/actors/blog/avatar").await.bytes().await.unwrap();
    assert_eq!(served.to_vec(), avatar);
    let served = app.get("/actors/blog/header").await.bytes().await.unwrap();
    assert_eq!(served.to_vec(), header);
    let page = root.get(&app.url("/admin/apps/blog")).await;
    assert!(page.body.contains("Current header"), "{}", page.body);

    // Not an image: the reason, and both images unchanged. An empty file
    // input (as a browser sends it) changes nothing.
    let refused = root
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new()
                .text("csrf", csrf.clone())
                .part("avatar", file(b"<svg onload=alert(1)>", "evil.png"))
                .part("header", Part::bytes(Vec::new()).file_name(String::new())),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("Not saved"), "{}", refused.body);
    assert!(!refused.body.contains("<svg"), "{}", refused.body);
    let served = app.get("/actors/blog/avatar").await.bytes().await.unwrap();
    assert_eq!(served.to_vec(), avatar);

    // Over 2 MiB: refused before anything is stored.
    let huge = vec![0u8; 2 * 1024 * 1024 + 1];
    let refused = root
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new()
                .text("csrf", csrf.clone())
                .part("avatar", file(&huge, "big.png")),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);

    // Without the token: 403.
    let forged = root
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new().text("remove_avatar", "on"),
        )
        .await;
    assert_eq!(forged.status, 403);

    // Removing: the generated avatar again, no header.
    let removed = root
        .post_multipart(
            &app.url("/admin/apps/blog/images"),
            Form::new()
                .text("csrf", csrf)
                .text("remove_avatar", "on")
                .text("remove_header", "on"),
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let r = app.get("/actors/blog/avatar").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_ne!(r.bytes().await.unwrap().to_vec(), avatar);
    assert_eq!(app.get("/actors/blog/header").await.status(), 404);
}

async fn admins_moderate_domains_and_every_change_is_logged(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    let list = root.get(&app.url("/admin/domain_blocks")).await;
    assert_eq!(list.status, 200);
    let csrf = list.hidden("csrf").unwrap();
    let hostile = "<script>alert(1)</script>";

    // Add, with hostile comments, shown escaped.
    let added = root
        .post_form(
            &app.url("/admin/domain_blocks"),
            &[
                ("csrf", &csrf),
                ("domain", "Spam.Example"),
                ("severity", "suspend"),
                ("reject_reports", "on"),
                ("obfuscate", "on"),
                ("private_comment", hostile),
                ("public_comment", "Spam & abuse"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let list = root.get(&app.url(added.location.as_deref().unwrap())).await;
    assert!(list.body.contains("Blocked spam.example."), "{}", list.body);
    assert!(!list.body.contains("<script>alert"), "{}", list.body);
    assert!(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        list.body.contains("reject reports, obfuscated"),
        "{}",
        list.body
    );

    // Refused: an unknown severity, the hub itself, a non-domain; the form
    // comes back with the reason and nothing is stored.
    for (domain, severity, why) in [
        ("odd.example", "ban", "unknown severity"),
        ("127.0.0.1", "suspend", "would block this hub itself"),
        ("spam example", "suspend", "is not a domain name"),
    ] {
        let refused = root
            .post_form(
                &app.url("/admin/domain_blocks"),
                &[("csrf", &csrf), ("domain", domain), ("severity", severity)],
            )
            .await;
        assert_eq!(refused.status, 400, "{domain}");
        assert!(refused.body.contains(why), "{domain}: {}", refused.body);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 1);

    // Edit: the form is filled in; a change is saved.
    let edit = root
        .get(&app.url("/admin/domain_blocks/edit?domain=spam.example"))
        .await;
    assert!(
        edit.body.contains("<option value=\"suspend\" selected>"),
        "{}",
        edit.body
    );
    let changed = root
        .post_form(
            &app.url("/admin/domain_blocks"),
            &[
                ("csrf", &csrf),
                ("domain", "spam.example"),
                ("severity", "silence"),
                ("obfuscate", "on"),
                ("public_comment", "Spam & abuse"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);

    // The public list: obfuscated, the public comment only.
    let public = app.get("/about/blocks").await.text().await.unwrap();
    assert!(public.contains("s*a*.example"), "{public}");
    assert!(!public.contains("spam.example"), "{public}");
    assert!(public.contains("Spam &amp; abuse"), "{public}");
    assert!(
        !public.contains("alert"),
        "private comments stay private: {public}"
    );

    // Import: the preview changes nothing; confirming imports.
    let csv = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
               loud.example,silence,false,false,,false\n\
               spam.example,suspend,false,false,Spam,false\n";
    let preview = root
        .post_form(
            &app.url("/admin/domain_blocks/import"),
            &[("csrf", &csrf), ("csv", csv)],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("new block") && preview.body.contains("changed"),
        "{}",
        preview.body
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM domain_blocks").await,
        1,
        "a preview changes nothing"
    );
    let confirm = preview.hidden("csv").unwrap();
    assert_eq!(confirm, csv, "the preview carries the file to confirm");
    let imported = root
        .post_form(
            &app.url("/admin/domain_blocks/import"),
            &[("csrf", &csrf), ("csv", &confirm), ("confirm", "1")],
        )
        .await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 2);
    // A bad file: each bad line named, nothing imported.
    let bad = root
        .post_form(
            &app.url("/admin/domain_blocks/import"),
            &[
                ("csrf", &csrf),
                (
                    "csv",
                    "#domain,#severity\nnew.example,suspend\nworse.example,ban\n",
                ),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("Line 3: unknown severity"),
        "{}",
        bad.body
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 2);

    // Export gives back what was imported (private comments left out).
    let export = root.get(&app.url("/admin/domain_blocks/export.csv")).await;
    assert_eq!(export.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(export.body, csv);

    // Remove, without and with the token.
    let forged = root
        .post_form(
            &app.url("/admin/domain_blocks/remove"),
            &[("domain", "loud.example")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let removed = root
        .post_form(
            &app.url("/admin/domain_blocks/remove"),
            &[("csrf", &csrf), ("domain", "loud.example")],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM domain_blocks").await, 1);

    // The audit log shows every change under the admin's name, escaped.
    let log = root.get(&app.url("/admin/audit_log")).await;
    for action in [
        "domain_block.create",
        "domain_block.update",
        "domain_block.remove",
    ] {
        assert!(log.body.contains(action), "{action}: {}", log.body);
    }
    assert!(!log.body.contains("<script>alert"), "{}", log.body);
    let rows = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'root'")
        .await;
    // create, update, import (1 new + 1 changed), remove.
    assert_eq!(rows, 5);
    let export = root.get(&app.url("/admin/audit_log/export.csv")).await;
    assert_eq!(export.body.lines().count(), 6, "{}", export.body);
}

async fn the_dashboard_shows_counts_the_queue_and_failing_hosts(db: TestDatabase) {
    use federation_tests::SendJson;
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    let dashboard = root.get(&app.url("/admin")).await;
    assert!(
        dashboard.body.contains("Nothing waiting."),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("1 members"), "{}", dashboard.body);

    // A follower whose server then goes away: the post's delivery fails.
    let peer = federation_tests::peer::Peer::start(false, false).await;
    let host = peer.base().trim_start_matches("http://").to_string();
    let follow = peer.follow(0, &app.url("/actors/blog"));
    let r = peer
        .post_as(0, &app.url("/actors/blog/inbox"), &follow)
        .await;
    assert_eq!(r.status(), 202);
    drop(peer);
    let token = app.token("blog").await;
    let _: serde_json::Value = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"content": "<p>hello</p>"}))
        .send_json()
        .await;
    // Polled as a person would reload it (the first attempt fails fast).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let page = loop {
        let page = root.get(&app.url("/admin")).await.body;
        let failing = page.split("Hosts failing").nth(1).unwrap_or_default();
        if failing.contains(&host) {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failing host shown: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(page.contains("1 posts by the apps"), "{page}");
    assert!(
        page.contains(&format!("<td>{host}</td>")),
        "the queue lists the host: {page}"
    );
}

async fn admins_resolve_and_forward_reports(db: TestDatabase) {
    use federation_tests::peer::Peer;
    use federation_tests::SendJson;
    use serde_json::{json, Value};
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    // A peer named `localhost` (the hub is 127.0.0.1) that checks the
    // signatures of what it is sent.
    let peer = Peer::start_as(Some("localhost"), true, true).await;

    // A remote server reports our app, with a hostile comment.
    let flag = json!({"id": peer.new_id(), "type": "Flag", "actor": peer.actor(0),
        "object": [app.url("/actors/blog")], "content": "<script>alert(1)</script> rude"});
    assert_eq!(
        peer.post_as(0, &app.url("/inbox"), &flag).await.status(),
        202
    );
    // A member app reports a remote actor and one of its posts.
    let token = app.token("blog").await;
    let filed: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/reports"))
        .bearer_auth(&token)
        .json(
            &json!({"target": peer.actor(1), "objects": [format!("{}/objects/9", peer.base())],
                      "comment": "spam links"}),
        )
        .send_json()
        .await;
    let ours = filed["id"].as_str().unwrap().to_string();
    // Reporting one of our own actors through the API is refused.
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/reports"))
        .bearer_auth(&token)
        .json(&json!({"target": app.url("/actors/market")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let list = root.get(&app.url("/admin/reports")).await;
    assert!(!list.body.contains("<script>alert"), "{}", list.body);
    assert!(
        list.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; rude"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("app blog") && list.body.contains("spam links"),
        "{}",
        list.body
    );
    let dashboard = root.get(&app.url("/admin")).await;
    assert!(dashboard.body.contains("(2 open)"), "{}", dashboard.body);

    // The remote report names only our actor: no block, nothing to forward.
    let theirs = flag["id"].as_str().unwrap();
    let view_url = |id: &str| {
        format!(
            "{}?id={}",
            app.url("/admin/reports/view"),
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        )
    };
    let page = root.get(&view_url(theirs)).await;
    assert_eq!(page.status, 200);
    let csrf = page.hidden("csrf").unwrap();
    assert!(
        !page.body.contains("suspend_domain") && !page.body.contains("Forward"),
        "{}",
        page.body
    );
    let refused = root
        .post_form(
            &app.url("/admin/reports/resolve"),
            &[
                ("csrf", &csrf),
                ("id", theirs),
                ("action", "suspend_domain"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("names no remote actor"),
        "{}",
        refused.body
    );
    let resolved = root
        .post_form(
            &app.url("/admin/reports/resolve"),
            &[
                ("csrf", &csrf),
                ("id", theirs),
                ("action", "none"),
                ("comment", "apologised"),
            ],
        )
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);

    // The app's report: forwarded once, as a Flag from the instance actor
    // that the peer's signature check accepts.
    let page = root.get(&view_url(&ours)).await;
    assert!(
        page.body.contains("Forward to their server"),
        "{}",
        page.body
    );
    let forwarded = root
        .post_form(
            &app.url("/admin/reports/forward"),
            &[("csrf", &csrf), ("id", &ours)],
        )
        .await;
    assert_eq!(forwarded.status, 303, "{}", forwarded.body);
    federation_tests::eventually(
        "the forwarded Flag",
        std::time::Duration::from_secs(30),
        || async { (peer.count("Flag", None) == 1).then_some(()) },
    )
    .await;
    let delivered = peer
        .deliveries()
        .into_iter()
        .find(|d| d.activity["type"] == "Flag")
        .unwrap();
    assert_eq!(delivered.activity["actor"], app.url("/actor"));
    assert!(delivered.verified, "signed as the instance actor");
    assert_eq!(delivered.activity["content"], "spam links");
    let again = root
        .post_form(
            &app.url("/admin/reports/forward"),
            &[("csrf", &csrf), ("id", &ours)],
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already forwarded"), "{}", again.body);

    // Resolved with a suspension of the reported actor's domain.
    let resolved = root
        .post_form(
            &app.url("/admin/reports/resolve"),
            &[
                ("csrf", &csrf),
                ("id", &ours),
                ("action", "suspend_domain"),
                ("comment", "spam ring"),
            ],
        )
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    let severity = app
        .text("SELECT severity FROM domain_blocks WHERE domain = 'localhost'")
        .await;
    assert_eq!(severity.as_deref(), Some("suspend"));
    let again = root
        .post_form(
            &app.url("/admin/reports/resolve"),
            &[("csrf", &csrf), ("id", &ours), ("action", "none")],
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already resolved"), "{}", again.body);
    let actions: Vec<String> = rosefed::db::audit_log::all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "report.resolve",
            "report.forward",
            "domain_block.create",
            "report.resolve"
        ]
    );
    let dashboard = root.get(&app.url("/admin")).await;
    assert!(dashboard.body.contains("(0 open)"), "{}", dashboard.body);
}

async fn admins_moderate_posts_and_actors_from_the_timeline(db: TestDatabase) {
    use federation_tests::peer::Peer;
    use serde_json::{json, Value};
    let app = TestApp::spawn(db).await;
    member(&app, "root", true).await;
    let mut root = sign_in(&app, "root").await;
    let peer = Peer::start(true, false).await;
    let inbox = app.url("/inbox");
    let note = |i: usize, text: &str| {
        let id = peer.new_id();
        let activity = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(i),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {"id": id, "type": "Note", "attributedTo": peer.actor(i), "content": format!("<p>{text}</p>")}});
        (id, activity)
    };
    let (first, create) = note(0, "first by u0");
    assert_eq!(peer.post_as(0, &inbox, &create).await.status(), 202);
    let (_, create) = note(0, "second by u0");
    assert_eq!(peer.post_as(0, &inbox, &create).await.status(), 202);
    let (_, create) = note(1, "by u1");
    assert_eq!(peer.post_as(1, &inbox, &create).await.status(), 202);
    let follow = peer.follow(1, &app.url("/actors/blog"));
    assert_eq!(
        peer.post_as(1, &app.url("/actors/blog/inbox"), &follow)
            .await
            .status(),
        202
    );
    let public = || async {
        let body: Value = app.get("/api/v1/timeline").await.json().await.unwrap();
        body["orderedItems"].to_string()
    };

    let page = root.get(&app.url("/admin/timeline")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("<article class=\"post\">").count(),
        3,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("u0 &amp; co"),
        "authors by name, escaped: {}",
        page.body
    );
    let csrf = page.hidden("csrf").unwrap();
    // Hide and show a post.
    assert_eq!(
        act(&mut root, &app, &csrf, "hide_post", &first)
            .await
            .status,
        303
    );
    assert!(!public().await.contains("first by u0"));
    assert!(public().await.contains("second by u0"));
    assert_eq!(
        act(&mut root, &app, &csrf, "show_post", &first)
            .await
            .status,
        303
    );
    assert!(public().await.contains("first by u0"));

    // Silence u0: its posts leave the public timeline, it still delivers.
    assert_eq!(
        act(&mut root, &app, &csrf, "silence_actor", &peer.actor(0))
            .await
            .status,
        303
    );
    let shown = public().await;
    assert!(
        !shown.contains("by u0") && shown.contains("by u1"),
        "{shown}"
    );
    let (_, create) = note(0, "third by u0");
    assert_eq!(peer.post_as(0, &inbox, &create).await.status(), 202);

    // Suspend u1: refused from now on, its follow of blog ended.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 1);
    assert_eq!(
        act(&mut root, &app, &csrf, "suspend_actor", &peer.actor(1))
            .await
            .status,
        303
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM followers").await, 0);
    let (_, create) = note(1, "late by u1");
    assert_eq!(peer.post_as(1, &inbox, &create).await.status(), 403);
    assert!(!public().await.contains("by u1"));

    // Remove a remote post here; our own posts are the apps' to delete.
    assert_eq!(
        act(&mut root, &app, &csrf, "remove_post", &first)
            .await
            .status,
        303
    );
    let page = root.get(&app.url("/admin/timeline")).await;
    assert!(!page.body.contains("first by u0"), "{}", page.body);
    let token = app.token("blog").await;
    let ours: Value = federation_tests::SendJson::send_json(
        app.client
            .post(app.url("/api/v1/apps/blog/posts"))
            .bearer_auth(&token)
            .json(&json!({"content": "<p>ours</p>"})),
    )
    .await;
    let refused = act(
        &mut root,
        &app,
        &csrf,
        "remove_post",
        ours["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("deleted by the apps"),
        "{}",
        refused.body
    );
    // Without the CSRF token: refused.
    let forged = root
        .post_form(
            &app.url("/admin/timeline/action"),
            &[("action", "hide_post"), ("target", &first)],
        )
        .await;
    assert_eq!(forged.status, 403);

    // The actors page lists both with their moderation; its buttons come
    // back to it, and only to admin pages.
    let actors = root.get(&app.url("/admin/actors?domain=127.0.0.1")).await;
    assert_eq!(actors.status, 200);
    assert!(
        actors.body.contains(&peer.actor(0)) && actors.body.contains(&peer.actor(1)),
        "{}",
        actors.body
    );
    assert!(
        actors.body.contains("<td>silence</td>") && actors.body.contains("<td>suspend</td>"),
        "{}",
        actors.body
    );
    let none = root
        .get(&app.url("/admin/actors?domain=elsewhere.example"))
        .await;
    assert!(none.body.contains("None known."), "{}", none.body);
    let lifted = root
        .post_form(
            &app.url("/admin/timeline/action"),
            &[
                ("csrf", &csrf),
                ("action", "unmoderate_actor"),
                ("target", &peer.actor(1)),
                ("back", "/admin/actors"),
            ],
        )
        .await;
    assert!(lifted
        .location
        .as_deref()
        .unwrap()
        .starts_with("/admin/actors?done="));
    let elsewhere = root
        .post_form(
            &app.url("/admin/timeline/action"),
            &[
                ("csrf", &csrf),
                ("action", "suspend_actor"),
                ("target", &peer.actor(1)),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert!(elsewhere
        .location
        .as_deref()
        .unwrap()
        .starts_with("/admin/timeline?done="));

    // Lift u0's silence: its posts are back.
    assert_eq!(
        act(&mut root, &app, &csrf, "unmoderate_actor", &peer.actor(0))
            .await
            .status,
        303
    );
    assert!(public().await.contains("second by u0"));
    let actions: Vec<String> = rosefed::db::audit_log::all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "post.hide",
            "post.show",
            "actor.silence",
            "actor.suspend",
            "post.remove",
            "actor.unmoderate",
            "actor.suspend",
            "actor.unmoderate"
        ]
    );
}

/// Posts a timeline action as the admin.
async fn act(browser: &mut Browser, app: &TestApp, csrf: &str, action: &str, target: &str) -> Page {
    browser
        .post_form(
            &app.url("/admin/timeline/action"),
            &[("csrf", csrf), ("action", action), ("target", target)],
        )
        .await
}
