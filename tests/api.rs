//! The hub's HTTP surface, end to end: a real server on a random port and a
//! fresh database, every test on SQLite and on PostgreSQL.

mod common;

use common::TestApp;
use federation_tests::database::TestDatabase;
use federation_tests::SendJson;
use federation_tests::{get_ap_json, on_both_databases};
use rosefed::actors::{self, AppName};
use rosefed::config::Config;
use rosefed::error::AppError;
use rosefed::instance;
use serde_json::Value;

on_both_databases!(
    health_checks_the_database,
    webfinger_leads_to_actors_that_share_one_key,
    instance_actor_is_discoverable,
    webfinger_rejects_bad_input_clearly,
    actors_are_served_by_content_negotiation,
    collections_are_paged_ordered_collections,
    nodeinfo_reports_usage_from_the_database,
    host_meta_points_to_webfinger,
    unknown_paths_and_wrong_methods_get_json_errors,
    restart_keeps_keys_and_does_not_reseed_apps,
    app_rules_give_clear_errors,
    operator_text_is_escaped_everywhere,
    metrics_count_requests_by_route_template,
);

fn name(n: &str) -> AppName {
    AppName::parse(n).unwrap()
}

async fn health_checks_the_database(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let r = app.get("/health").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    app.state.db.close().await;
    let r = app.get("/health").await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["status"], "unreachable");
}

