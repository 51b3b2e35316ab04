//! OAuth2 / OpenID Connect (not built yet; arrives with the
//! "OAuth2/OIDC SSO" issue).
//!
//! Will own the hub's authorization server: member accounts and sessions,
//! client registration (member apps as first-party clients, Mastodon-style
//! and RFC 7591 registration for third parties), the authorize / token /
//! revoke / introspect endpoints with PKCE, and OIDC discovery, JWKS and
//! id_tokens. Nothing here yet; no endpoint pretends otherwise.
