//! The command line: `rosefed serve | migrate | apps … | keys show`.
//! Every flag is also an environment variable (`ROSEFED_…`); `--help` on
//! any command explains it.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

use crate::actors::{self, AppName};
use crate::config::{Config, HubArgs};
use crate::db::{self, collections};
use crate::error::AppError;
use crate::instance;
use crate::keys::InstanceKeys;
use crate::server;

#[derive(Parser, Debug)]
#[command(
    name = "rosefed",
    version,
    about = "Federation hub of the Rose Ash co-op",
    long_about = "Federation hub of the Rose Ash co-op.\n\n\
        Each member app (blog, market, events, …) appears on the fediverse as its own actor \
        (@blog@your.host), all signed with one instance keypair.\n\n\
        Start with `rosefed serve`: the first start creates a SQLite database under ./data, \
        the instance keypair and the apps named by --apps."
)]
pub struct Cli {
    #[command(flatten)]
    pub hub: HubArgs,

    /// Log format on stderr. Levels come from RUST_LOG (default: info for
    /// `serve`, warn for other commands).
    #[arg(long, env = "ROSEFED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the hub: migrate, bootstrap on first start, serve HTTP.
    Serve {
        /// Address to listen on [default: 127.0.0.1 and the public URL's port].
        #[arg(long, env = "ROSEFED_BIND")]
        bind: Option<SocketAddr>,
        /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of
        /// its own so they stay off the public port [default: off].
        #[arg(long, env = "ROSEFED_METRICS_BIND")]
        metrics_bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage member apps (each one is a fediverse actor).
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Inspect the instance keypair.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand, Debug)]
pub enum AppsCommand {
    /// Create an app and its actor @NAME@host.
    Add {
        /// 1-30 characters of a-z, 0-9 and _.
        name: String,
        /// Name shown on profiles [default: NAME capitalised].
        #[arg(long)]
        display_name: Option<String>,
        /// Plain-text description shown on profiles.
        #[arg(long)]
        summary: Option<String>,
    },
    /// List apps with their handles and follower counts.
    List,
    /// Remove an app. Refused while it has followers unless --force.
    Remove {
        name: String,
        /// Remove even though remote followers still follow it.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print the public halves of the instance keypair.
    Show,
}

impl Cli {
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve { .. } => "info",
            _ => "warn",
        }
    }
}

/// Runs a parsed command. Output for people goes to stdout; errors are
/// returned for `main` to print as one line.
pub async fn run(cli: Cli) -> Result<(), AppError> {
    let config = Config::from_args(&cli.hub)?;
    match cli.command {
        Command::Serve { bind, metrics_bind } => server::serve(config, bind, metrics_bind).await,
        Command::Migrate => {
            let db = instance::open_database(&config).await?;
            db.migrate().await?;
            println!(
                "database {} is up to date",
                db::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Apps(cmd) => apps(config, cmd).await,
        Command::Keys(KeysCommand::Show) => {
            let db = instance::open_existing(&config).await?;
            let stored = db::keys::load(&db).await?.ok_or_else(|| {
                AppError::NotFound(
                    "this database has no instance keypair yet: run `rosefed serve` once".into(),
                )
            })?;
            let keys = InstanceKeys::from_stored(&stored)?;
            println!("RSA-2048 (HTTP Signatures; publicKey of every actor)");
            println!("  sha256:{}", keys.rsa_fingerprint());
            print!("{}", keys.rsa_public_pem());
            println!("Ed25519 (Multikey, assertionMethod of every actor)");
            println!("  {}", keys.ed25519_multibase());
            Ok(())
        }
    }
}

async fn apps(config: Config, cmd: AppsCommand) -> Result<(), AppError> {
    if let AppsCommand::List = cmd {
        // Read-only: never bootstraps a database a typo pointed at.
        let db = instance::open_existing(&config).await?;
        return list_apps(&db, &config).await;
    }
    let (state, _) = instance::prepare(config).await?;
    let (db, config) = (&state.db, &state.config);
    match cmd {
        AppsCommand::Add {
            name,
            display_name,
            summary,
        } => {
            let name = AppName::parse(&name)?;
            let app = actors::apps::new_app(name, display_name.as_deref(), summary.as_deref())?;
            actors::apps::add(db, config, &app).await?;
            println!(
                "added {} ({}) at {}",
                config.handle(&app.name),
                app.display_name,
                config.actor_id(&app.name)
            );
        }
        AppsCommand::List => list_apps(db, config).await?,
        AppsCommand::Remove { name, force } => {
            let name = AppName::parse(&name)?;
            actors::apps::remove(db, &name, force).await?;
            println!("removed {}", config.handle(&name));
        }
    }
    Ok(())
}

async fn list_apps(db: &db::Db, config: &Config) -> Result<(), AppError> {
    let apps = db::apps::list(db).await?;
    if apps.is_empty() {
        println!("no apps; add one with `rosefed apps add NAME`");
        return Ok(());
    }
    println!(
        "{:<20} {:<40} {:>9}  DISPLAY NAME",
        "NAME", "HANDLE", "FOLLOWERS"
    );
    for app in apps {
        let followers =
            collections::count(db, &app.name, collections::Collection::Followers).await?;
        println!(
            "{:<20} {:<40} {:>9}  {}",
            app.name,
            config.handle(&app.name),
            followers,
            app.display_name
        );
    }
    Ok(())
}