/// The acceptance path: WebFinger → actor, and the actors of two apps have
/// the same key material under different ids and keyIds.
async fn webfinger_leads_to_actors_that_share_one_key(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let mut keys = Vec::new();
    for who in ["blog", "market"] {
        let r = app
            .get(&format!(
                "/.well-known/webfinger?resource=acct:{who}@{}",
                app.authority
            ))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/jrd+json");
        let jrd: Value = r.json().await.unwrap();
        assert_eq!(jrd["subject"], format!("acct:{who}@{}", app.authority));
        let links = jrd["links"].as_array().unwrap();
        let self_link = links.iter().find(|l| l["rel"] == "self").unwrap();
        assert_eq!(self_link["type"], "application/activity+json");
        let profile = links
            .iter()
            .find(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
            .unwrap();
        assert_eq!(profile["href"], app.url(&format!("/@{who}")));

        let href = self_link["href"].as_str().unwrap();
        let actor = get_ap_json(&app.client, href).await;
        assert_eq!(actor["id"], href);
        assert_eq!(actor["type"], "Service");
        assert_eq!(actor["preferredUsername"], who);
        for field in [
            "inbox",
            "outbox",
            "followers",
            "following",
            "name",
            "summary",
        ] {
            assert!(actor[field].is_string(), "{who} lacks {field}");
        }
        assert!(actor["icon"]["url"].is_string());
        assert_eq!(actor["endpoints"]["sharedInbox"], app.url("/inbox"));
        let key = &actor["publicKey"];
        assert_eq!(key["owner"], href);
        assert_eq!(key["id"], format!("{href}#main-key"));
        assert!(key["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let multikey = &actor["assertionMethod"][0];
        assert_eq!(multikey["type"], "Multikey");
        assert_eq!(multikey["controller"], href);
        keys.push((actor["id"].clone(), key.clone(), multikey.clone()));
    }
    let (blog_id, blog_key, blog_mk) = &keys[0];
    let (market_id, market_key, market_mk) = &keys[1];
    assert_ne!(blog_id, market_id);
    assert_ne!(blog_key["id"], market_key["id"]);
    assert_eq!(blog_key["publicKeyPem"], market_key["publicKeyPem"]);
    assert_eq!(
        blog_mk["publicKeyMultibase"],
        market_mk["publicKeyMultibase"]
    );
    assert_eq!(
        blog_key["publicKeyPem"].as_str().unwrap(),
        app.state.keys.rsa_public_pem()
    );
    // Served documents carry no private key material.
    let raw = app
        .get_as("/actors/blog", "application/activity+json")
        .await
        .text()
        .await
        .unwrap();
    assert!(!raw.contains("PRIVATE"));
}

async fn instance_actor_is_discoverable(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for resource in [format!("acct:127.0.0.1@{}", app.authority), app.url("/")] {
        let jrd: Value = app
            .client
            .get(app.url("/.well-known/webfinger"))
            .query(&[("resource", resource.as_str())])
            .send_json()
            .await;
        assert_eq!(jrd["links"][0]["href"], app.url("/actor"), "{resource}");
    }
    let actor = app.get_ap("/actor").await;
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["publicKey"]["owner"], app.url("/actor"));
    assert_eq!(
        actor["publicKey"]["publicKeyPem"].as_str().unwrap(),
        app.state.keys.rsa_public_pem()
    );
    let outbox = app.get_ap("/actor/outbox").await;
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 0);
    // Following `first` leads to a page, not back to the collection.
    let first = get_ap_json(&app.client, outbox["first"].as_str().unwrap()).await;
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert_eq!(first["id"], outbox["first"]);
    assert_eq!(first["orderedItems"], Value::Array(vec![]));
}

async fn webfinger_rejects_bad_input_clearly(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let host = app.authority.clone();
    let long = "a".repeat(5000);
    let cases: Vec<(String, u16)> = vec![
        ("/.well-known/webfinger".into(), 400),
        ("/.well-known/webfinger?resource=".into(), 400),
        ("/.well-known/webfinger?resource=acct:blog".into(), 400),
        ("/.well-known/webfinger?resource=blog".into(), 400),
        (format!("/.well-known/webfinger?resource=acct:@{host}"), 400),
        (
            format!("/.well-known/webfinger?resource=acct:{long}@{host}"),
            400,
        ),
        (
            "/.well-known/webfinger?resource=acct:blog@a&resource=acct:b@a".into(),
            400,
        ),
        (
            format!("/.well-known/webfinger?resource=acct:nobody@{host}"),
            404,
        ),
        (
            format!("/.well-known/webfinger?resource=acct:Bad.Name@{host}"),
            404,
        ),
        (
            "/.well-known/webfinger?resource=acct:blog@other.example".into(),
            404,
        ),
        (
            "/.well-known/webfinger?resource=https://other.example/actors/blog".into(),
            404,
        ),
        (
            format!("/.well-known/webfinger?resource=http://{host}/actors/nobody"),
            404,
        ),
    ];
    for (path, status) in cases {
        let r = app.get(&path).await;
        assert_eq!(r.status(), status, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}"
        );
    }
    // Case-insensitive, and the rel filter narrows links.
    let jrd: Value = app
        .get(&format!(
            "/.well-known/webfinger?resource=acct:BLOG@{host}&rel=self"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jrd["links"].as_array().unwrap().len(), 1);
    assert_eq!(jrd["links"][0]["rel"], "self");
    assert!(
        !jrd.to_string().contains("null"),
        "absent members are omitted: {jrd}"
    );
}

async fn actors_are_served_by_content_negotiation(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let ld = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
    let r = app.get_as("/actors/blog", ld).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], ld);
    assert_eq!(r.headers()["vary"], "Accept");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = app.get_as("/actors/blog", "application/json").await;
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "Service");

    for accept in [None, Some("text/html"), Some("*/*")] {
        let r = match accept {
            Some(a) => app.get_as("/actors/blog", a).await,
            None => app.get("/actors/blog").await,
        };
        assert_eq!(r.status(), 200, "{accept:?}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = r.text().await.unwrap();
        assert!(html.contains("@blog@127.0.0.1"), "{html}");
    }
    let r = app.get_as("/actors/blog", "image/png").await;
    assert_eq!(r.status(), 406);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());

    let r = app.get("/@market").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<h1>Market</h1>"));
    let r = app.get("/actors/blog/icon.svg").await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().starts_with("<svg"));
    let home = app.get("/").await.text().await.unwrap();
    for who in ["blog", "market", "events"] {
        assert!(home.contains(&format!("/@{who}")), "{home}");
    }
}

