//! The grant flows, free of HTTP: issuing authorization codes, redeeming
//! them (with PKCE), rotating refresh tokens, client credentials, and
//! reading a presented bearer token. Handlers in `endpoints` parse and
//! answer; the decisions are made here.

use std::borrow::Cow;
use std::sync::Arc;

use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::grant::Value;
use oxide_auth::primitives::scope::Scope;
use serde::Serialize;

use super::error::{Code as ErrorCode, OAuthError};
use super::oidc::{self, IdClaims};
use super::scopes;
use crate::db::oauth::{Client, CodeUse, NewToken, Rotation, Token};
use crate::db::users::Session;
use crate::db::{self};
use crate::error::AppError;
use crate::instance::AppState;
use crate::secrets;

/// The token endpoint's success answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The PKCE rule: required for public clients, accepted (S256 only) for
/// confidential ones. Returns the encoded challenge to store with the code.
pub fn pkce_challenge(
    client: &Client,
    method: Option<&str>,
    challenge: Option<&str>,
) -> Result<Option<String>, String> {
    if let Some(c) = challenge {
        // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
        let well_formed = c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err("code_challenge must be 43 base64url characters (S256)".into());
        }
    }
    let pkce = if client.is_public() {
        Pkce::required()
    } else {
        Pkce::optional()
    };
    match pkce.challenge(method.map(Cow::Borrowed), challenge.map(Cow::Borrowed)) {
        Ok(Some(value)) => Ok(value.into_private_value().ok().flatten()),
        Ok(None) => Ok(None),
        Err(()) if challenge.is_none() => Err(
            "this client must use PKCE: send code_challenge with code_challenge_method=S256".into(),
        ),
        Err(()) => Err("code_challenge_method must be S256".into()),
    }
}

/// An authorization request that passed every check, ready for a code.
pub struct Approved<'a> {
    pub client: &'a Client,
    pub redirect_uri: &'a str,
    /// Whether the request named the redirect URI (then the token request
    /// must too).
    pub redirect_uri_given: bool,
    pub scope: &'a Scope,
    pub nonce: Option<String>,
    /// The encoded PKCE challenge, from [`pkce_challenge`].
    pub pkce: Option<String>,
}

/// Mints an authorization code for a signed-in member.
pub async fn issue_code(
    state: &AppState,
    session: &Session,
    approved: Approved<'_>,
) -> Result<String, AppError> {
    let Approved {
        client,
        redirect_uri,
        redirect_uri_given,
        scope,
        nonce,
        pkce,
    } = approved;
    let code = secrets::random_token("rfc_")?;
    let now = db::now_millis();
    db::oauth::insert_code(
        &state.db,
        &db::oauth::Code {
            code_hash: secrets::hash(&code),
            client_id: client.client_id.clone(),
            user_id: session.user_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            redirect_uri_given: i64::from(redirect_uri_given),
            scope: scopes::normalise(scope),
            nonce,
            pkce,
            auth_time: session.auth_time,
            session_hash: Some(session.id_hash.clone()),
            family_id: secrets::random_hex(16)?,
            created_at: now,
            expires_at: now + state.config.oauth.code_ttl_secs as i64 * 1000,
            used_at: None,
        },
    )
    .await?;
    Ok(code)
}

/// The `sid` claim for a session: derived from, but not equal to, the
/// stored hash, so id_tokens never carry a database key.
pub fn sid(session_hash: &str) -> String {
    secrets::hash(&format!("sid:{session_hash}"))[..32].to_string()
}

