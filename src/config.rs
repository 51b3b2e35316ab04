//! Runtime configuration: the command-line flags (each also an environment
//! variable) and the validated [`Config`] the rest of the hub reads.
//!
//! Everything the hub mints (actor ids, key ids, collection URLs) is derived
//! from one place, the public URL, so the URL helpers live here too.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use url::Url;

use crate::actors::AppName;
use crate::error::AppError;
use crate::fetch::NameLookup;
use crate::net::Cidr;

/// Flags shared by every subcommand (they pick the instance and its database).
#[derive(Args, Clone, Debug)]
pub struct HubArgs {
    /// Base of every id the hub mints. `http://` means development mode
    /// (plain-http peers and loopback/private addresses allowed); `https://`
    /// means production (https only, internal addresses refused except
    /// those in --allowed-private-address).
    #[arg(
        long,
        env = "ROSEFED_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,

    /// Directory for local state; the default SQLite database lives here and
    /// is created on first start.
    #[arg(long, env = "ROSEFED_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database to use: `sqlite://PATH` or `postgres://USER@HOST/DB`.
    /// [default: sqlite://<data-dir>/rosefed.db]
    #[arg(long, env = "ROSEFED_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Largest number of pooled database connections (SQLite: at most 8;
    /// at least one more than the writers that keep one each: 2 on SQLite,
    /// 3 on PostgreSQL).
    #[arg(
        long,
        env = "ROSEFED_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub database_max_connections: u32,

    #[command(flatten)]
    pub federation: FederationArgs,

    #[command(flatten)]
    pub oauth: OAuthArgs,

    /// Member apps created on the first start, when the database has never
    /// been seeded. Later changes go through `rosefed apps`.
    #[arg(
        long,
        env = "ROSEFED_APPS",
        value_delimiter = ',',
        default_value = "blog,market,events",
        global = true
    )]
    pub apps: Vec<String>,
}

/// Tuning of receiving and delivering. Defaults follow Mastodon's; the
/// federation tests shorten the retry timings through these flags.
#[derive(Args, Clone, Debug)]
pub struct FederationArgs {
    /// Largest inbox body accepted (413 beyond).
    #[arg(long, env = "ROSEFED_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Deepest JSON nesting accepted in an inbox body (400 beyond).
    #[arg(
        long,
        env = "ROSEFED_MAX_JSON_DEPTH",
        default_value_t = 64,
        global = true
    )]
    pub max_json_depth: usize,
    /// Speak only JSON-LD: neither advertise, accept nor send
    /// `application/sexp` (docs/sexp.md). By default the hub speaks sexp to
    /// peers whose actors say they take it, and JSON-LD to everyone else.
    #[arg(long, env = "ROSEFED_NO_SEXP", global = true)]
    pub no_sexp: bool,
    /// How outgoing requests are signed. `double-knock`: RFC 9421 with the
    /// Ed25519 key first, and draft-cavage with the RSA key for hosts that
    /// refuse it (remembered for a week). `cavage`: draft-cavage only.
    /// Either way, incoming requests may use either scheme.
    #[arg(
        long,
        env = "ROSEFED_HTTP_SIGNATURES",
        value_enum,
        default_value_t = HttpSignatures::DoubleKnock,
        global = true
    )]
    pub http_signatures: HttpSignatures,
    /// Authorized fetch (Mastodon's "secure mode"): GETs of actors,
    /// objects and collections must be signed by a server that is not
    /// suspended here. The instance actor, WebFinger, NodeInfo and HTML
    /// pages stay open.
    #[arg(long, env = "ROSEFED_AUTHORIZED_FETCH", global = true)]
    pub authorized_fetch: bool,
    /// Oldest `created` a sexp envelope may carry, and a FEP-8b32 proof may
    /// carry to prove an activity without the actor's HTTP signature, in
    /// seconds: how long a forwarded or relayed activity stays verifiable
    /// by its own signature.
    #[arg(
        long,
        env = "ROSEFED_SEXP_SIGNATURE_MAX_AGE_SECS",
        default_value_t = 24 * 3600,
        global = true
    )]
    pub sexp_signature_max_age_secs: u64,
    /// Allowed clock skew of a signed request's Date, in seconds.
    #[arg(
        long,
        env = "ROSEFED_SIGNATURE_MAX_SKEW_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub signature_max_skew_secs: u64,
    /// Days received activities are kept (for dedup and audit).
    #[arg(
        long,
        env = "ROSEFED_RECEIVED_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub received_retention_days: u64,
    /// First retry delay of a failed delivery, in milliseconds; each later
    /// retry doubles it (with jitter), capped at 12 h.
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_RETRY_BASE_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub delivery_retry_base_ms: u64,
    /// Attempts before a delivery is given up (dead). 14 attempts from a
    /// 60 s base span about two days (Mastodon: 16 over 2-3 days).
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_MAX_ATTEMPTS",
        default_value_t = 14,
        global = true
    )]
    pub delivery_max_attempts: u32,
    /// A host failing this long is skipped until it is heard from again.
    #[arg(long, env = "ROSEFED_DELIVERY_UNAVAILABLE_AFTER_SECS", default_value_t = 3 * 24 * 3600, global = true)]
    pub delivery_unavailable_after_secs: u64,
    /// Deliveries in flight per process.
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_CONCURRENCY",
        default_value_t = 64,
        global = true
    )]
    pub delivery_concurrency: usize,
    /// Deliveries in flight to one host per process.
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_PER_HOST",
        default_value_t = 8,
        global = true
    )]
    pub delivery_per_host: usize,
    /// How long a claimed delivery is reserved for its worker; a crashed
    /// worker's jobs are retried after this.
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub delivery_lease_secs: u64,
    /// How often an idle worker looks for due jobs, in milliseconds.
    #[arg(
        long,
        env = "ROSEFED_DELIVERY_POLL_MS",
        default_value_t = 500,
        global = true
    )]
    pub delivery_poll_ms: u64,
    /// Internal addresses (IPs or CIDR ranges, repeatable; comma-separated
    /// in the environment) that production mode may fetch from and deliver
    /// to after all, e.g. a peer on the same private network. Every other
    /// internal address (loopback, private, link-local, …) stays refused.
    #[arg(
        long = "allowed-private-address",
        env = "ROSEFED_ALLOWED_PRIVATE_ADDRESSES",
        value_delimiter = ',',
        global = true
    )]
    pub allowed_private_addresses: Vec<String>,
    /// PEM file of extra certificate authorities to trust for outgoing
    /// https, on top of the system's (e.g. a private CA of peers on an
    /// internal network).
    #[arg(long, env = "ROSEFED_EXTRA_CA_FILE", global = true)]
    pub extra_ca_file: Option<PathBuf>,
}

