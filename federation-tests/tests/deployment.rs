//! One deployment, several processes: two real hubs behind one public URL
//! on one database (and the CLI as a third process), as an operator scales
//! out. What must hold for the deployment as a whole, not per process:
//! the login throttle's limits, and revocations reaching every process's
//! token cache at once (PostgreSQL's LISTEN/NOTIFY).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use federation_tests::database::{Backend, TestDatabase};
use federation_tests::hub::{cli, cli_with_input, Hub};
use federation_tests::{free_port, on_both_databases, wait_for};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";
const REDIRECT: &str = "http://127.0.0.1:9/blog/callback";
/// Any 43 characters: the CSRF check is a double-submit cookie.
const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

/// Two processes serving one public URL from one database, with `extra`
/// flags, the member `alice` and the `blog` app's OAuth client secret.
struct Deployment {
    public: String,
    one: Hub,
    two: Hub,
    blog_secret: String,
    db: TestDatabase,
}

impl Deployment {
    async fn start(db: TestDatabase, extra: &[&str]) -> Deployment {
        let public_port = free_port();
        let public = format!("http://127.0.0.1:{public_port}");
        // The first start creates the schema; the second joins it.
        let mut one = Hub::spawn_behind(public_port, public_port, &db.url, db.dir.path(), extra);
        one.wait_healthy().await;
        let mut two = Hub::spawn_behind(public_port, free_port(), &db.url, db.dir.path(), extra);
        two.wait_healthy().await;
        cli_with_input(
            &public,
            &db.url,
            db.dir.path(),
            &[
                "users",
                "add",
                "alice",
                "--email",
                "alice@coop.example",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        );
        let printed = cli(
            &public,
            &db.url,
            db.dir.path(),
            &["apps", "oauth", "blog", "--redirect-uri", REDIRECT],
        );
        let blog_secret = printed
            .lines()
            .find_map(|l| l.strip_prefix("client_secret: "))
            .expect("apps oauth prints the secret")
            .to_string();
        Deployment {
            public,
            one,
            two,
            blog_secret,
            db,
        }
    }

    /// `path` on process `hub` (each listens on its own port).
    fn at(hub: &Hub, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", hub.bind_port)
    }

    fn disable(&self, name: &str) {
        cli(
            &self.public,
            &self.db.url,
            self.db.dir.path(),
            &["users", "disable", name],
        );
    }

    /// A form POSTed to `path` at process `hub` with the `blog` client's
    /// credentials, as the token, revoke and introspect endpoints take it.
    async fn post_as_blog(
        &self,
        hub: &Hub,
        path: &str,
        pairs: &[(&str, &str)],
    ) -> reqwest::Response {
        client()
            .post(Deployment::at(hub, path))
            .basic_auth("blog", Some(&self.blog_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
            .send()
            .await
            .unwrap()
    }

    /// Whether process `hub` introspects `token` as active (asked as the
    /// `blog` client, whose token it is).
    async fn active_at(&self, hub: &Hub, token: &str) -> bool {
        let answer: Value = self
            .post_as_blog(hub, "/oauth/introspect", &[("token", token)])
            .await
            .json()
            .await
            .unwrap();
        answer["active"].as_bool().unwrap()
    }
}

/// No redirects followed: the tests read `Location` themselves.
fn client() -> reqwest::Client {
    let _ = federation_tests::http();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A sign-in at `hub`: its status, and the session cookie if one was set.
async fn sign_in(hub: &Hub, password: &str) -> (u16, Option<String>) {
    let response = client()
        .post(Deployment::at(hub, "/login"))
        .header("cookie", format!("rosefed_csrf={CSRF}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", CSRF),
            ("username", "alice"),
            ("password", password),
        ]))
        .send()
        .await
        .unwrap();
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("rosefed_session="))
        .and_then(|c| c.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    (response.status().as_u16(), session)
}

/// An access token for alice at the `blog` app: the code flow with PKCE at
/// `hub`, with her session.
async fn member_token(d: &Deployment, hub: &Hub, session: &str) -> String {
    let verifier = format!(
        "{}-verifier-of-enough-length-for-pkce",
        uuid::Uuid::new_v4()
    );
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let authorize = client()
        .get(Deployment::at(hub, "/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "blog"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .header("cookie", format!("rosefed_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        authorize.status().as_u16(),
        303,
        "a first-party app needs no consent"
    );
    let location = url::Url::parse(authorize.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect");
    let tokens: Value = d
        .post_as_blog(
            hub,
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {tokens}"))
        .to_string()
}

on_both_databases!(the_login_throttle_counts_for_the_whole_deployment);

async fn the_login_throttle_counts_for_the_whole_deployment(db: TestDatabase) {
    let d = Deployment::start(
        db,
        &[
            "--login-max-failures-per-account",
            "4",
            "--login-max-failures-per-ip",
            "100",
        ],
    )
    .await;
    // Two failures at each process: four for the deployment.
    for hub in [&d.one, &d.two, &d.one, &d.two] {
        assert_eq!(sign_in(hub, "wrong-password").await.0, 401);
    }
    // Per-process counters would have let the right password in here.
    for hub in [&d.one, &d.two] {
        let (status, session) = sign_in(hub, PASSWORD).await;
        assert_eq!(status, 429, "the limit holds at every process");
        assert!(session.is_none());
    }
}

/// PostgreSQL only: SQLite has no notification channel, and there the
/// cache's lifetime (`--token-cache-secs`) is the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_every_process_at_once() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    // An hour: only the notification can end a cached token in time.
    let d = Deployment::start(db, &["--token-cache-secs", "3600"]).await;
    let (status, session) = sign_in(&d.one, PASSWORD).await;
    assert_eq!(status, 303);
    let session = session.expect("a session cookie");
    let revoked = member_token(&d, &d.one, &session).await;
    let disabled = member_token(&d, &d.one, &session).await;
    // The second process looks both up, so it holds them in its cache.
    for token in [&revoked, &disabled] {
        assert!(d.active_at(&d.two, token).await);
        assert!(d.active_at(&d.two, token).await);
    }

    // Revoked at one process: the other stops honouring it.
    let status = d
        .post_as_blog(&d.one, "/oauth/revoke", &[("token", &revoked)])
        .await
        .status();
    assert_eq!(status.as_u16(), 200);
    wait_for!(
        "the revoked token to be inactive at the other process",
        d.active_at(&d.two, &revoked).await,
        |active: &bool| !*active
    );
    assert!(d.active_at(&d.two, &disabled).await, "only that token");

    // Disabled by the CLI, a third process: both servers drop her token.
    d.disable("alice");
    for hub in [&d.two, &d.one] {
        wait_for!(
            "a disabled member's token to be inactive everywhere",
            d.active_at(hub, &disabled).await,
            |active: &bool| !*active
        );
    }
}
