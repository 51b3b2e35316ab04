//! The cross-process revocation signal.
//!
//! Each process keeps short-lived caches of active tokens and clients (see
//! `oauth::cache`). On PostgreSQL, every transaction in this module's
//! siblings that revokes a token, ends a session or disables a member also
//! runs `NOTIFY rosefed_revocations`; PostgreSQL delivers it, when that
//! transaction commits, to every process that [`listen`]s, and they drop
//! their caches at once. Notifications are not queued for a process that
//! is not connected, so after a lost connection the listener drops the
//! caches too; `--token-cache-secs` stays the bound for anything missed.
//!
//! SQLite has no such channel (the processes sharing a file are the CLI
//! and at most a few hubs on one host), so there the TTL is the bound.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{Backend, Db};
use crate::error::AppError;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "rosefed_revocations";

/// Announces a revocation made in the same transaction (or just before, on
/// the same database). A no-op on SQLite.
pub async fn announce<'c, E>(backend: Backend, executor: E) -> Result<(), AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if backend == Backend::Postgres {
        // A constant channel name: NOTIFY takes no bind parameters.
        sqlx::query("NOTIFY rosefed_revocations")
            .execute(executor)
            .await?;
    }
    Ok(())
}

/// A running listener; it stops when dropped.
#[derive(Debug)]
pub struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On PostgreSQL, calls `on_revocation` for every announced revocation from
/// any process (this one included), and whenever the listening connection
/// was lost and remade. `None` on SQLite.
pub fn listen(db: &Db, on_revocation: impl Fn() + Send + 'static) -> Option<Listener> {
    let url = db.listen_url.clone()?;
    Some(Listener(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            match subscribe(&url.0).await {
                Ok(mut listener) => {
                    // Revocations made before we listened may be missing.
                    on_revocation();
                    tracing::debug!(channel = CHANNEL, "listening for revocations");
                    backoff = Duration::from_millis(250);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => on_revocation(),
                            // Lost and, on the next call, remade: anything
                            // sent in between is gone.
                            Ok(None) => {
                                tracing::warn!(
                                    channel = CHANNEL,
                                    "lost the revocation listener's connection; reconnecting (caches dropped)"
                                );
                                on_revocation();
                            }
                            Err(e) => {
                                tracing::warn!(channel = CHANNEL, error = %e,
                                    "revocation listener failed; caches now expire by --token-cache-secs until it reconnects");
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(channel = CHANNEL, error = %e,
                        "cannot listen for revocations; caches expire by --token-cache-secs until it can");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    })))
}

async fn subscribe(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The PostgreSQL URL the listener connects with; kept out of `Debug`
/// output because it may carry a password.
#[derive(Clone)]
pub(super) struct ListenUrl(pub(super) std::sync::Arc<str>);

impl std::fmt::Debug for ListenUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListenUrl(..)")
    }
}
