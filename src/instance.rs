//! The running instance: its shared state and the first-start bootstrap
//! (data directory, database, migrations, keypair, seed apps).
//!
//! Every step is idempotent, so a start interrupted anywhere is completed
//! by the next one, and nothing a later start does regenerates keys or
//! re-creates apps an operator removed.

use std::sync::Arc;

use crate::actors::{self, AppName};
use crate::config::Config;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::fetch::Fetcher;
use crate::keys::{self, InstanceKeys};
use crate::metrics::Metrics;
use crate::oauth::OAuthState;

/// What handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<InstanceKeys>,
    pub metrics: Arc<Metrics>,
    /// The one guarded client for every outgoing request.
    pub fetcher: Fetcher,
    /// Wakes this process's delivery worker when it queued something;
    /// other processes find new jobs by polling.
    pub delivery_wakeup: Arc<tokio::sync::Notify>,
    /// The authorization server's signing key and login throttle.
    pub oauth: Arc<OAuthState>,
    /// Key owners and healthy hosts, remembered between requests.
    pub remembered: Arc<crate::remote::Remembered>,
}

/// What a bootstrap did, for the startup banner and logs.
#[derive(Debug, Default)]
pub struct Bootstrap {
    pub keys_created: bool,
    pub apps_created: Vec<AppName>,
}

/// Opens the database, applies migrations and creates what a first start
/// creates.
pub async fn prepare(config: Config) -> Result<(AppState, Bootstrap), AppError> {
    let db = open_database(&config).await?;
    db.migrate().await?;
    let (keys, keys_created) = keys::load_or_create(&db).await?;
    if keys_created {
        tracing::info!(rsa_sha256 = %keys.rsa_fingerprint(), "generated the instance keypair");
    }
    let apps_created = actors::apps::seed(&db, &config).await?;
    if !apps_created.is_empty() {
        let names: Vec<&str> = apps_created.iter().map(AppName::as_str).collect();
        tracing::info!(apps = %names.join(","), "first start: created member apps");
    }
    let oauth = OAuthState::load(&db, &config).await?;
    let keys = Arc::new(keys);
    let mut fetcher = Fetcher::new(&config, keys.clone())?;
    // What signed GETs learn of which hosts refuse RFC 9421 is kept in the
    // database, as deliveries keep it, by a task of its own (the fetcher
    // is below the database).
    let (keep, mut learnt) = tokio::sync::mpsc::unbounded_channel::<(String, Option<i64>)>();
    fetcher.keep_schemes_with(keep);
    let keeper = db.clone();
    tokio::spawn(async move {
        while let Some((host, until)) = learnt.recv().await {
            if let Err(e) = db::hosts::set_cavage_until(&keeper, &host, until).await {
                tracing::warn!(%host, error = %e, "cannot record which signature scheme a host takes");
            }
        }
    });
    Ok((
        AppState {
            config: Arc::new(config),
            db,
            keys,
            metrics: Arc::new(Metrics::default()),
            fetcher,
            delivery_wakeup: Arc::new(tokio::sync::Notify::new()),
            oauth,
            remembered: Arc::default(),
        },
        Bootstrap {
            keys_created,
            apps_created,
        },
    ))
}

/// Opens the database for a bootstrap, creating the data directory (owner
/// only, like the database file) that a SQLite file needs.
pub async fn open_database(config: &Config) -> Result<Db, AppError> {
    if let Some(dir) = db::sqlite_path(&config.database_url)
        .as_deref()
        .and_then(std::path::Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
    {
        create_private_dir(dir).map_err(|e| {
            AppError::Unavailable(format!(
                "cannot create data directory '{}': {e}",
                dir.display()
            ))
        })?;
    }
    Db::connect(&config.database_url, config.database_max_connections, true).await
}

/// Opens an existing database for a read-only command, bringing its schema
/// up to date; a missing SQLite file is an error, not a new instance.
pub async fn open_existing(config: &Config) -> Result<Db, AppError> {
    let db = Db::connect(&config.database_url, config.database_max_connections, false)
        .await
        .map_err(|e| match e {
            AppError::Unavailable(msg) if config.database_url.starts_with("sqlite:") => {
                AppError::Unavailable(format!(
                    "{msg} (no hub has been started with this database yet: run `rosefed serve` first)"
                ))
            }
            other => other,
        })?;
    db.migrate().await?;
    Ok(db)
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
