//! Harness for black-box tests of rosefed: fresh databases on SQLite and
//! PostgreSQL ([`database`]), real hub processes started from the built
//! binary ([`hub`]), an instance as the federation tests drive it
//! ([`instance`]), a stand-in fediverse server ([`peer`]), a reader of
//! the hubs' metrics ([`metrics`]), and the container side of the Docker
//! harness ([`faults`]). It never links
//! rosefed itself, so what it tests is exactly what an operator runs.
//! rosefed's own integration tests reuse [`database`] so both suites create
//! and drop databases the same way.

pub mod database;
pub mod faults;
pub mod hub;
pub mod instance;
pub mod metrics;
pub mod peer;

use std::time::{Duration, Instant};

/// An HTTP client for tests. When the workspace is built together,
/// reqwest carries rosefed's TLS feature, which needs a process-wide
/// rustls crypto provider before any client is built; this installs it.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::new()
}

/// A port that was free a moment ago (the OS picks it). Used where a
/// process must know its public URL before it binds.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// How long a federation test waits for something to arrive.
pub const WAIT: Duration = Duration::from_secs(60);

/// Polls until `$check` holds on the value `$get` yields (re-evaluated each
/// time), and returns that value; panics after [`WAIT`].
#[macro_export]
macro_rules! wait_for {
    ($what:expr, $get:expr, $check:expr) => {
        $crate::eventually($what, $crate::WAIT, || async {
            let v = $get;
            if $check(&v) {
                Some(v)
            } else {
                None
            }
        })
        .await
    };
}

/// Polls `check` until it returns `Some`, or panics with `what` after
/// `timeout`. Tests wait on conditions, never on fixed sleeps.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a request and parses its JSON answer, panicking with the URL on
/// any failure: the tail every test request shares.
pub trait SendJson {
    fn send_json(self) -> impl std::future::Future<Output = serde_json::Value> + Send;
}

impl SendJson for reqwest::RequestBuilder {
    async fn send_json(self) -> serde_json::Value {
        let response = self
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let url = response.url().to_string();
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
    }
}

/// Accept header of ActivityPub fetches.
pub const ACTIVITY_JSON: &str = "application/activity+json";

/// GETs `url` with `Accept: application/activity+json` and parses JSON,
/// panicking with the URL on any failure.
pub async fn get_ap_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let response = client
        .get(url)
        .header("Accept", ACTIVITY_JSON)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests from
/// `async fn NAME(db: TestDatabase)`, each on a fresh database. The
/// PostgreSQL variant skips loudly (or fails, when required) if PostgreSQL
/// is unreachable.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::database::TestDatabase::create(
                        $crate::database::Backend::Sqlite,
                    ).await.expect("SQLite is always available");
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::database::TestDatabase::create(
                        $crate::database::Backend::Postgres,
                    ).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}
