//! What people see: profile pages with posts, post pages with replies, the
//! Atom feeds, link previews and remote follow, through the real server on
//! SQLite and PostgreSQL, with hostile text in every remote field.

mod common;

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use federation_tests::peer::Peer;
use federation_tests::SendJson;
use serde_json::{json, Value};

on_both_databases!(
    profile_pages_list_posts_newest_first,
    post_pages_show_author_counts_and_escaped_replies,
    atom_feeds_parse_and_match_the_outbox,
    remote_follow_sends_visitors_to_their_server,
    unknown_apps_and_bad_cursors_are_refused,
);

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn publish(app: &TestApp, token: &str, body: Value) -> String {
    let created: Value = app
        .client
        .post(app.url("/api/v1/apps/blog/posts"))
        .bearer_auth(token)
        .json(&body)
        .send_json()
        .await;
    created["id"].as_str().unwrap().to_string()
}

async fn html(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get_as(path, "text/html").await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The value of `<meta property|name="KEY" content="…">`.
fn meta<'a>(html: &'a str, key: &str) -> Option<&'a str> {
    let start = html
        .find(&format!("property=\"{key}\" content=\""))
        .or_else(|| html.find(&format!("name=\"{key}\" content=\"")))?;
    let rest = &html[start..];
    let rest = &rest[rest.find("content=\"")? + 9..];
    Some(&rest[..rest.find('"')?])
}

/// Hrefs of `<a>` whose text contains `text`.
fn link_to(html: &str, text: &str) -> Option<String> {
    let end = html.find(text)?;
    let open = html[..end].rfind("<a href=\"")? + 9;
    Some(html[open..open + html[open..].find('"')?].replace("&amp;", "&"))
}

async fn profile_pages_list_posts_newest_first(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let token = app.token("blog").await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(
            publish(
                &app,
                &token,
                json!({"content": format!("<p>post number {i}</p>")}),
            )
            .await,
        );
    }
    let article = publish(
        &app,
        &token,
        json!({"type": "Article", "name": "A <title>", "content": "<p>long read</p>"}),
    )
    .await;
    // A deleted post is not listed.
    let deleted = ids.remove(22);
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/delete"))
        .bearer_auth(&token)
        .json(&json!({"id": deleted}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let (status, page) = html(&app, "/@blog").await;
    assert_eq!(status, 200);
    assert_eq!(
        page.matches("<article class=\"post\">").count(),
        20,
        "{page}"
    );
    // Newest first: the article, then 21, 20, …; never the deleted 22.
    let at = |text: &str| page.find(text).unwrap_or_else(|| panic!("{text} missing"));
    assert!(at("A &lt;title&gt;") < at("post number 21<"));
    assert!(at("post number 21<") < at("post number 20<"));
    assert!(!page.contains("post number 22<"));
    assert!(
        page.contains(&format!("href=\"{article}\"")),
        "posts link to their pages"
    );
    assert!(page.contains("<time datetime=\""), "{page}");
    assert!(page.contains("0 likes"), "{page}");
    // Preview metadata and the alternates Mastodon and feed readers look for.
    assert_eq!(meta(&page, "og:type"), Some("profile"));
    assert_eq!(meta(&page, "og:url"), Some(app.url("/@blog").as_str()));
    assert_eq!(
        meta(&page, "og:image"),
        Some(app.url("/actors/blog/avatar").as_str())
    );
    assert_eq!(meta(&page, "twitter:card"), Some("summary"));
    assert!(page.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\">",
        app.url("/actors/blog")
    )));
    assert!(
        page.contains(&format!(
            "type=\"application/atom+xml\" title=\"Blog (@blog@{})\" href=\"{}\"",
            app.authority,
            app.url("/@blog.atom")
        )),
        "{page}"
    );
    // The same page for a browser at the actor's id.
    let (_, at_id) = html(&app, "/actors/blog").await;
    assert_eq!(at_id.matches("<article class=\"post\">").count(), 20);

    // The next page carries on where the first stopped: 3 older posts.
    let older = link_to(&page, "Older posts").expect("an older-posts link");
    let (status, page2) = html(&app, &older.replace(&app.base, "")).await;
    assert_eq!(status, 200);
    assert_eq!(
        page2.matches("<article class=\"post\">").count(),
        3,
        "{page2}"
    );
    for i in 0..3 {
        assert!(page2.contains(&format!("post number {i}<")), "{page2}");
    }
    assert!(link_to(&page2, "Older posts").is_none());
    assert!(link_to(&page2, "Newest posts").is_some());
}

