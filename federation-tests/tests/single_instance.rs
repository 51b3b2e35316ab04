//! One real rosefed process per test, driven over HTTP only, on SQLite and
//! on PostgreSQL: discovery leads to actors that share one key, a restart
//! keeps that key, SIGTERM stops cleanly, and a first start killed half-way
//! is completed by the next start. (The two-instance federation tests join
//! this directory with the Federation core issue.)

use std::time::Duration;

use federation_tests::database::TestDatabase;
use federation_tests::hub::Hub;
use federation_tests::SendJson;
use federation_tests::{free_port, get_ap_json, on_both_databases};
use serde_json::Value;

async fn actor_key(client: &reqwest::Client, hub: &Hub, app: &str) -> (String, String, String) {
    let jrd: Value = client
        .get(hub.url("/.well-known/webfinger"))
        .query(&[("resource", format!("acct:{app}@127.0.0.1:{}", hub.port))])
        .send_json()
        .await;
    let href = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    let actor = get_ap_json(client, &href).await;
    (
        actor["id"].as_str().unwrap().to_string(),
        actor["publicKey"]["id"].as_str().unwrap().to_string(),
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

on_both_databases!(serve_restart_and_stop, killed_first_start_is_completed);

async fn serve_restart_and_stop(db: TestDatabase) {
    let client = federation_tests::http();
    let metrics_port = free_port().to_string();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut hub = Hub::start(&db.url, db.dir.path(), &["--metrics-bind", &metrics_bind]).await;
    let (blog_id, blog_key, blog_pem) = actor_key(&client, &hub, "blog").await;
    let (market_id, market_key, market_pem) = actor_key(&client, &hub, "market").await;
    assert_eq!(
        blog_pem, market_pem,
        "app actors must share the instance key"
    );
    assert_ne!(blog_id, market_id);
    assert_ne!(blog_key, market_key);

    let metrics = client
        .get(format!("http://{metrics_bind}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("rosefed_database_up 1"), "{metrics}");
    assert!(
        metrics.contains("route=\"/actors/{name}\",status=\"200\""),
        "{metrics}"
    );
    assert_eq!(
        client
            .get(hub.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "metrics must not be on the public port"
    );

    let status = hub.terminate().await;
    assert!(
        status.success(),
        "SIGTERM should stop cleanly: {status}\n{}",
        hub.output()
    );
    let out = hub.output();
    assert!(out.contains("is running"), "{out}");
    assert!(
        out.contains(&format!("@blog@127.0.0.1:{}", hub.port)),
        "{out}"
    );
    assert!(out.contains("stopped"), "{out}");

    let again = Hub::start_on(hub.port, &db.url, db.dir.path(), &[]).await;
    let (_, _, pem_after_restart) = actor_key(&client, &again, "blog").await;
    assert_eq!(
        pem_after_restart, blog_pem,
        "restart regenerated the keypair"
    );
    assert!(!again.output().contains("(new)"), "{}", again.output());
}

/// SIGKILL the first start at several moments after spawning it; whatever
/// it left, the next start completes it, and every start after that agrees
/// on the same key and apps. Which bootstrap step a kill lands in varies
/// with the machine's speed; `interrupted_bootstrap_is_completed` in
/// tests/api.rs covers a step boundary deterministically.
async fn killed_first_start_is_completed(first_db: TestDatabase) {
    let client = federation_tests::http();
    let backend = first_db.backend;
    let mut given = Some(first_db);
    for delay_ms in [0u64, 30, 120, 400] {
        let db = match given.take() {
            Some(db) => db,
            None => TestDatabase::create(backend)
                .await
                .expect("the backend answered a moment ago"),
        };
        let port = free_port();
        let mut first = Hub::spawn(port, &db.url, db.dir.path(), &[]);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        first.kill();

        let second = Hub::start_on(port, &db.url, db.dir.path(), &[]).await;
        let (_, _, pem) = actor_key(&client, &second, "events").await;
        let nodeinfo: Value = client.get(second.url("/nodeinfo/2.1")).send_json().await;
        assert_eq!(
            nodeinfo["usage"]["users"]["total"], 3,
            "after a kill at {delay_ms} ms"
        );
        drop(second);

        let third = Hub::start_on(port, &db.url, db.dir.path(), &[]).await;
        let (_, _, pem_again) = actor_key(&client, &third, "events").await;
        assert_eq!(pem, pem_again, "key changed after a kill at {delay_ms} ms");
    }
}
