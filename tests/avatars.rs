//! Apps' avatars and headers as Mastodon sees them: the generated PNG every
//! app starts with, the operator's images set through the domain function
//! the CLI calls (and once through the real binary), the refusals, and the
//! actor document and `Update` that carry them. On SQLite and PostgreSQL.

mod common;

use std::process::{Command, Output};

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::on_both_databases;
use rosefed::actors::AppName;
use rosefed::outbox::profile::{self, MediaChange, ProfileChange};
use serde_json::Value;

on_both_databases!(
    the_generated_avatar_is_a_png_mastodon_shows,
    operator_images_replace_and_restore,
    bad_images_are_refused_and_change_nothing,
    followers_are_sent_an_update,
    the_cli_sets_and_removes_images,
);

fn name(n: &str) -> AppName {
    AppName::parse(n).unwrap()
}

/// A real PNG of `width`×`height`, one colour.
fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..width * height).flat_map(|_| rgb).collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// A 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// (width, height) of a PNG.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    let info = reader.info();
    (info.width, info.height)
}

/// GET an image: status 200, its content type and bytes, with the caching
/// and no-sniffing headers checked.
async fn image(app: &TestApp, path: &str) -> (String, Vec<u8>) {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    let headers = r.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
    let cache = headers["cache-control"].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{path}: {cache}");
    let content_type = headers["content-type"].to_str().unwrap().to_string();
    (content_type, r.bytes().await.unwrap().to_vec())
}

fn avatar(bytes: Vec<u8>) -> ProfileChange {
    ProfileChange {
        avatar: Some(MediaChange::Set(bytes)),
        ..ProfileChange::default()
    }
}

async fn the_generated_avatar_is_a_png_mastodon_shows(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (content_type, blog) = image(&app, "/actors/blog/avatar").await;
    assert_eq!(content_type, "image/png");
    assert_eq!(png_size(&blog), (256, 256));
    let (_, market) = image(&app, "/actors/market/avatar").await;
    assert_ne!(blog, market, "each app its own avatar");
    assert_eq!(image(&app, "/actors/blog/avatar").await.1, blog);

    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["icon"]["type"], "Image");
    assert_eq!(actor["icon"]["mediaType"], "image/png");
    let url = actor["icon"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/actors/blog/avatar", app.base)),
        "{url}"
    );
    let fetched = app.client.get(url).send().await.unwrap();
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), blog);
    assert!(actor.get("image").is_none(), "no header yet");

    // The static routes win over the collections', and the collections
    // still work.
    let r = app.get("/actors/blog/header").await;
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("no header"));
    assert_eq!(
        app.get_ap("/actors/blog/followers").await["type"],
        "OrderedCollection"
    );
    assert_eq!(app.get("/actors/nobody/avatar").await.status(), 404);
    assert_eq!(app.get("/actors/Bad-Name/avatar").await.status(), 404);
    // The SVG icon is still there; the profile page shows the PNG.
    assert_eq!(
        app.get("/actors/blog/icon.svg").await.headers()["content-type"],
        "image/svg+xml"
    );
    let page = app.get("/@blog").await.text().await.unwrap();
    assert!(page.contains("/actors/blog/avatar\""), "{page}");
}

