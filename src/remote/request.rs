//! Who signed an HTTP request: RFC 9421 when it has a `Signature-Input`,
//! draft-cavage otherwise. The checks that need no key (coverage, time
//! window, body digest, and that the request was sent to this hub's Host)
//! run first; then the key is resolved and, when the signer claims to be
//! an actor (an inbox POST), the key must be that actor's.

use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;

use crate::db::remote::RemoteActor;
use crate::error::AppError;
use crate::instance::AppState;
use crate::signatures::cavage::{self, Signature};
use crate::signatures::{rfc9421, Algorithm, PublicKey, Requirements, SignatureError};

/// A request as its signature covers it.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    /// The body, which a digest must then bind; `None` for a GET.
    pub body: Option<&'a [u8]>,
}

/// The verification of a signature, once its key is known.
type KeyCheck = Box<dyn Fn(&PublicKey) -> Result<(), String> + Send + Sync>;

/// Verifies the request's signature and returns the actor whose key made
/// it; with `claimed_actor`, that actor's key only.
pub async fn signer(
    state: &AppState,
    request: &SignedRequest<'_>,
    claimed_actor: Option<&str>,
) -> Result<RemoteActor, AppError> {
    prepare(state, request)?.verify(state, claimed_actor).await
}

/// A request whose signature passed every check that needs no key.
pub struct Prepared {
    /// The key the signature names.
    pub key_id: String,
    check: KeyCheck,
}

impl Prepared {
    /// Resolves the key and verifies the signature with it; with
    /// `claimed_actor`, the key must be that actor's.
    pub async fn verify(
        self,
        state: &AppState,
        claimed_actor: Option<&str>,
    ) -> Result<RemoteActor, AppError> {
        match claimed_actor {
            Some(actor) => super::verify_with_key_of(state, &self.key_id, actor, self.check).await,
            None => super::verify_with_key(state, &self.key_id, self.check).await,
        }
    }
}

/// Reads the request's signature and runs the checks that need no key.
pub fn prepare(state: &AppState, request: &SignedRequest<'_>) -> Result<Prepared, AppError> {
    let unauthorized = |e: SignatureError| AppError::Unauthorized(e.to_string());
    let headers = request.headers;
    let body = request.body.unwrap_or_default();
    let requirements = Requirements {
        has_body: request.body.is_some(),
        max_skew: Duration::from_secs(state.config.federation.signature_max_skew_secs),
    };
    let now = SystemTime::now();
    let (key_id, check): (String, KeyCheck) = if headers.contains_key("signature-input") {
        let signatures = rfc9421::parse(headers).map_err(unauthorized)?;
        check_host(state, headers)?;
        let target = rfc9421::Target {
            method: request.method,
            scheme: state.config.scheme(),
            authority: state.config.authority(),
            path_and_query: request.path_and_query,
            headers,
        };
        let (sig, base) =
            rfc9421::select(signatures, &target, body, &requirements, now).map_err(unauthorized)?;
        let key_id = sig.key_id.clone().unwrap_or_default();
        (
            key_id,
            Box::new(move |key| sig.verify(&base, key).map_err(|e| e.to_string())),
        )
    } else {
        let raw = headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized(SignatureError::Missing))?;
        let sig = Signature::parse(raw).map_err(unauthorized)?;
        cavage::check_request(&sig, headers, body, &requirements, now).map_err(unauthorized)?;
        check_host(state, headers)?;
        let signing_string =
            cavage::signing_string(request.method, request.path_and_query, headers, &sig)
                .map_err(unauthorized)?;
        // `rsa-sha256` says RSA; `hs2019` (or nothing) means the key's own.
        let alg =
            (sig.algorithm.as_deref() == Some("rsa-sha256")).then_some(Algorithm::RsaV15Sha256);
        let key_id = sig.key_id.clone();
        (
            key_id,
            Box::new(move |key| {
                key.verify_with(
                    alg.unwrap_or_else(|| key.default_algorithm()),
                    signing_string.as_bytes(),
                    &sig.signature,
                )
                .map_err(|e| e.to_string())
            }),
        )
    };
    Ok(Prepared { key_id, check })
}

/// The Host the request was sent to must be ours: a request signed for
/// another server cannot be replayed here.
fn check_host(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if host.eq_ignore_ascii_case(state.config.authority()) {
        Ok(())
    } else {
        Err(AppError::Unauthorized(format!(
            "signed for host '{host}', not {}",
            state.config.authority()
        )))
    }
}
