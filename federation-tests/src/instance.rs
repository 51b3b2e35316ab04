//! One rosefed instance as the federation tests see it: a base URL and a
//! token for its `blog` app, driven only through the public HTTP API.
//! It is either a process this test started ([`Instance::spawn`]) or one
//! already running elsewhere, such as a container ([`Instance::external`]).

use std::time::SystemTime;

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::database::{Backend, TestDatabase};
use crate::free_port;
use crate::hub::{cli, Hub};
use crate::peer::Peer;

/// Short retry timings, through configuration (no test-only code paths).
/// docker-compose.federation.yml sets the same through the environment.
pub const FAST_DELIVERY: &[&str] = &[
    "--delivery-retry-base-ms",
    "200",
    "--delivery-poll-ms",
    "100",
    "--delivery-lease-secs",
    "3",
];

pub struct Instance {
    pub base: String,
    /// `host:port` of the public URL, as in a handle `@blog@host:port`.
    pub authority: String,
    pub token: String,
    /// Its Prometheus metrics, when known.
    pub metrics_url: Option<String>,
    /// The process, when this test started it.
    pub hub: Option<Hub>,
    pub db: Option<TestDatabase>,
    /// A stand-in server that signs this test's GETs when the instance
    /// wants them signed (authorized fetch); started on first need.
    pub observer: OnceCell<Peer>,
}

impl Instance {
    /// A fresh instance. On SQLite its token comes from `rosefed apps
    /// token`; on PostgreSQL from `--app-token` at start, so both ways of
    /// provisioning are exercised. `None` when PostgreSQL is unavailable
    /// and not required.
    pub async fn spawn(backend: Backend) -> Option<Instance> {
        Instance::spawn_with(backend, &[]).await
    }

    /// As [`Instance::spawn`], with `extra` flags (e.g. `--no-sexp`). Its
    /// metrics are served on a port of their own.
    pub async fn spawn_with(backend: Backend, extra: &[&str]) -> Option<Instance> {
        Instance::spawn_named(backend, "127.0.0.1", extra).await
    }

    /// As [`Instance::spawn_with`], with the public URL
    /// `http://{host}:{port}` (e.g. `localhost`: the same loopback address
    /// under a name another instance can block).
    pub async fn spawn_named(backend: Backend, host: &str, extra: &[&str]) -> Option<Instance> {
        let db = TestDatabase::create(backend).await?;
        let port = free_port();
        let base = format!("http://{host}:{port}");
        let metrics = format!("127.0.0.1:{}", free_port());
        let mut args = FAST_DELIVERY.to_vec();
        args.extend(["--metrics-bind", metrics.as_str()]);
        args.extend(extra);
        let (token, hub) = if backend == Backend::Sqlite {
            let token = cli(&base, &db.url, db.dir.path(), &["apps", "token", "blog"])
                .trim()
                .to_string();
            (token, start(host, port, &db, &args).await)
        } else {
            let token = format!("provisioned-{}", uuid::Uuid::new_v4());
            let flag = format!("blog={token}");
            args.extend(["--app-token", flag.as_str()]);
            (token, start(host, port, &db, &args).await)
        };
        Some(Instance {
            authority: format!("{host}:{port}"),
            base,
            token,
            metrics_url: Some(format!("http://{metrics}/metrics")),
            hub: Some(hub),
            db: Some(db),
            observer: OnceCell::new(),
        })
    }

    /// The instance named by `ROSEFED_{prefix}_URL` and
    /// `ROSEFED_{prefix}_TOKEN` (a token for its `blog` app), if both are set.
    pub fn external(prefix: &str) -> Option<Instance> {
        let base = std::env::var(format!("ROSEFED_{prefix}_URL")).ok()?;
        let token = std::env::var(format!("ROSEFED_{prefix}_TOKEN")).ok()?;
        let mut instance = Instance::at(&base, &token)?;
        instance.metrics_url = std::env::var(format!("ROSEFED_{prefix}_METRICS_URL")).ok();
        Some(instance)
    }

    /// The instance at `base` whose `blog` app holds `token`, started by
    /// someone else; `None` if `base` is not a URL with a host.
    pub fn at(base: &str, token: &str) -> Option<Instance> {
        let url = url::Url::parse(base).ok()?;
        let host = url.host_str()?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Some(Instance {
            base: base.trim_end_matches('/').to_string(),
            authority,
            token: token.to_string(),
            metrics_url: None,
            hub: None,
            db: None,
            observer: OnceCell::new(),
        })
    }

    /// Activities this instance's inboxes accepted in `format` (`sexp` or
    /// `jsonld`), from its metrics; `None` when its metrics are unknown.
    pub async fn received(&self, format: &str) -> Option<f64> {
        let url = self.metrics_url.as_deref()?;
        let scrape = crate::metrics::scrape(url).await;
        Some(crate::metrics::sum(
            &scrape,
            "rosefed_inbox_activities_total",
            &[&format!("format=\"{format}\"")],
        ))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` to the blog app's API at `path` and returns the JSON
    /// answer, panicking with the status and body unless it is a success.
    pub async fn api(&self, path: &str, body: Value) -> Value {
        let r = crate::http()
            .post(self.url(&format!("/api/v1/apps/blog{path}")))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path} {body}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: not JSON: {e}"))
    }

    /// Publishes a post as `blog`; returns the ids of the post and of its
    /// Create activity.
    pub async fn publish(&self, content: &str) -> (String, String) {
        let created = self
            .api("/posts", serde_json::json!({ "content": content }))
            .await;
        let id = |v: &Value| v.as_str().map(str::to_string);
        match (id(&created["id"]), id(&created["activity"]["id"])) {
            (Some(post), Some(activity)) => (post, activity),
            _ => panic!("publishing answered without ids: {created}"),
        }
    }

    /// The stored copy of a post, if this instance has it.
    pub async fn stored(&self, id: &str) -> Option<Value> {
        let r = crate::http()
            .get(self.url("/api/v1/objects"))
            .query(&[("id", id)])
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        if r.status() != 200 {
            return None;
        }
        r.json().await.ok()
    }

    /// `totalItems` of a collection (followers, following, outbox), or -1.
    /// An instance with authorized fetch answers unsigned GETs 401; then
    /// the GET is signed by an observer, a stand-in server of the test's.
    pub async fn total(&self, path: &str) -> i64 {
        let url = self.url(path);
        let client = crate::http();
        let unsigned = client
            .get(&url)
            .header("accept", crate::ACTIVITY_JSON)
            .send()
            .await;
        let doc: Value = match unsigned {
            Ok(r) if r.status() == 401 => {
                let observer = self
                    .observer
                    .get_or_init(|| Peer::start(false, false))
                    .await;
                let mut request = client.get(&url).header("accept", crate::ACTIVITY_JSON);
                for (k, v) in
                    observer.sign(&observer.key_id(0), "GET", &url, b"", SystemTime::now())
                {
                    request = request.header(k, v);
                }
                match request.send().await {
                    Ok(r) => r.json().await.unwrap_or_default(),
                    Err(_) => Value::Null,
                }
            }
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        doc["totalItems"].as_i64().unwrap_or(-1)
    }
}

/// Starts a hub for an instance on `port`, named `host`.
async fn start(host: &str, port: u16, db: &TestDatabase, args: &[&str]) -> Hub {
    if host == "127.0.0.1" {
        Hub::start_on(port, &db.url, db.dir.path(), args).await
    } else {
        Hub::start_named_on(host, port, &db.url, db.dir.path(), args).await
    }
}