async fn operator_images_replace_and_restore(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, generated) = image(&app, "/actors/blog/avatar").await;
    let before = app.get_ap("/actors/blog").await;

    let done = profile::update_profile(&app.state, &name("blog"), avatar(GIF.to_vec()))
        .await
        .unwrap();
    assert_eq!(done.changes, ["avatar set: image/gif, 1×1, 43 bytes"]);
    assert_eq!(done.update_queued_for, 0, "nobody follows blog");
    let (content_type, bytes) = image(&app, "/actors/blog/avatar").await;
    assert_eq!(
        (content_type.as_str(), bytes.as_slice()),
        ("image/gif", GIF)
    );
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["icon"]["mediaType"], "image/gif");
    assert_ne!(
        actor["icon"]["url"], before["icon"]["url"],
        "a new URL, so Mastodon downloads it again"
    );
    // Other apps keep theirs.
    assert_eq!(
        app.get_ap("/actors/market").await["icon"]["mediaType"],
        "image/png"
    );

    // A header appears as `image`.
    let banner = png(300, 100, [10, 20, 30]);
    let done = profile::update_profile(
        &app.state,
        &name("blog"),
        ProfileChange {
            header: Some(MediaChange::Set(banner.clone())),
            ..ProfileChange::default()
        },
    )
    .await
    .unwrap();
    assert!(
        done.changes[0].starts_with("header set: image/png, 300×100"),
        "{:?}",
        done.changes
    );
    let (content_type, bytes) = image(&app, "/actors/blog/header").await;
    assert_eq!(content_type, "image/png");
    assert_eq!(bytes, banner);
    assert_eq!(png_size(&bytes), (300, 100));
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["image"]["type"], "Image");
    assert_eq!(actor["image"]["mediaType"], "image/png");
    let url = actor["image"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/actors/blog/header", app.base)),
        "{url}"
    );
    assert_eq!(actor["icon"]["mediaType"], "image/gif", "avatar kept");
    // The profile page shows the header, at the document's versioned URL.
    let page = app.get("/@blog").await.text().await.unwrap();
    assert!(
        page.contains(&format!("<img class=\"header\" src=\"{url}\"")),
        "{page}"
    );

    // Replacing keeps one of each.
    let square = png(64, 64, [200, 0, 0]);
    profile::update_profile(&app.state, &name("blog"), avatar(square.clone()))
        .await
        .unwrap();
    assert_eq!(
        image(&app, "/actors/blog/avatar").await,
        ("image/png".to_string(), square)
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM app_media WHERE app_name = 'blog'")
            .await,
        2
    );

    // Removing restores the generated avatar and drops the header.
    let done = profile::update_profile(
        &app.state,
        &name("blog"),
        ProfileChange {
            avatar: Some(MediaChange::Remove),
            header: Some(MediaChange::Remove),
            ..ProfileChange::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(done.changes, ["avatar removed", "header removed"]);
    assert_eq!(
        image(&app, "/actors/blog/avatar").await,
        ("image/png".to_string(), generated)
    );
    assert_eq!(app.get("/actors/blog/header").await.status(), 404);
    let page = app.get("/@blog").await.text().await.unwrap();
    assert!(!page.contains("class=\"header\""), "{page}");
    let actor = app.get_ap("/actors/blog").await;
    assert_eq!(actor["icon"], before["icon"]);
    assert!(actor.get("image").is_none());
    // Removing what is not there changes nothing.
    let done = profile::update_profile(
        &app.state,
        &name("blog"),
        ProfileChange {
            header: Some(MediaChange::Remove),
            ..ProfileChange::default()
        },
    )
    .await
    .unwrap();
    assert!(done.changes.is_empty(), "{:?}", done.changes);

    // The images go with the app.
    profile::update_profile(&app.state, &name("blog"), avatar(GIF.to_vec()))
        .await
        .unwrap();
    rosefed::actors::apps::remove(&app.state.db, &name("blog"), false)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM app_media").await, 0);
}

async fn bad_images_are_refused_and_change_nothing(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    profile::update_profile(&app.state, &name("blog"), avatar(GIF.to_vec()))
        .await
        .unwrap();
    let before = app.get_ap("/actors/blog").await;

    let mut oversized = png(8, 8, [0, 0, 0]);
    oversized.resize(2 * 1024 * 1024 + 1, 0);
    let mut wide = png(16, 16, [0, 0, 0]);
    // IHDR's width (bytes 16..20) says 5000.
    wide[16..20].copy_from_slice(&5000u32.to_be_bytes());
    for (change, mentions) in [
        (
            avatar(b"just some text, not an image".to_vec()),
            "the avatar is not a PNG, JPEG, GIF or WebP image",
        ),
        (
            avatar(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()),
            "not a PNG, JPEG, GIF or WebP",
        ),
        (avatar(oversized), "2097153 bytes; the limit is 2097152"),
        (
            ProfileChange {
                header: Some(MediaChange::Set(wide)),
                ..ProfileChange::default()
            },
            "the header is 5000×16 pixels; its width must be from 1 to 4096",
        ),
        // A valid display name with a bad avatar: nothing is written.
        (
            ProfileChange {
                display_name: Some("Renamed".into()),
                avatar: Some(MediaChange::Set(Vec::new())),
                ..ProfileChange::default()
            },
            "the avatar file is empty",
        ),
        (
            ProfileChange {
                display_name: Some("x".repeat(101)),
                avatar: Some(MediaChange::Set(png(4, 4, [1, 2, 3]))),
                ..ProfileChange::default()
            },
            "display name is longer than 100 characters",
        ),
    ] {
        let err = profile::update_profile(&app.state, &name("blog"), change)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400, "{err}");
        assert!(err.to_string().contains(mentions), "{err}");
    }
    assert_eq!(app.get_ap("/actors/blog").await, before);
    assert_eq!(
        image(&app, "/actors/blog/avatar").await,
        ("image/gif".to_string(), GIF.to_vec())
    );
    assert_eq!(app.get("/actors/blog/header").await.status(), 404);

    let err = profile::update_profile(&app.state, &name("nobody"), avatar(GIF.to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

async fn followers_are_sent_an_update(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    sqlx::query(
        "INSERT INTO followers (app_name, actor_id, inbox, shared_inbox, state, created_at) \
         VALUES ('market', 'https://r.example/u/1', 'https://r.example/u/1/inbox', 'https://r.example/inbox', 'accepted', 0), \
         ('market', 'https://r.example/u/2', 'https://r.example/u/2/inbox', 'https://r.example/inbox', 'accepted', 0), \
         ('market', 'https://s.example/u/3', 'https://s.example/u/3/inbox', NULL, 'pending', 0)",
    )
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let done = profile::update_profile(
        &app.state,
        &name("market"),
        ProfileChange {
            display_name: Some("The Market".into()),
            summary: Some("Fresh things.".into()),
            avatar: Some(MediaChange::Set(GIF.to_vec())),
            ..ProfileChange::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        done.changes,
        [
            "display name: The Market",
            "summary changed",
            "avatar set: image/gif, 1×1, 43 bytes"
        ]
    );
    // The two accepted followers share one inbox; the pending one is not told.
    assert_eq!(done.update_queued_for, 1);
    let actor_id = format!("{}/actors/market", app.public_url);
    let body = app
        .text(&format!(
            "SELECT a.body FROM delivery_jobs j JOIN ap_activities a ON a.id = j.activity_id \
             WHERE j.object_id = '{actor_id}'"
        ))
        .await
        .expect("a queued Update");
    let update: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(update["type"], "Update");
    assert_eq!(update["actor"], actor_id.as_str());
    assert_eq!(update["object"]["id"], actor_id.as_str());
    assert_eq!(update["object"]["name"], "The Market");
    assert_eq!(update["object"]["icon"]["mediaType"], "image/gif");
    assert_eq!(
        update["object"]["icon"],
        app.get_ap("/actors/market").await["icon"]
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM delivery_jobs WHERE object_id = '{actor_id}'"
        ))
        .await,
        1
    );

    // Nothing changed: nothing sent.
    let done = profile::update_profile(
        &app.state,
        &name("market"),
        ProfileChange {
            display_name: Some("The Market".into()),
            ..ProfileChange::default()
        },
    )
    .await
    .unwrap();
    assert!(done.changes.is_empty());
    assert_eq!(done.update_queued_for, 0);
}

fn rosefed(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rosefed"))
        .args(["--database-url", &db.url])
        .args(["--data-dir", &db.dir.path().display().to_string()])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run rosefed")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn the_cli_sets_and_removes_images(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let dir = tempfile::tempdir().unwrap();
    let square = dir.path().join("square.png");
    std::fs::write(&square, png(48, 48, [0, 128, 255])).unwrap();
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not an image, whatever its name").unwrap();

    let set = rosefed(
        &app.db,
        &[
            "apps",
            "set",
            "events",
            "--avatar",
            &square.display().to_string(),
            "--display-name",
            "Events & Meetups",
            "--manually-approves-followers",
            "true",
        ],
    );
    assert!(set.status.success(), "{}", out(&set));
    let said = out(&set);
    assert!(said.contains("display name: Events & Meetups"), "{said}");
    assert!(said.contains("avatar set: image/png, 48×48"), "{said}");
    assert!(said.contains("manually approves followers: true"), "{said}");
    let (content_type, bytes) = image(&app, "/actors/events/avatar").await;
    assert_eq!(content_type, "image/png");
    assert_eq!(png_size(&bytes), (48, 48));
    let actor = app.get_ap("/actors/events").await;
    assert_eq!(actor["name"], "Events & Meetups");
    assert_eq!(actor["manuallyApprovesFollowers"], true);

    // Refused with one clear line, and nothing changed.
    let bad = rosefed(
        &app.db,
        &[
            "apps",
            "set",
            "events",
            "--display-name",
            "Changed",
            "--header",
            &text.display().to_string(),
        ],
    );
    assert!(!bad.status.success());
    let said = out(&bad);
    assert!(
        said.contains("error: the header is not a PNG, JPEG, GIF or WebP image"),
        "{said}"
    );
    assert!(!said.contains("panicked"), "{said}");
    let missing = rosefed(
        &app.db,
        &["apps", "set", "events", "--avatar", "/nonexistent/x.png"],
    );
    assert!(
        out(&missing).contains("cannot read the avatar file /nonexistent/x.png"),
        "{}",
        out(&missing)
    );
    assert_eq!(
        app.get_ap("/actors/events").await["name"],
        "Events & Meetups"
    );

    let remove = rosefed(&app.db, &["apps", "set", "events", "--remove-avatar"]);
    assert!(remove.status.success(), "{}", out(&remove));
    assert!(out(&remove).contains("avatar removed"), "{}", out(&remove));
    let (content_type, bytes) = image(&app, "/actors/events/avatar").await;
    assert_eq!(content_type, "image/png");
    assert_eq!(png_size(&bytes), (256, 256));

    let both = rosefed(
        &app.db,
        &[
            "apps",
            "set",
            "events",
            "--avatar",
            &square.display().to_string(),
            "--remove-avatar",
        ],
    );
    assert!(!both.status.success());
    assert!(out(&both).contains("cannot be used with"), "{}", out(&both));

    let help = rosefed(&app.db, &["apps", "set", "--help"]);
    let help = out(&help);
    for flag in [
        "--display-name",
        "--summary",
        "--avatar <FILE>",
        "--header <FILE>",
        "--remove-avatar",
        "--remove-header",
        "--manually-approves-followers",
        "PNG, JPEG, GIF or WebP",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}