/// How outgoing requests are signed (`--http-signatures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpSignatures {
    /// RFC 9421 first, draft-cavage for hosts that refuse it.
    DoubleKnock,
    /// draft-cavage only.
    Cavage,
}

impl Default for FederationArgs {
    fn default() -> FederationArgs {
        FederationArgs {
            max_body_bytes: 1024 * 1024,
            max_json_depth: 64,
            no_sexp: false,
            http_signatures: HttpSignatures::DoubleKnock,
            authorized_fetch: false,
            sexp_signature_max_age_secs: 24 * 3600,
            signature_max_skew_secs: 3600,
            received_retention_days: 30,
            delivery_retry_base_ms: 60_000,
            delivery_max_attempts: 14,
            delivery_unavailable_after_secs: 3 * 24 * 3600,
            delivery_concurrency: 64,
            delivery_per_host: 8,
            delivery_lease_secs: 60,
            delivery_poll_ms: 500,
            allowed_private_addresses: Vec::new(),
            extra_ca_file: None,
        }
    }
}

/// Lifetimes and limits of the authorization server. Defaults follow
/// common practice (Hydra, Mastodon); tests shorten them.
#[derive(Args, Clone, Debug)]
pub struct OAuthArgs {
    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "ROSEFED_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds (each use rotates it).
    #[arg(long, env = "ROSEFED_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl_secs: u64,
    /// Lifetime of authorization codes, in seconds (RFC 6749 suggests at most 600).
    #[arg(
        long,
        env = "ROSEFED_CODE_TTL_SECS",
        default_value_t = 60,
        global = true
    )]
    pub code_ttl_secs: u64,
    /// Lifetime of a sign-in (the SSO session), in seconds.
    #[arg(long, env = "ROSEFED_SESSION_TTL_SECS", default_value_t = 14 * 24 * 3600, global = true)]
    pub session_ttl_secs: u64,
    /// Failed sign-ins for one account within the lockout window before
    /// further attempts get 429.
    #[arg(
        long,
        env = "ROSEFED_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub login_max_failures_per_account: u32,
    /// Failed sign-ins from one client IP within the window before 429.
    #[arg(
        long,
        env = "ROSEFED_LOGIN_MAX_FAILURES_PER_IP",
        default_value_t = 20,
        global = true
    )]
    pub login_max_failures_per_ip: u32,
    /// The throttling window, in seconds.
    #[arg(
        long,
        env = "ROSEFED_LOGIN_WINDOW_SECS",
        default_value_t = 900,
        global = true
    )]
    pub login_window_secs: u64,
    /// How long a process may reuse a looked-up client or active access
    /// token (0: always ask the database). A revocation made by this
    /// process applies at once; one made by another process applies at
    /// once on PostgreSQL (it notifies every process), and within this
    /// many seconds on SQLite or when a notification is lost.
    #[arg(
        long,
        env = "ROSEFED_TOKEN_CACHE_SECS",
        default_value_t = 5,
        global = true
    )]
    pub token_cache_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` names the client (IPs or
    /// CIDR ranges, repeatable; comma-separated in the environment).
    /// Without it the connection's address is the client's, so behind a
    /// proxy every sign-in would count against the proxy's address.
    #[arg(
        long = "trusted-proxy",
        env = "ROSEFED_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,
}

impl Default for OAuthArgs {
    fn default() -> OAuthArgs {
        OAuthArgs {
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            code_ttl_secs: 60,
            session_ttl_secs: 14 * 24 * 3600,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 20,
            login_window_secs: 900,
            token_cache_secs: 5,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Whether the hub talks to the open internet or to a developer's machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `http://` public URL: plain-http peers and private addresses allowed.
    Development,
    /// `https://` public URL: https only, private addresses refused.
    Production,
}

