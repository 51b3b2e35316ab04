//! OAuth clients: registering them (member apps as first-party clients,
//! third parties through Mastodon's `/api/v1/apps` or RFC 7591) and
//! authenticating them at the back-channel endpoints.
//!
//! The registrar is the `oauth_clients` table: redirect URIs are compared
//! exactly, scopes are what the client was registered for, and secrets are
//! stored as SHA-256 (they are 256 random bits; see `crate::secrets`).

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use url::Url;

use super::cache::TtlCache;
use super::error::OAuthError;
use super::scopes;
use crate::actors::AppName;
use crate::config::Mode;
use crate::db::{self, oauth::Client, Db};
use crate::error::AppError;
use crate::secrets;

/// Longest redirect URI accepted, and most per client.
const MAX_REDIRECT_URI: usize = 2048;
const MAX_REDIRECT_URIS: usize = 10;

/// Checks a redirect URI a client registers. Accepted: `https://`, `http://`
/// to a loopback host (native apps, RFC 8252 §7.3; any host in development
/// mode), and private-use schemes with a dot (`com.example.app:/cb`, RFC
/// 8252 §7.1). Fragments and script-capable schemes are refused.
pub fn check_redirect_uri(uri: &str, mode: Mode) -> Result<(), String> {
    if uri == super::endpoints::authorize::OOB {
        return Ok(());
    }
    if uri.len() > MAX_REDIRECT_URI {
        return Err(format!(
            "redirect URI is longer than {MAX_REDIRECT_URI} characters"
        ));
    }
    // The URL parser drops tabs and newlines; they must not smuggle a
    // second address past these checks (the URIs are stored one per line).
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("redirect URI must not contain whitespace or control characters".into());
    }
    let url = Url::parse(uri).map_err(|e| format!("redirect URI '{uri}' is not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect URI '{uri}' must not have a fragment"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || mode == Mode::Development => Ok(()),
        "http" => Err(format!(
            "redirect URI '{uri}' must use https (http is for loopback addresses only)"
        )),
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" | "ftp" | "ws" | "wss" => {
            Err(format!("redirect URI scheme of '{uri}' is not allowed"))
        }
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(format!(
            "redirect URI '{uri}' needs https, loopback http or a reverse-domain private scheme"
        )),
    }
}

/// Checks the redirect URIs a client registers and joins them into their
/// stored form, one per line (what [`Client::redirect_uris`] splits).
pub fn check_redirect_uris(uris: &[String], mode: Mode) -> Result<String, String> {
    if uris.is_empty() {
        return Err("at least one redirect URI is required".into());
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(format!("at most {MAX_REDIRECT_URIS} redirect URIs"));
    }
    for uri in uris {
        check_redirect_uri(uri, mode)?;
    }
    Ok(uris.join("\n"))
}

/// The redirect URI an authorization request goes back to: the one it
/// names, if the client registered exactly that string (RFC 6749 §3.1.2.3,
/// no normalisation, no prefix match), or the client's only one when it
/// names none. `None` is a 400 page, never a redirect.
pub fn select_redirect_uri(client: &Client, given: Option<&str>) -> Option<String> {
    match given {
        Some(uri) => client
            .redirect_uris()
            .find(|r| *r == uri)
            .map(str::to_string),
        None => {
            let mut registered = client.redirect_uris();
            match (registered.next(), registered.next()) {
                (Some(only), None) => Some(only.to_string()),
                _ => None,
            }
        }
    }
}

/// A client's credentials, shown once.
pub struct Credentials {
    pub client: Client,
    pub secret: Option<String>,
}