async fn post_pages_show_author_counts_and_escaped_replies(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let peer = Peer::start(false, false).await;
    let token = app.token("blog").await;
    let ours = publish(
        &app,
        &token,
        json!({"content": "<p>hello <em>world</em></p>"}),
    )
    .await;
    let inbox = app.url("/actors/blog/inbox");
    let like = json!({"id": peer.new_id(), "type": "Like", "actor": peer.actor(0), "object": ours});
    assert_eq!(peer.post_as(0, &inbox, &like).await.status(), 202);
    let reply = json!({"id": peer.new_id(), "type": "Create", "actor": peer.actor(0), "to": [PUBLIC],
        "object": {"id": format!("{}/objects/r1", peer.base()), "type": "Note",
                   "attributedTo": peer.actor(0), "inReplyTo": ours,
                   "content": "<p>nice <script>alert(3)</script><a href=\"javascript:alert(4)\">x</a></p>"}});
    assert_eq!(peer.post_as(0, &inbox, &reply).await.status(), 202);

    let (status, page) = html(&app, &ours.replace(&app.base, "")).await;
    assert_eq!(status, 200);
    // The author: name, handle and avatar, linked to the profile.
    assert!(
        page.contains(&format!("<a href=\"{}\">", app.url("/@blog"))),
        "{page}"
    );
    assert!(page.contains("<strong>Blog</strong>"), "{page}");
    assert!(page.contains(&format!("@blog@{}", app.authority)));
    assert!(
        page.contains("<em>world</em>"),
        "our own sanitised HTML is kept"
    );
    assert!(page.contains("Published <time datetime=\""), "{page}");
    assert!(page.contains("1 like<"), "{page}");
    assert!(page.contains("1 reply<"), "{page}");
    // The reply, by a remote actor whose every field is hostile.
    assert!(page.contains("nice "), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(&#39;u0&#39;)&lt;/script&gt;u0 &amp; co")
            || page.contains("&lt;script&gt;alert('u0')&lt;/script&gt;u0 &amp; co"),
        "{page}"
    );
    let peer_host = peer.base().trim_start_matches("http://").to_string();
    assert!(
        page.contains(&format!("@u0@{}", peer_host.split(':').next().unwrap())),
        "{page}"
    );
    for bad in ["<script", "javascript:", "onerror", "alert(3)", "alert(4)"] {
        assert!(!page.contains(bad), "{bad} in {page}");
    }
    assert_eq!(
        link_to(&page, "View the original").as_deref(),
        Some(format!("{}/objects/r1", peer.base()).as_str())
    );
    // Link previews: an article card with the text and the author's avatar.
    assert_eq!(meta(&page, "og:type"), Some("article"));
    assert_eq!(meta(&page, "og:description"), Some("hello world"));
    assert_eq!(meta(&page, "og:title"), Some("Blog: “hello world”"));
    assert_eq!(
        meta(&page, "og:image"),
        Some(app.url("/actors/blog/avatar").as_str())
    );
    assert!(meta(&page, "article:published_time").is_some());
    assert!(page.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{ours}\">"
    )));

    // Edited: the page says so with both dates.
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/update"))
        .bearer_auth(&token)
        .json(&json!({"id": ours, "content": "<p>hello again</p>"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (_, page) = html(&app, &ours.replace(&app.base, "")).await;
    assert!(page.contains("hello again"));
    assert_eq!(
        page.matches("<time datetime=").count(),
        3,
        "published, edited, the reply's: {page}"
    );
    // Deleted: 410 with a page that says so.
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/delete"))
        .bearer_auth(&token)
        .json(&json!({"id": ours}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, page) = html(&app, &ours.replace(&app.base, "")).await;
    assert_eq!(status, 410);
    assert!(page.contains("This post was deleted."));
}

async fn atom_feeds_parse_and_match_the_outbox(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let token = app.token("blog").await;
    let first = publish(
        &app,
        &token,
        json!({"content": "<p>one &amp; <b>only</b></p>"}),
    )
    .await;
    let second = publish(
        &app,
        &token,
        json!({"type": "Article", "name": "Second <post>", "content": "<p>two</p>"}),
    )
    .await;
    let gone = publish(&app, &token, json!({"content": "<p>three</p>"})).await;
    let r = app
        .client
        .post(app.url("/api/v1/apps/blog/posts/delete"))
        .bearer_auth(&token)
        .json(&json!({"id": gone}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let r = app.get("/@blog.atom").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let xml = r.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&xml[..]).expect("a valid Atom feed");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.title.as_ref().unwrap().content, "Blog");
    assert_eq!(feed.id, app.url("/@blog"));
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("self") && l.href == app.url("/@blog.atom")));
    assert_eq!(feed.authors[0].name, "Blog");

    // The entries are the outbox's live posts, newest first.
    let outbox = app.get_ap("/actors/blog/outbox?page=1").await;
    let mut live: Vec<String> = outbox["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "Create")
        .map(|a| a["object"]["id"].as_str().unwrap().to_string())
        .filter(|id| id != &gone)
        .collect();
    live.sort();
    let mut entries: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    entries.sort();
    assert_eq!(entries, live);
    assert_eq!(feed.entries[0].id, second, "newest first");
    assert_eq!(
        feed.entries[0].title.as_ref().unwrap().content,
        "Second <post>"
    );
    let one = feed.entries.iter().find(|e| e.id == first).unwrap();
    let content = one.content.as_ref().unwrap().body.as_deref().unwrap();
    // The post's stored (sanitised) HTML, which the feed carried escaped.
    assert!(content.starts_with("<p>one &amp; "), "{content}");
    assert_eq!(one.links[0].href, first);
    assert!(one.published.is_some() && one.updated.is_some());

    // The profile page links it; an unknown app has none.
    let (_, page) = html(&app, "/@blog").await;
    assert!(page.contains(&app.url("/@blog.atom")));
    assert_eq!(app.get("/@nobody.atom").await.status(), 404);
}

async fn remote_follow_sends_visitors_to_their_server(db: TestDatabase) {
    use axum::routing::get;
    let app = TestApp::spawn(db).await;
    // The visitor's server: WebFinger with an OStatus subscribe template,
    // as Mastodon serves it; and one without.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let theirs = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/.well-known/webfinger",
        get(
            move |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                let resource = q.get("resource").cloned().unwrap_or_default();
                let links = if resource.starts_with("acct:alice@") {
                    json!([{"rel": "http://ostatus.org/schema/1.0/subscribe",
                        "template": format!("http://{theirs}/authorize_interaction?uri={{uri}}")}])
                } else if resource.starts_with("acct:mallory@") {
                    // A server that would send visitors elsewhere.
                    json!([{"rel": "http://ostatus.org/schema/1.0/subscribe",
                        "template": "https://phish.example/login?next={uri}"}])
                } else {
                    json!([])
                };
                axum::Json(json!({"subject": resource, "links": links}))
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let follow = |account: &str| {
        let url = format!(
            "{}?account={}",
            app.url("/@blog/follow"),
            urlencode(account)
        );
        let client = no_redirects.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let r = follow(&format!("@alice@{theirs}")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!(
            "http://{theirs}/authorize_interaction?uri=acct%3Ablog%40{}",
            urlencode(&app.authority)
        )
        .as_str()
    );
    // A server that offers no remote follow: a clear 502, with what to do.
    let r = follow(&format!("bob@{theirs}")).await;
    assert_eq!(r.status(), 502);
    let text = r.text().await.unwrap();
    assert!(text.contains("Search for @blog@"), "{text}");
    // A template on another host: this hub is no open redirect.
    let r = follow(&format!("mallory@{theirs}")).await;
    assert_eq!(r.status(), 502);
    assert!(r.headers().get("location").is_none());
    // Not a handle at all.
    for bad in ["alice", "@alice@", "<script>@x", "a@b/c"] {
        let r = follow(bad).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    // The profile page has the form, which works without script.
    let (_, page) = html(&app, "/@blog").await;
    assert!(
        page.contains(&format!(
            "<form method=\"get\" action=\"{}\">",
            app.url("/@blog/follow")
        )),
        "{page}"
    );
    assert!(page.contains("<label for=\"account\">"));
}

async fn unknown_apps_and_bad_cursors_are_refused(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    assert_eq!(html(&app, "/@nobody").await.0, 404);
    assert_eq!(html(&app, "/@nobody/follow?account=a@b").await.0, 404);
    for bad in ["x", "1.", "1.a%2Fb", "abc.def"] {
        assert_eq!(
            html(&app, &format!("/@blog?before={bad}")).await.0,
            400,
            "{bad}"
        );
    }
    // A well-formed cursor past the end is an empty page, not an error.
    let (status, page) = html(&app, "/@blog?before=1.0000").await;
    assert_eq!(status, 200);
    assert!(page.contains("No older posts."), "{page}");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
