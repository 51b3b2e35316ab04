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

/// Flags shared by every subcommand (they pick the instance and its database).
#[derive(Args, Clone, Debug)]
pub struct HubArgs {
    /// Base of every id the hub mints. `http://` means development mode
    /// (plain-http peers and loopback/private addresses allowed); `https://`
    /// means production (https only, private addresses refused).
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

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "ROSEFED_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub database_max_connections: u32,

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
    fn rejects_bad_app_names() {
        let mut a = args("http://localhost:1");
        a.apps = vec!["Blog!".into()];
        assert!(Config::from_args(&a).is_err());
    }
}