/// Creates (or re-creates, with a new secret) a member app's first-party
/// confidential client. Its client_id is the app's name.
pub async fn register_app(
    db: &Db,
    mode: Mode,
    app: &AppName,
    redirect_uris: &[String],
) -> Result<Credentials, AppError> {
    let uris = check_redirect_uris(redirect_uris, mode).map_err(AppError::BadRequest)?;
    if db::apps::get(db, app).await?.is_none() {
        return Err(AppError::NotFound(format!("no app named '{app}'")));
    }
    let secret = secrets::random_token("rfs_")?;
    let client = Client {
        client_id: app.as_str().to_string(),
        secret_hash: Some(secrets::hash(&secret)),
        name: app.as_str().to_string(),
        website: None,
        redirect_uris: uris,
        scopes: scopes::FIRST_PARTY.to_string(),
        first_party: 1,
        app_name: Some(app.as_str().to_string()),
        created_at: db::now_millis(),
    };
    db::oauth::upsert_app_client(db, &client).await?;
    Ok(Credentials {
        client,
        secret: Some(secret),
    })
}

/// What a third party asks to register as.
#[derive(Debug, Clone)]
pub struct Registration {
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scope: Option<String>,
    /// A public client (a browser or native app that cannot keep a secret).
    pub public: bool,
}

/// A third party's registration, checked: what its client row stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRegistration {
    /// The trimmed name.
    pub name: String,
    /// The redirect URIs in their stored form, one per line.
    pub redirect_uris: String,
    /// The normalised scope.
    pub scopes: String,
}

/// Checks a third party's registration: a name of 1 to 100 characters, an
/// http(s) website if any, redirect URIs as [`check_redirect_uri`] allows
/// them, and known scopes without `publish` (member apps only).
pub fn check_registration(
    mode: Mode,
    reg: &Registration,
) -> Result<CheckedRegistration, OAuthError> {
    use super::error::Code::{InvalidClientMetadata, InvalidRedirectUri};
    let name = reg.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(OAuthError::new(
            InvalidClientMetadata,
            "client_name must have 1 to 100 characters",
        ));
    }
    if let Some(site) = &reg.website {
        if site.len() > 2048
            || Url::parse(site)
                .map(|u| u.scheme() != "https" && u.scheme() != "http")
                .unwrap_or(true)
        {
            return Err(OAuthError::new(
                InvalidClientMetadata,
                "website must be an http(s) URL",
            ));
        }
    }
    let redirect_uris = check_redirect_uris(&reg.redirect_uris, mode)
        .map_err(|e| OAuthError::new(InvalidRedirectUri, e))?;
    let scope = scopes::parse(reg.scope.as_deref().unwrap_or(scopes::THIRD_PARTY_DEFAULT))
        .map_err(|e| OAuthError::new(InvalidClientMetadata, e))?;
    if scopes::has(&scope, "publish") {
        return Err(OAuthError::new(
            InvalidClientMetadata,
            "the publish scope is for the co-op's member apps only",
        ));
    }
    Ok(CheckedRegistration {
        name: name.to_string(),
        redirect_uris,
        scopes: scopes::normalise(&scope),
    })
}

/// Registers a third-party client. Its scopes are what it asked for (the
/// `publish` scope is for member apps only); its id is random.
pub async fn register_third_party(
    db: &Db,
    mode: Mode,
    reg: Registration,
) -> Result<Credentials, OAuthError> {
    let checked = check_registration(mode, &reg)?;
    let secret = if reg.public {
        None
    } else {
        Some(secrets::random_token("rfs_")?)
    };
    let client = Client {
        // 32 hex characters: never a valid app name (at most 30), so a
        // third party can never take a member app's client id.
        client_id: secrets::random_hex(16)?,
        secret_hash: secret.as_deref().map(secrets::hash),
        name: checked.name,
        website: reg.website,
        redirect_uris: checked.redirect_uris,
        scopes: checked.scopes,
        first_party: 0,
        app_name: None,
        created_at: db::now_millis(),
    };
    db::oauth::insert_client(db, &client).await?;
    Ok(Credentials { client, secret })
}

