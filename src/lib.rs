//! rosefed, the federation hub of the Rose Ash co-op.
//!
//! A guided tour, in the order a request meets the code:
//!
//! - [`cli`] and [`config`]: the command line and the validated
//!   configuration; [`server`] binds, bootstraps and serves.
//! - [`instance`]: the shared [`instance::AppState`] and the first-start
//!   bootstrap (migrations, keypair, seed apps).
//! - [`http`]: assembles the router ([`http::app`]), content negotiation,
//!   HTML layout, `/health`.
//! - [`discovery`]: WebFinger, NodeInfo, host-meta.
//! - [`actors`]: the member apps' virtual actors and the instance actor:
//!   rules, ActivityStreams documents, avatars.
//! - [`pages`]: what people see: profile and post pages, Atom feeds, link
//!   previews.
//! - [`admin`]: the administrators' pages, behind the admin role.
//! - [`keys`]: the one instance keypair every actor projects.
//! - [`formats`]: the activity model and its wire formats (JSON-LD and
//!   sexp, `docs/sexp.md`), pure code: decoded once at the edge.
//! - [`remote`]: remote actors, their documents and the keys they own.
//! - [`db`]: all SQL, one schema for SQLite and PostgreSQL.
//! - [`error`]: the one error type, mapped to HTTP statuses.
//! - [`signatures`]: HTTP Signatures and sexp envelopes, signed and checked.
//! - [`inbox`]: receiving: verify, deduplicate, store and apply activities.
//! - [`outbox`] and [`delivery`]: publishing, and the durable queue that
//!   delivers to followers' inboxes (and apps' webhooks) with retries.
//! - [`notifications`]: what each app is told (follows, likes, replies, …),
//!   kept per app and pushed to its webhook.
//! - [`fetch`]: every outgoing request, behind the SSRF guard; [`net`]
//!   holds the address ranges and URL authorities every layer shares.
//! - [`sanitize`]: remote HTML made safe to show.
//! - [`metrics`]: the Prometheus counters every layer records into.
//! - [`moderation`]: the rules of admins' actions (domain blocks with
//!   severities, CSV import and export) and the audit log they write.
//! - [`oauth`]: the OAuth2/OpenID Connect authorization server; [`secrets`]
//!   makes and hashes the tokens it hands out.
//! - `fuzzing` (hidden from the docs): the properties `fuzz/`'s targets
//!   check, also replayed by `tests/fuzz_regressions.rs`.

pub mod actors;
pub mod admin;
pub mod cli;
pub mod config;
pub mod db;
pub mod delivery;
pub mod discovery;
pub mod error;
pub mod fetch;
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod inbox;
pub mod instance;
pub mod keys;
pub mod memo;
pub mod metrics;
pub mod moderation;
pub mod net;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod pages;
pub mod remote;
pub mod sanitize;
pub mod secrets;
pub mod server;
pub mod signatures;