/// Validated configuration. Cheap to clone; shared through `Arc` in state.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public base URL without a trailing slash, e.g. `https://coop.example`.
    base: String,
    public_url: Url,
    /// `host[:port]` as it appears in `acct:` handles.
    authority: String,
    /// Host name alone, used as the instance actor's username.
    domain: String,
    pub mode: Mode,
    pub database_url: String,
    pub database_max_connections: u32,
    pub seed_apps: Vec<AppName>,
    pub federation: FederationArgs,
    pub oauth: OAuthArgs,
    /// Parsed `--trusted-proxy` ranges.
    pub trusted_proxies: Vec<Cidr>,
    /// Parsed `--allowed-private-address` ranges.
    pub allowed_private_addresses: Vec<Cidr>,
    /// How outgoing requests look names up. Not a flag: `None` (what
    /// [`Config::from_args`] sets) is the system resolver; tests set a
    /// fixed table, to point a production-mode hub at loopback and private
    /// addresses without touching DNS. The SSRF guard checks its answers
    /// either way.
    pub name_lookup: Option<NameLookup>,
}

impl HubArgs {
    /// Every default, with this public URL: what `rosefed --public-url URL`
    /// alone gives (for unit tests and the fuzz checks, which need a
    /// configuration but no database).
    pub fn with_public_url(public_url: &str) -> HubArgs {
        HubArgs {
            public_url: public_url.into(),
            data_dir: "data".into(),
            database_url: None,
            database_max_connections: 1,
            apps: Vec::new(),
            federation: FederationArgs::default(),
            oauth: OAuthArgs::default(),
        }
    }
}

