//! OpenID Connect signing: the id_token key (RSA-2048, RS256), kept apart
//! from the federation keypair so either can rotate alone, its JWKS entry,
//! and the id_tokens themselves (jsonwebtoken).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::db::{self, Db};
use crate::error::AppError;

pub struct OidcKey {
    pub kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

impl std::fmt::Debug for OidcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcKey").field("kid", &self.kid).finish()
    }
}

/// Loads the signing key, creating it on the first start.
pub async fn load_or_create(db: &Db) -> Result<OidcKey, AppError> {
    if db::oauth::oidc_key(db).await?.is_none() {
        let key =
            tokio::task::spawn_blocking(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048))
                .await
                .map_err(AppError::internal)?
                .map_err(|e| AppError::Internal(format!("cannot generate the OIDC key: {e}")))?;
        let der = key
            .to_pkcs1_der()
            .map_err(|e| AppError::Internal(format!("cannot encode the OIDC key: {e}")))?;
        let (kid, _) = public_jwk(&key);
        db::oauth::insert_oidc_key_if_absent(db, &kid, &STANDARD.encode(der.as_bytes())).await?;
        tracing::info!(kid = %kid, "generated the OpenID Connect signing key");
    }
    let (kid, der_b64) = db::oauth::oidc_key(db)
        .await?
        .ok_or_else(|| AppError::Internal("the OIDC key vanished after creation".into()))?;
    let der = STANDARD
        .decode(der_b64)
        .map_err(|e| AppError::Internal(format!("stored OIDC key is not base64: {e}")))?;
    let key = RsaPrivateKey::from_pkcs1_der(&der)
        .map_err(|e| AppError::Internal(format!("stored OIDC key is unreadable: {e}")))?;
    let (thumbprint, jwk) = public_jwk(&key);
    if thumbprint != kid {
        return Err(AppError::Internal(
            "stored OIDC key does not match its key id".into(),
        ));
    }
    let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
    Ok(OidcKey {
        encoding: EncodingKey::from_rsa_der(&der),
        decoding: DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| AppError::Internal(format!("OIDC public key: {e}")))?,
        jwk,
        kid,
    })
}

/// The public JWK and its RFC 7638 thumbprint (used as `kid`).
fn public_jwk(key: &RsaPrivateKey) -> (String, Value) {
    let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
    // RFC 7638: the required members, lexicographic order, no whitespace.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical.as_bytes(),
    ));
    let jwk = json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
    (kid, jwk)
}

/// Claims of the id_tokens we issue.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The SSO session, so RP-initiated logout can name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl OidcKey {
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    pub fn sign(&self, claims: &IdClaims) -> Result<String, AppError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| AppError::Internal(format!("cannot sign an id_token: {e}")))
    }

    /// Reads an id_token we issued (an `id_token_hint`), ignoring expiry as
    /// OIDC RP-Initiated Logout allows; None if it is not ours.
    pub fn read_hint(&self, token: &str, issuer: &str) -> Option<IdClaims> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<IdClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// OIDC `at_hash`: the left half of SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}