async fn collections_are_paged_ordered_collections(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for which in ["outbox", "followers", "following"] {
        let c = app.get_ap(&format!("/actors/events/{which}")).await;
        assert_eq!(c["type"], "OrderedCollection", "{which}");
        assert_eq!(c["totalItems"], 0, "{which}");
        let first = c["first"].as_str().unwrap().to_string();
        let page = get_ap_json(&app.client, &first).await;
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["orderedItems"], Value::Array(vec![]));
        assert!(page.get("next").is_none());
    }

    // 45 accepted followers and one pending: only accepted ones count.
    let pool = app.state.db.pool();
    for i in 0..46 {
        sqlx::query(
            "INSERT INTO followers (app_name, actor_id, inbox, state, created_at) VALUES ('blog', $1, $2, $3, $4)",
        )
        .bind(format!("https://remote.example/users/u{i:02}"))
        .bind(format!("https://remote.example/users/u{i:02}/inbox"))
        .bind(if i == 45 { "pending" } else { "accepted" })
        .bind(i as i64)
        .execute(pool)
        .await
        .unwrap();
    }
    let c = app.get_ap("/actors/blog/followers").await;
    assert_eq!(c["totalItems"], 45);
    let p1 = app.get_ap("/actors/blog/followers?page=1").await;
    assert_eq!(p1["orderedItems"].as_array().unwrap().len(), 40);
    assert_eq!(p1["orderedItems"][0], "https://remote.example/users/u44");
    assert_eq!(p1["next"], app.url("/actors/blog/followers?page=2"));
    let p2 = app.get_ap("/actors/blog/followers?page=2").await;
    assert_eq!(p2["orderedItems"].as_array().unwrap().len(), 5);
    assert!(p2.get("next").is_none());
    assert!(!p2.to_string().contains("u45"), "pending follower listed");

    sqlx::query(
        "INSERT INTO ap_activities (id, app_name, actor, activity_type, object_id, local, body, created_at) \
         VALUES ($1, 'blog', $2, 'Create', $3, 1, $4, 1)",
    )
    .bind(app.url("/activities/1"))
    .bind(app.url("/actors/blog"))
    .bind(app.url("/objects/1"))
    .bind(format!(r#"{{"id":"{}","type":"Create"}}"#, app.url("/activities/1")))
    .execute(pool)
    .await
    .unwrap();
    let outbox = app.get_ap("/actors/blog/outbox?page=1").await;
    assert_eq!(outbox["totalItems"], 1);
    assert_eq!(outbox["orderedItems"][0]["type"], "Create");

    for bad in ["page=0", "page=x", "page=-3"] {
        let r = app
            .get_as(
                &format!("/actors/blog/followers?{bad}"),
                "application/activity+json",
            )
            .await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let html = app
        .get("/actors/blog/followers")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("45 in all"));
    assert!(html.contains("followers?page=2\">older"), "{html}");
    let html = app
        .get("/actors/blog/followers?page=2")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("followers?page=1\">← newer"), "{html}");
    assert!(html.contains("u00"), "{html}");
    assert_eq!(app.get("/actors/nobody/followers").await.status(), 404);
}

async fn nodeinfo_reports_usage_from_the_database(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let links: Value = app.get("/.well-known/nodeinfo").await.json().await.unwrap();
    let hrefs: Vec<&str> = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert_eq!(hrefs, [app.url("/nodeinfo/2.0"), app.url("/nodeinfo/2.1")]);

    let extra = actors::apps::new_app(name("cart"), None, None).unwrap();
    actors::apps::add(&app.state.db, &app.state.config, &extra)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ap_activities (id, app_name, actor, activity_type, local, body, created_at) \
         VALUES ('https://x/1', 'cart', 'https://x/a', 'Create', 1, '{}', $1)",
    )
    .bind(rosefed::db::now_millis())
    .execute(app.state.db.pool())
    .await
    .unwrap();

    for version in ["2.0", "2.1"] {
        let r = app.get(&format!("/nodeinfo/{version}")).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains(&format!("schema/{version}#")));
        let ni: Value = r.json().await.unwrap();
        assert_eq!(ni["version"], version);
        assert_eq!(ni["software"]["name"], "rosefed");
        assert_eq!(ni["software"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(ni["protocols"], serde_json::json!(["activitypub"]));
        assert_eq!(ni["usage"]["users"]["total"], 4);
        assert_eq!(ni["usage"]["users"]["activeMonth"], 1);
        assert_eq!(ni["usage"]["localPosts"], 1);
        assert_eq!(ni["openRegistrations"], false);
    }
}