impl Config {
    /// Validates the flags. Every failure names the flag and what is wrong.
    pub fn from_args(args: &HubArgs) -> Result<Config, AppError> {
        let public_url = Url::parse(&args.public_url).map_err(|e| {
            AppError::BadRequest(format!(
                "--public-url '{}' is not a URL: {e}",
                args.public_url
            ))
        })?;
        let mode = match public_url.scheme() {
            "http" => Mode::Development,
            "https" => Mode::Production,
            other => {
                return Err(AppError::BadRequest(format!(
                    "--public-url must start with http:// or https://, not {other}://"
                )))
            }
        };
        let domain = public_url
            .host_str()
            .ok_or_else(|| AppError::BadRequest("--public-url has no host".into()))?
            .to_ascii_lowercase();
        if public_url.path() != "/"
            || public_url.query().is_some()
            || public_url.fragment().is_some()
        {
            return Err(AppError::BadRequest(format!(
                "--public-url must be an origin such as https://coop.example (no path, query or fragment), got '{}'",
                args.public_url
            )));
        }
        let authority = match public_url.port() {
            Some(port) => format!("{domain}:{port}"),
            None => domain.clone(),
        };
        let base = format!("{}://{authority}", public_url.scheme());

        let seed_apps = args
            .apps
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| AppName::parse(s).map_err(|e| AppError::BadRequest(format!("--apps: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;

        let database_url = match &args.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", args.data_dir.join("rosefed.db").display()),
        };

        Ok(Config {
            base,
            public_url,
            authority,
            domain,
            mode,
            database_url,
            database_max_connections: args.database_max_connections.max(1),
            seed_apps,
            federation: args.federation.clone(),
            oauth: args.oauth.clone(),
            trusted_proxies: cidrs("--trusted-proxy", &args.oauth.trusted_proxies)?,
            allowed_private_addresses: cidrs(
                "--allowed-private-address",
                &args.federation.allowed_private_addresses,
            )?,
            name_lookup: None,
        })
    }

    /// Default listen address: loopback, on the public URL's port.
    pub fn default_bind(&self) -> SocketAddr {
        let port = self.public_url.port_or_known_default().unwrap_or(8080);
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// The public base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.public_url.scheme()
    }

    /// `host[:port]`, the part after `@` in handles.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host name alone.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// An absolute URL on this hub; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Id of an app's virtual actor.
    pub fn actor_id(&self, app: &AppName) -> String {
        self.url(&format!("/actors/{app}"))
    }

    /// Id of the instance actor.
    pub fn instance_actor_id(&self) -> String {
        self.url("/actor")
    }

    /// `@name@authority`.
    pub fn handle(&self, app: &AppName) -> String {
        format!("@{app}@{}", self.authority)
    }
}

/// Parses a list of ranges given to `flag`, ignoring empty entries (a
/// trailing comma in the environment).
fn cidrs(flag: &str, texts: &[String]) -> Result<Vec<Cidr>, AppError> {
    texts
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Cidr::parse(t).map_err(|e| AppError::BadRequest(format!("{flag} {e}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> HubArgs {
        HubArgs {
            public_url: url.into(),
            data_dir: "data".into(),
            database_url: None,
            database_max_connections: 4,
            apps: vec!["blog".into(), " market ".into(), "".into()],
            federation: FederationArgs::default(),
            oauth: OAuthArgs::default(),
        }
    }

    #[test]
    fn http_means_development_and_keeps_the_port() {
        let c = Config::from_args(&args("http://127.0.0.1:8080")).unwrap();
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(c.authority(), "127.0.0.1:8080");
        assert_eq!(c.base(), "http://127.0.0.1:8080");
        assert_eq!(c.default_bind(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.seed_apps.len(), 2);
        assert!(c.database_url.starts_with("sqlite://data"));
    }

    #[test]
    fn https_means_production_and_drops_the_default_port() {
        let c = Config::from_args(&args("https://Coop.Example/")).unwrap();
        assert_eq!(c.mode, Mode::Production);
        assert_eq!(c.authority(), "coop.example");
        assert_eq!(
            c.actor_id(&AppName::parse("blog").unwrap()),
            "https://coop.example/actors/blog"
        );
        assert_eq!(c.default_bind().port(), 443);
    }

    #[test]
    fn rejects_bad_public_urls() {
        for bad in ["ftp://x", "not a url", "https://x/sub", "https://x/?q=1"] {
            assert!(Config::from_args(&args(bad)).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn allowed_private_addresses_are_ranges() {
        let mut a = args("https://coop.example");
        a.federation.allowed_private_addresses = vec!["10.1.0.0/16".into(), "".into()];
        let c = Config::from_args(&a).unwrap();
        assert_eq!(c.allowed_private_addresses.len(), 1);
        assert!(c.allowed_private_addresses[0].contains("10.1.2.3".parse().unwrap()));
        a.federation.allowed_private_addresses = vec!["10.0.0.0/33".into()];
        let e = Config::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("--allowed-private-address"), "{e}");
    }

    #[test]
    fn rejects_bad_app_names() {
        let mut a = args("http://localhost:1");
        a.apps = vec!["Blog!".into()];
        assert!(Config::from_args(&a).is_err());
    }
}
