//! The running instance: its shared state and the first-start bootstrap
//! (data directory, database, migrations, keypair, seed apps).
//!
//! Every step is idempotent, so a start interrupted anywhere is completed
//! by the next one, and nothing a later start does regenerates keys or
//! re-creates apps an operator removed.

use std::sync::Arc;

use crate::actors::{self, AppName};
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::http::metrics::Metrics;
use crate::keys::{self, InstanceKeys};

/// What handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<InstanceKeys>,
    pub metrics: Arc<Metrics>,
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
    let apps_created = actors::apps::seed(&db, &config.seed_apps).await?;
    if !apps_created.is_empty() {
        let names: Vec<&str> = apps_created.iter().map(AppName::as_str).collect();
        tracing::info!(apps = %names.join(","), "first start: created member apps");
    }
    Ok((
        AppState {
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            metrics: Arc::new(Metrics::default()),
        },
        Bootstrap {
            keys_created,
            apps_created,
        },
    ))
}

/// Opens the database without bootstrapping (for `rosefed migrate`),
/// creating the data directory a SQLite file needs.
pub async fn open_database(config: &Config) -> Result<Db, AppError> {
    if config.database_url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_parent_dir(&config.database_url) {
            std::fs::create_dir_all(&dir).map_err(|e| {
                AppError::Unavailable(format!(
                    "cannot create data directory '{}': {e}",
                    dir.display()
                ))
            })?;
        }
    }
    Db::connect(&config.database_url, config.database_max_connections).await
}

/// The directory holding a `sqlite://PATH` database, if any.
fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_directories() {
        assert_eq!(
            sqlite_parent_dir("sqlite://data/rosefed.db"),
            Some("data".into())
        );
        assert_eq!(
            sqlite_parent_dir("sqlite:///var/lib/rosefed/x.db?mode=rwc"),
            Some("/var/lib/rosefed".into())
        );
        assert_eq!(sqlite_parent_dir("sqlite://x.db"), None);
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
    }
}