async fn host_meta_points_to_webfinger(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let r = app.get("/.well-known/host-meta").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xrd+xml"));
    let xrd = r.text().await.unwrap();
    let template = app.url("/.well-known/webfinger?resource={uri}");
    assert!(xrd.contains(&format!("template=\"{template}\"")), "{xrd}");
    let json: Value = app
        .get("/.well-known/host-meta.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["links"][0]["template"], template);
}

async fn unknown_paths_and_wrong_methods_get_json_errors(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/nope",
        "/actors/nobody",
        "/actors/Bad%20Name",
        "/@nobody",
        "/actors/blog/nope",
    ] {
        let r = app.get_as(path, "application/activity+json").await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(
            r.json::<Value>().await.unwrap()["error"].is_string(),
            "{path}"
        );
    }
    // An undecodable path segment is a JSON 400, not framework plain text.
    let r = app.get_as("/actors/%FF", "application/activity+json").await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = app
        .client
        .post(app.url("/.well-known/webfinger"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers()["allow"].to_str().unwrap().contains("GET"));
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("POST"));
    let r = app
        .client
        .delete(app.url("/actors/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

async fn restart_keeps_keys_and_does_not_reseed_apps(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let first_pem = app.state.keys.rsa_public_pem().to_string();
    let first_ed = app.state.keys.ed25519_multibase();
    actors::apps::remove(&app.state.db, &name("events"), false)
        .await
        .unwrap();

    let config = Config::from_args(&common::hub_args(&app.db.url, &app.base)).unwrap();
    let (again, boot) = instance::prepare(config).await.unwrap();
    assert!(!boot.keys_created);
    assert!(boot.apps_created.is_empty());
    assert_eq!(again.keys.rsa_public_pem(), first_pem);
    assert_eq!(again.keys.ed25519_multibase(), first_ed);
    let names: Vec<String> = rosefed::db::apps::list(&again.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name.to_string())
        .collect();
    assert_eq!(names, ["blog", "market"], "removed app came back");
}

async fn app_rules_give_clear_errors(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let db = &app.state.db;
    let dup = actors::apps::new_app(name("blog"), None, None).unwrap();
    match actors::apps::add(db, &app.state.config, &dup).await {
        Err(AppError::Conflict(msg)) => assert!(msg.contains("'blog' already exists"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    sqlx::query(
        "INSERT INTO followers (app_name, actor_id, inbox, state, created_at) VALUES ('market', 'https://r.example/u/1', 'https://r.example/inbox', 'accepted', 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    match actors::apps::remove(db, &name("market"), false).await {
        Err(AppError::Conflict(msg)) => assert!(msg.contains("1 follower"), "{msg}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(rosefed::db::apps::get(db, &name("market"))
        .await
        .unwrap()
        .is_some());
    actors::apps::remove(db, &name("market"), true)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM followers")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "followers of a removed app must go with it");
    assert!(matches!(
        actors::apps::remove(db, &name("market"), false).await,
        Err(AppError::NotFound(_))
    ));
}

async fn operator_text_is_escaped_everywhere(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let evil = actors::apps::new_app(
        name("evil"),
        Some("<script>alert(1)</script>"),
        Some("<img src=x onerror=alert(2)> & \"quotes\""),
    )
    .unwrap();
    actors::apps::add(&app.state.db, &app.state.config, &evil)
        .await
        .unwrap();
    for path in ["/@evil", "/actors/evil", "/", "/actors/evil/followers"] {
        let html = app.get_as(path, "text/html").await.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "{path}: {html}");
        assert!(!html.contains("<img src=x"), "{path}: {html}");
    }
    let html = app.get("/@evil").await.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let actor = app.get_ap("/actors/evil").await;
    assert_eq!(
        actor["name"], "<script>alert(1)</script>",
        "JSON keeps the plain text"
    );
    assert!(actor["summary"]
        .as_str()
        .unwrap()
        .starts_with("<p>&lt;img src=x"));
    // The icon shows the first letter of the display name, escaped.
    let svg = app.get("/actors/evil/icon.svg").await.text().await.unwrap();
    assert!(svg.contains(">S</text>"), "{svg}");
}

/// Two hub processes starting at once on one fresh PostgreSQL database (the
/// scale-out set-up) must agree on one keypair and seed the apps once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_starts_agree_on_postgres() {
    let Some(db) = TestDatabase::create(federation_tests::database::Backend::Postgres).await else {
        return;
    };
    let config = Config::from_args(&common::hub_args(&db.url, "http://127.0.0.1:1")).unwrap();
    let (a, b) = tokio::join!(instance::prepare(config.clone()), instance::prepare(config));
    let ((a, boot_a), (b, boot_b)) = (a.unwrap(), b.unwrap());
    assert_eq!(a.keys.rsa_public_pem(), b.keys.rsa_public_pem());
    assert_eq!(a.keys.ed25519_multibase(), b.keys.ed25519_multibase());
    assert!(
        boot_a.keys_created != boot_b.keys_created,
        "exactly one start creates the key"
    );
    let seeded = boot_a.apps_created.len() + boot_b.apps_created.len();
    assert_eq!(seeded, 3, "apps seeded once in all");
    assert_eq!(rosefed::db::apps::count(&a.db).await.unwrap(), 3);
    a.db.close().await;
    b.db.close().await;
}

/// A first start that stopped after migrating (before keys and apps) is
/// completed by the next.
async fn interrupted_bootstrap_is_completed(db: TestDatabase) {
    let config = Config::from_args(&common::hub_args(&db.url, "http://127.0.0.1:1")).unwrap();
    let partial = instance::open_database(&config).await.unwrap();
    partial.migrate().await.unwrap();
    assert!(rosefed::db::keys::load(&partial).await.unwrap().is_none());
    partial.close().await;

    let (state, boot) = instance::prepare(config).await.unwrap();
    assert!(boot.keys_created);
    assert_eq!(boot.apps_created.len(), 3);
    assert_eq!(rosefed::db::apps::count(&state.db).await.unwrap(), 3);
    state.db.close().await;
}

mod interrupted {
    use super::*;
    on_both_databases!(interrupted_bootstrap_is_completed);
}

async fn metrics_count_requests_by_route_template(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/actors/blog",
        "/actors/market",
        "/actors/nobody",
        "/no/such/path",
    ] {
        app.get_as(path, "application/activity+json").await;
    }
    for method in ["FOO", "BAR"] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.client.request(m, app.url("/x")).send().await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, rosefed::http::metrics::router(app.state.clone()))
            .await
            .unwrap();
    });
    let r = federation_tests::http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    for line in [
        "rosefed_http_requests_total{method=\"GET\",route=\"/actors/{name}\",status=\"200\"} 2",
        "rosefed_http_requests_total{method=\"GET\",route=\"/actors/{name}\",status=\"404\"} 1",
        "rosefed_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "rosefed_http_request_duration_seconds_count{route=\"/actors/{name}\"} 3",
        "rosefed_database_up 1",
        "rosefed_apps 3",
        "rosefed_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"404\"} 2",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains("/actors/blog"),
        "concrete paths must not become labels"
    );
}

/// SIGTERM/Ctrl-C semantics of `server::run`: a request already being
/// handled when shutdown begins still gets its answer, and the server
/// finishes only after it. PostgreSQL lets the test hold a table lock that
/// keeps the request in flight for as long as it likes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests_on_postgres() {
    use sqlx::{Connection, Executor};
    use std::time::Duration;

    let Some(db) = TestDatabase::create(federation_tests::database::Backend::Postgres).await else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::from_args(&common::hub_args(&db.url, &base)).unwrap();
    let (state, _) = instance::prepare(config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rosefed::server::run(listener, state.clone(), async move {
        let _ = stopped.await;
    }));

    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE apps IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let url = format!("{base}/actors/blog");
    let request = tokio::spawn(async move {
        federation_tests::http()
            .get(url)
            .header("Accept", "application/activity+json")
            .send()
            .await
    });
    // Wait until the handler is blocked on the lock: truly in flight.
    federation_tests::eventually("the request to wait on the lock", Duration::from_secs(10), || {
        let pool = state.db.clone();
        async move {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(pool.pool())
            .await
            .ok()?;
            (waiting > 0).then_some(())
        }
    })
    .await;

    stop.send(()).unwrap();
    // Asserting that something does not happen needs a window; 300 ms is
    // ample for a server that would stop at once.
    let mut server = server;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut server)
            .await
            .is_err(),
        "server stopped with a request in flight"
    );
    assert!(!request.is_finished());

    locker.execute("COMMIT").await.unwrap();
    let response = request
        .await
        .unwrap()
        .expect("in-flight request was cut off");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["preferredUsername"],
        "blog"
    );
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server did not finish after its last request")
        .unwrap()
        .unwrap();
    state.db.close().await;
}