/// Redeems a code (RFC 6749 §4.1.3 with RFC 7636 §4.6).
pub async fn redeem_code(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let stored = match db::oauth::use_code(&state.db, &secrets::hash(code)).await? {
        CodeUse::Fresh(c) => c,
        CodeUse::Replayed { client_id } => {
            state.oauth.tokens.clear();
            state.metrics.record_oauth("code_replayed");
            tracing::warn!(client_id = %client_id, "oauth: authorization code replayed; revoked the tokens it issued");
            return Err(OAuthError::grant("authorization code was already used"));
        }
        CodeUse::Unknown => return Err(OAuthError::grant("unknown authorization code")),
    };
    if stored.client_id != client.client_id {
        tracing::warn!(client_id = %client.client_id, "oauth: a client presented another client's code");
        return Err(OAuthError::grant(
            "authorization code was issued to another client",
        ));
    }
    if stored.expires_at <= db::now_millis() {
        return Err(OAuthError::grant("authorization code has expired"));
    }
    token_redirect_uri(
        &stored.redirect_uri,
        stored.redirect_uri_given != 0,
        redirect_uri,
    )?;
    match (&stored.pkce, verifier) {
        (Some(challenge), verifier) => {
            Pkce::required()
                .verify(
                    Some(Value::private(Some(challenge.clone()))),
                    verifier.map(Cow::Borrowed),
                )
                .map_err(|()| {
                    tracing::info!(client_id = %client.client_id, "oauth: PKCE verification failed");
                    OAuthError::grant("PKCE verification failed")
                })?;
        }
        // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade.
        (None, Some(_)) => {
            return Err(OAuthError::grant(
                "code_verifier given but the authorization request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    let user = db::users::by_id(&state.db, &stored.user_id)
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| OAuthError::grant("the member's account is disabled"))?;
    let scope = scopes::parse(&stored.scope).map_err(OAuthError::grant)?;
    issue_for_user(
        state,
        client,
        &user,
        &scope,
        &scope,
        UserGrant {
            family_id: stored.family_id,
            session_hash: stored.session_hash,
            auth_time: stored.auth_time,
            nonce: stored.nonce,
        },
        Store::ForCode(&stored.code_hash),
    )
    .await
}

/// The token request's `redirect_uri` against the code's (RFC 6749
/// §4.1.3): exactly the same string if the authorization request named
/// one, and if it did not, absent or the same.
pub fn token_redirect_uri(
    stored: &str,
    stored_given: bool,
    presented: Option<&str>,
) -> Result<(), OAuthError> {
    match presented {
        Some(r) if r != stored => Err(OAuthError::grant(
            "redirect_uri differs from the authorization request",
        )),
        None if stored_given => Err(OAuthError::request(
            "redirect_uri is required: the authorization request named one",
        )),
        _ => Ok(()),
    }
}

/// How freshly issued tokens are stored.
enum Store<'a> {
    /// For a code: only if the code has not been replayed meanwhile.
    ForCode(&'a str),
    /// Rotating this refresh token, atomically.
    Rotating(&'a str),
}

struct UserGrant {
    family_id: String,
    session_hash: Option<String>,
    auth_time: i64,
    nonce: Option<String>,
}

/// Issues an access token for `scope`, a refresh token for `grant_scope`
/// (a narrowed refresh narrows the access token only, RFC 6749 §6) and,
/// for `openid`, an id_token.
async fn issue_for_user(
    state: &AppState,
    client: &Client,
    user: &db::users::User,
    scope: &Scope,
    grant_scope: &Scope,
    grant: UserGrant,
    store: Store<'_>,
) -> Result<TokenResponse, OAuthError> {
    let cfg = &state.config.oauth;
    let now = db::now_millis();
    let access = secrets::random_token("rfa_")?;
    let refresh = secrets::random_token("rfr_")?;
    let scope_text = scopes::normalise(scope);
    let base = NewToken {
        token_hash: secrets::hash(&access),
        kind: "access",
        client_id: client.client_id.clone(),
        user_id: Some(user.id.clone()),
        scope: scope_text.clone(),
        family_id: grant.family_id.clone(),
        session_hash: grant.session_hash.clone(),
        auth_time: Some(grant.auth_time),
        expires_at: now + cfg.access_token_ttl_secs as i64 * 1000,
    };
    let refresh_row = NewToken {
        token_hash: secrets::hash(&refresh),
        kind: "refresh",
        scope: scopes::normalise(grant_scope),
        expires_at: now + cfg.refresh_token_ttl_secs as i64 * 1000,
        ..base.clone()
    };
    let rows = [base, refresh_row];
    match store {
        Store::ForCode(code_hash) => {
            if !db::oauth::insert_code_tokens(&state.db, code_hash, &rows).await? {
                return Err(OAuthError::grant("authorization code was already used"));
            }
        }
        Store::Rotating(old) => {
            match db::oauth::rotate_refresh(
                &state.db,
                &secrets::hash(old),
                &client.client_id,
                &rows,
            )
            .await?
            {
                Rotation::Rotated => {}
                Rotation::Reused => {
                    state.oauth.tokens.clear();
                    state.metrics.record_oauth("refresh_reused");
                    tracing::warn!(client_id = %client.client_id, user = %user.username,
                        "oauth: refresh token reused; revoked its whole family");
                    return Err(OAuthError::grant("refresh token was already used"));
                }
                Rotation::Invalid => {
                    return Err(OAuthError::grant("refresh token is invalid or expired"))
                }
            }
        }
    }
    let id_token = if scopes::has(scope, "openid") {
        let claims = IdClaims {
            iss: state.config.base().to_string(),
            sub: user.id.clone(),
            aud: client.client_id.clone(),
            iat: now / 1000,
            exp: now / 1000 + cfg.access_token_ttl_secs as i64,
            auth_time: grant.auth_time / 1000,
            nonce: grant.nonce,
            at_hash: Some(oidc::at_hash(&access)),
            sid: grant.session_hash.as_deref().map(sid),
            preferred_username: scopes::has(scope, "profile").then(|| user.username.clone()),
            name: scopes::has(scope, "profile").then(|| user.username.clone()),
            email: scopes::has(scope, "email").then(|| user.email.clone()),
        };
        Some(state.oauth.key.sign(&claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: cfg.access_token_ttl_secs,
        refresh_token: Some(refresh),
        scope: scope_text,
        id_token,
    })
}

/// The refresh grant (RFC 6749 §6) with rotation.
pub async fn refresh(
    state: &AppState,
    client: &Client,
    refresh_token: &str,
    requested: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let old = db::oauth::token(&state.db, &secrets::hash(refresh_token))
        .await?
        .filter(|t| t.kind == "refresh" && t.client_id == client.client_id)
        .ok_or_else(|| OAuthError::grant("refresh token is invalid or expired"))?;
    let granted = scopes::parse(&old.scope).map_err(OAuthError::grant)?;
    let scope = match requested {
        Some(text) => {
            let asked =
                scopes::parse(text).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e))?;
            if !scopes::covers(&granted, &asked) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "a refresh cannot widen the granted scope",
                ));
            }
            asked
        }
        None => granted.clone(),
    };
    let user_id = old
        .user_id
        .as_deref()
        .ok_or_else(|| OAuthError::grant("refresh token has no member"))?;
    let user = db::users::by_id(&state.db, user_id)
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| OAuthError::grant("the member's account is disabled"))?;
    issue_for_user(
        state,
        client,
        &user,
        &scope,
        &granted,
        UserGrant {
            family_id: old.family_id.clone(),
            session_hash: old.session_hash.clone(),
            auth_time: old.auth_time.unwrap_or(old.created_at),
            nonce: None,
        },
        Store::Rotating(refresh_token),
    )
    .await
}