/// Client credentials as a request presents them.
#[derive(Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Authenticates the client of a back-channel request: HTTP Basic
/// (`client_secret_basic`), form fields (`client_secret_post`) or, for a
/// public client, its id alone (`none`). Using two methods at once, an
/// unknown client or a wrong secret are `invalid_client` (401).
pub async fn authenticate(
    db: &Db,
    cache: &TtlCache<String, std::sync::Arc<Client>>,
    headers: &HeaderMap,
    form: Presented,
) -> Result<std::sync::Arc<Client>, OAuthError> {
    let basic = basic_credentials(headers)?;
    let (id, secret) = match (basic, form.client_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::request(
                "use one client authentication method, not two",
            ))
        }
        (Some((id, secret)), None) => {
            if form.client_id.as_deref().is_some_and(|f| f != id) {
                return Err(OAuthError::request(
                    "client_id differs from the Basic credentials",
                ));
            }
            (id, Some(secret))
        }
        (None, secret) => (
            form.client_id
                .ok_or_else(|| OAuthError::client("client authentication is required"))?,
            secret,
        ),
    };
    if id.len() > 100 {
        return Err(OAuthError::client("unknown client"));
    }
    let given = secret.as_deref().map(secrets::hash);
    let accepts = |c: &Client| match (&c.secret_hash, &given) {
        (Some(stored), Some(given)) => secrets::equal(stored, given),
        (None, None) => true,
        _ => false,
    };
    // A cached client that refuses the secret is re-read: the secret may
    // have just been rotated.
    if let Some(client) = cache.get(id.as_str()).filter(|c| accepts(c)) {
        return Ok(client);
    }
    let generation = cache.generation();
    let client = db::oauth::client(db, &id).await?.ok_or_else(|| {
        tracing::info!(client_id = %id, "oauth: unknown client");
        OAuthError::client("unknown client")
    })?;
    let client = std::sync::Arc::new(client);
    cache.put(generation, id.clone(), client.clone());
    if accepts(&client) {
        return Ok(client);
    }
    if client.is_public() {
        return Err(OAuthError::client("this public client has no secret"));
    }
    tracing::warn!(client_id = %id, "oauth: client authentication failed");
    Err(OAuthError::client("client authentication failed"))
}

/// The client id and secret of an `Authorization: Basic` header, if there
/// is one, each form-decoded (RFC 6749 §2.3.1).
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| OAuthError::client("malformed Authorization header"))?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(OAuthError::client("client authentication must use Basic"));
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| OAuthError::client("malformed Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::client("malformed Basic credentials"))?;
    // RFC 6749 §2.3.1: both halves are form-urlencoded before joining.
    let (id, secret) = (form_decode(id), form_decode(secret));
    // The same rule as every other text input (http::nul_guard).
    if id.contains('\0') || secret.contains('\0') {
        return Err(OAuthError::request("NUL characters are not accepted"));
    }
    Ok(Some((id, secret)))
}

/// One half of Basic credentials, form-decoded. A half is one form value,
/// so only the first `&`-separated pair counts and a bare `=` stays.
pub(crate) fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        let prod = Mode::Production;
        assert!(check_redirect_uri("https://blog.coop.example/cb", prod).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:9000/cb", prod).is_ok());
        assert!(check_redirect_uri("com.example.app:/cb", prod).is_ok());
        assert!(check_redirect_uri("http://blog.coop.example/cb", prod).is_err());
        assert!(check_redirect_uri("http://blog.coop.example/cb", Mode::Development).is_ok());
        assert!(check_redirect_uri("https://a.example/cb#frag", prod).is_err());
        assert!(check_redirect_uri("javascript:alert(1)", prod).is_err());
        assert!(check_redirect_uri("data:text/html,hi", prod).is_err());
        assert!(check_redirect_uri("/relative", prod).is_err());
        assert!(check_redirect_uri("https://ok.example/\nhttp://evil.example/", prod).is_err());
        assert!(check_redirect_uri("https://ok.example/\tx", prod).is_err());
    }

    #[test]
    fn basic_halves_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab"), "a:b");
        assert_eq!(form_decode("plain"), "plain");
    }
}
