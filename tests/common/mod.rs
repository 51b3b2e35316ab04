//! spawn_app for integration tests: the real router on a port-0 listener,
//! against a fresh database, on SQLite or PostgreSQL.

#![allow(dead_code)] // each test binary uses a different part of this

pub mod browser;
pub mod chromium;

use federation_tests::database::TestDatabase;
use rosefed::config::{Config, HubArgs};
use rosefed::fetch::NameLookup;
use rosefed::instance::{self, AppState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestApp {
    /// Where the test reaches the hub: `http://127.0.0.1:PORT`.
    pub base: String,
    pub authority: String,
    /// The hub's own `--public-url` (the same as `base`, except for a
    /// production hub).
    pub public_url: String,
    pub state: AppState,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    args: HubArgs,
    lookup: Option<NameLookup>,
    // Last, so the server stops before the database is dropped.
    pub db: TestDatabase,
}

pub fn hub_args(database_url: &str, public_url: &str) -> HubArgs {
    HubArgs {
        public_url: public_url.to_string(),
        data_dir: "unused".into(),
        database_url: Some(database_url.to_string()),
        database_max_connections: 5,
        apps: vec!["blog".into(), "market".into(), "events".into()],
        federation: Default::default(),
        oauth: Default::default(),
    }
}

/// Bootstraps state from `args` (names looked up in `lookup`, if given)
/// and serves it on `listener` with a delivery worker, until the returned
/// sender fires.
async fn start(
    listener: TcpListener,
    args: &HubArgs,
    lookup: Option<NameLookup>,
) -> (AppState, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let mut config = Config::from_args(args).unwrap();
    config.name_lookup = lookup;
    let (state, _) = instance::prepare(config).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (worker_stop, worker_stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(rosefed::delivery::run(state.clone(), worker_stopped));
    let server = tokio::spawn({
        let state = state.clone();
        async move {
            let _ = rosefed::server::run(listener, state, async move {
                let _ = stopped.await;
                let _ = worker_stop.send(true);
            })
            .await;
        }
    });
    (state, stop, server)
}

impl TestApp {
    pub async fn spawn(db: TestDatabase) -> TestApp {
        TestApp::spawn_with(db, |_| {}).await
    }

    /// As [`TestApp::spawn`], with the flags adjusted by `tune` (e.g. short
    /// retry timings).
    pub async fn spawn_with(db: TestDatabase, tune: impl FnOnce(&mut HubArgs)) -> TestApp {
        TestApp::launch(db, None, None, tune).await
    }

    /// A production-mode hub: public URL `public_url` (https), reached by
    /// the test at `base` all the same, its outgoing requests looking names
    /// up in `lookup` under the SSRF guard, as a hub on the internet looks
    /// them up in DNS.
    pub async fn spawn_production(
        db: TestDatabase,
        public_url: &str,
        lookup: NameLookup,
        tune: impl FnOnce(&mut HubArgs),
    ) -> TestApp {
        TestApp::launch(db, Some(public_url), Some(lookup), tune).await
    }

    async fn launch(
        db: TestDatabase,
        public_url: Option<&str>,
        lookup: Option<NameLookup>,
        tune: impl FnOnce(&mut HubArgs),
    ) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let public_url = public_url.unwrap_or(&base).to_string();
        let mut args = hub_args(&db.url, &public_url);
        tune(&mut args);
        let (state, stop, server) = start(listener, &args, lookup.clone()).await;
        TestApp {
            authority: format!("127.0.0.1:{port}"),
            base,
            public_url,
            state,
            client: federation_tests::http(),
            stop: Some(stop),
            server: Some(server),
            args,
            lookup,
            db,
        }
    }

    /// Stops the server and starts a new one on the same port and database:
    /// nothing held in memory survives, as after a process restart.
    pub async fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let listener = TcpListener::bind(&self.authority).await.unwrap();
        let (state, stop, server) = start(listener, &self.args, self.lookup.clone()).await;
        self.state = state;
        self.stop = Some(stop);
        self.server = Some(server);
    }

    /// A fresh publishing-API token for `app`.
    pub async fn token(&self, app: &str) -> String {
        let name = rosefed::actors::AppName::parse(app).unwrap();
        let token = rosefed::outbox::app_token::new_token().unwrap();
        rosefed::db::activities::add_token(
            &self.state.db,
            &name,
            &rosefed::outbox::app_token::token_hash(&token),
        )
        .await
        .unwrap();
        token
    }

    /// A single number from SQL, e.g. a COUNT.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.state.db.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A single text value from SQL (`None` for no row or NULL), e.g. a
    /// stored column.
    pub async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(self.state.db.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .flatten()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_as(&self, path: &str, accept: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Accept", accept)
            .send()
            .await
            .unwrap()
    }

    /// GET with `Accept: application/activity+json`, asserting 200 and the
    /// ActivityStreams media type.
    pub async fn get_ap(&self, path: &str) -> serde_json::Value {
        let r = self.get_as(path, "application/activity+json").await;
        assert_eq!(r.status(), 200, "GET {path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/activity+json",
            "GET {path}"
        );
        r.json().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
