//! OAuth2 / OpenID Connect: the co-op's authorization server. Members sign
//! in once here and every member app trusts the hub's tokens (SSO).
//!
//! A guided tour:
//! - [`passwords`], [`session`], [`throttle`]: members, their browser
//!   sessions (server-side, in the database) and login throttling.
//! - [`clients`]: the registrar — member apps as first-party confidential
//!   clients, third parties through Mastodon's `/api/v1/apps` or RFC 7591 —
//!   and client authentication at the back-channel endpoints.
//! - [`scopes`]: which scopes exist and the subset rule.
//! - [`consent`]: remembered consent for third-party clients, and revoking
//!   an app's access.
//! - [`grants`]: the domain of the flows — issuing codes and tokens, code
//!   redemption with PKCE, refresh rotation with reuse detection,
//!   client credentials — free of HTTP.
//! - [`oidc`]: the id_token signing key, JWKS and id_tokens.
//! - [`cache`]: short-lived caches of clients and active tokens, and the
//!   rules that keep them honest.
//! - [`writer`]: group commit of client-credentials tokens.
//! - [`error`]: RFC 6749 error answers (never a bare 500).
//! - [`endpoints`]: thin handlers, one file per URL: `/login`, `/logout`,
//!   `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`,
//!   `/oauth/introspect`, `/oauth/userinfo`, `/oauth/register`,
//!   `/oauth/logout`, `/oauth/authorized_applications`, `/api/v1/apps`
//!   and the `.well-known` documents.
//!
//! oxide-auth supplies the protocol primitives we build on (PKCE
//! verification, scope parsing and comparison); the flows are ours so that
//! every state lives in the database and every error is the RFC's answer.
//! The README's design notes say why.

pub mod cache;
pub mod clients;
pub mod consent;
pub mod endpoints;
pub mod error;
pub mod grants;
pub mod oidc;
pub mod passwords;
pub mod scopes;
pub mod session;
pub mod throttle;
pub mod users;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// What the authorization server keeps in memory: the signing key and the
/// login throttle. Everything else is in the database.
#[derive(Debug)]
pub struct OAuthState {
    pub key: oidc::OidcKey,
    pub throttle: throttle::Throttle,
    /// Bounds concurrent argon2id checks (CPU and ~19 MiB each).
    pub password_checks: tokio::sync::Semaphore,
    /// Registered clients by id (see [`cache`]).
    pub clients: cache::TtlCache<String, Arc<crate::db::oauth::Client>>,
    /// Active access tokens by hash (see [`cache`]).
    pub tokens: cache::TtlCache<String, Arc<crate::db::oauth::Token>>,
    /// Group commit of issued client-credentials tokens.
    pub writer: writer::TokenWriter,
}

impl OAuthState {
    pub async fn load(db: &Db, config: &Config) -> Result<Arc<OAuthState>, AppError> {
        Ok(Arc::new(OAuthState {
            key: oidc::load_or_create(db).await?,
            throttle: throttle::Throttle::new(&config.oauth),
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
            clients: cache::TtlCache::new(Duration::from_secs(config.oauth.token_cache_secs)),
            tokens: cache::TtlCache::new(Duration::from_secs(config.oauth.token_cache_secs)),
            writer: writer::TokenWriter::start(db.clone()),
        }))
    }
}

impl OAuthState {
    /// Forgets every cached token and client, after a revocation made
    /// elsewhere (see `db::revocations`).
    pub fn drop_caches(&self) {
        self.tokens.clear();
        self.clients.clear();
    }
}

pub use endpoints::routes;