/// Scopes that describe a member, meaningless without one.
const USER_SCOPES: &[&str] = &["openid", "profile", "email"];

/// The client credentials grant (RFC 6749 §4.4): a token acting as the
/// client itself, with no member and no refresh token. For a member app it
/// acts as the app's actor and may carry `publish`; a third party (as in
/// Mastodon, where stock clients use it to check their app credentials)
/// gets at most its registered scopes other than `publish`.
pub async fn client_credentials(
    state: &AppState,
    client: &Client,
    requested: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    // A public client proves nothing by asking.
    if client.is_public() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client_credentials needs a confidential client",
        ));
    }
    let mut registered = scopes::parse(&client.scopes).map_err(OAuthError::request)?;
    if !client.is_first_party() {
        registered = registered
            .iter()
            .filter(|s| *s != "publish")
            .collect::<Vec<_>>()
            .join(" ")
            .parse()
            .map_err(|_| OAuthError::request("stored scope is malformed"))?;
    }
    let scope: Scope = match requested {
        Some(text) => {
            let asked =
                scopes::parse(text).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e))?;
            if asked.iter().any(|s| USER_SCOPES.contains(&s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "openid, profile and email need a member: use the authorization code flow",
                ));
            }
            if !scopes::covers(&registered, &asked) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "the client is not registered for the requested scope",
                ));
            }
            asked
        }
        None => {
            let own: Vec<&str> = registered
                .iter()
                .filter(|s| !USER_SCOPES.contains(s))
                .collect();
            if own.is_empty() {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "the client is registered for no scope a token without a member can carry",
                ));
            }
            own.join(" ")
                .parse()
                .map_err(|_| OAuthError::request("stored scope is malformed"))?
        }
    };
    let access = secrets::random_token("rfa_")?;
    let ttl = state.config.oauth.access_token_ttl_secs;
    let scope_text = scopes::normalise(&scope);
    let stored = state
        .oauth
        .writer
        .insert(
            &state.db,
            vec![NewToken {
                token_hash: secrets::hash(&access),
                kind: "access",
                client_id: client.client_id.clone(),
                user_id: None,
                scope: scope_text.clone(),
                family_id: secrets::random_hex(16)?,
                session_hash: None,
                auth_time: None,
                expires_at: db::now_millis() + ttl as i64 * 1000,
            }],
        )
        .await;
    match stored {
        Ok(()) => {}
        // The client was deleted after this process cached it: its rows
        // cascade away, so the token's foreign key no longer holds.
        Err(AppError::Conflict(_)) => {
            state.oauth.clients.remove(&client.client_id);
            return Err(OAuthError::client("unknown client"));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: None,
        scope: scope_text,
        id_token: None,
    })
}

/// The active access token a request carries (`Authorization: Bearer`),
/// if any.
pub async fn bearer(state: &AppState, token: &str) -> Result<Option<Arc<Token>>, AppError> {
    if token.len() > 100 {
        return Ok(None);
    }
    Ok(active(state, &secrets::hash(token))
        .await?
        .filter(|t| t.kind == "access"))
}

/// The active token with this hash: from the cache when an access token
/// was looked up moments ago (see `oauth::cache`), else from the database.
/// Refresh tokens are always read from the database: their rotation state
/// must be exact.
pub async fn active(state: &AppState, hash: &str) -> Result<Option<Arc<Token>>, AppError> {
    let now = db::now_millis();
    if let Some(t) = state.oauth.tokens.get(hash) {
        if t.is_active(now) {
            return Ok(Some(t));
        }
    }
    let generation = state.oauth.tokens.generation();
    let found = db::oauth::token(&state.db, hash)
        .await?
        .filter(|t| t.is_active(now))
        .map(Arc::new);
    if let Some(t) = found.as_ref().filter(|t| t.kind == "access") {
        state
            .oauth
            .tokens
            .put(generation, hash.to_string(), t.clone());
    }
    Ok(found)
}

/// The bearer token of a request's `Authorization` header.
pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
