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
//! - [`grants`]: the domain of the flows — issuing codes and tokens, code
//!   redemption with PKCE, refresh rotation with reuse detection,
//!   client credentials — free of HTTP.
//! - [`oidc`]: the id_token signing key, JWKS and id_tokens.
//! - [`error`]: RFC 6749 error answers (never a bare 500).
//! - [`endpoints`]: thin handlers, one file per URL: `/login`, `/logout`,
//!   `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`,
//!   `/oauth/introspect`, `/oauth/userinfo`, `/oauth/register`,
//!   `/oauth/logout`, `/api/v1/apps` and the `.well-known` documents.
//!
//! oxide-auth supplies the protocol primitives we build on (PKCE
//! verification, scope parsing and comparison); the flows are ours so that
//! every state lives in the database and every error is the RFC's answer.
//! The README's design notes say why.

pub mod clients;
pub mod endpoints;
pub mod error;
pub mod grants;
pub mod oidc;
pub mod passwords;
pub mod scopes;
pub mod session;
pub mod throttle;
pub mod users;

use std::sync::Arc;

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
}

impl OAuthState {
    pub async fn load(db: &Db, config: &Config) -> Result<Arc<OAuthState>, AppError> {
        Ok(Arc::new(OAuthState {
            key: oidc::load_or_create(db).await?,
            throttle: throttle::Throttle::new(&config.oauth),
            password_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
        }))
    }
}

pub use endpoints::routes;
