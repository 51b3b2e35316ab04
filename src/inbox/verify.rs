//! Who sent this? Checks the HTTP signature of an inbox request (RFC 9421
//! or draft-cavage: coverage, time, digest, Host), the signed envelope of
//! a sexp activity, or a JSON-LD activity's own FEP-8b32 proof,
//! and proves, through [`crate::remote`], that the signing key belongs to
//! the activity's actor.

use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use serde_json::Value;

use crate::db::remote::RemoteActor;
use crate::error::AppError;
use crate::formats::sexp::Envelope;
use crate::instance::AppState;
use crate::remote;
use crate::signatures::cavage::{self, Signature};
use crate::signatures::proof::{self, Proof};
use crate::signatures::{self, rfc9421, Algorithm, Requirements, SignatureError};

/// Verifies the request's signature and returns the actor it proves: RFC
/// 9421 when the request has a `Signature-Input`, draft-cavage otherwise.
/// Cheap checks (coverage, time, digest, Host) run before any fetch.
pub async fn authenticate(
    state: &AppState,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    let unauthorized = |e: SignatureError| AppError::Unauthorized(e.to_string());
    let requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(state.config.federation.signature_max_skew_secs),
    };
    let now = SystemTime::now();
    if headers.contains_key("signature-input") {
        let signatures = rfc9421::parse(headers).map_err(unauthorized)?;
        check_host(state, headers)?;
        let target = rfc9421::Target {
            method,
            scheme: state.config.scheme(),
            authority: state.config.authority(),
            path_and_query,
            headers,
        };
        let (sig, base) =
            rfc9421::select(signatures, &target, body, &requirements, now).map_err(unauthorized)?;
        let key_id = sig.key_id.as_deref().unwrap_or_default();
        return remote::verify_with_key_of(state, key_id, claimed_actor, |key| {
            sig.verify(&base, key).map_err(|e| e.to_string())
        })
        .await;
    }
    let raw = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized(SignatureError::Missing))?;
    let sig = Signature::parse(raw).map_err(unauthorized)?;
    cavage::check_request(&sig, headers, body, &requirements, now).map_err(unauthorized)?;
    check_host(state, headers)?;
    let signing_string =
        cavage::signing_string(method, path_and_query, headers, &sig).map_err(unauthorized)?;
    // `rsa-sha256` says RSA; `hs2019` (or nothing) means the key's own.
    let alg = (sig.algorithm.as_deref() == Some("rsa-sha256")).then_some(Algorithm::RsaV15Sha256);
    remote::verify_with_key_of(state, &sig.key_id, claimed_actor, |key| {
        key.verify_with(
            alg.unwrap_or_else(|| key.default_algorithm()),
            signing_string.as_bytes(),
            &sig.signature,
        )
        .map_err(|e| e.to_string())
    })
    .await
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

/// Verifies a sexp activity's own signature (`docs/sexp.md` §6) and
/// returns the actor it proves: the algorithm and the time window, then the
/// signature over the canonical signing input with a key `claimed_actor`
/// owns (fetched and cached as for HTTP signatures).
pub async fn authenticate_envelope(
    state: &AppState,
    envelope: &Envelope,
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    let fed = &state.config.federation;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let window = signatures::envelope::Window {
        max_skew: fed.signature_max_skew_secs as i64,
        max_age: fed.sexp_signature_max_age_secs as i64,
    };
    let (input, signature) = signatures::envelope::prepare(envelope, now, window)
        .map_err(|why| AppError::Unauthorized(format!("sexp envelope: {why}")))?;
    remote::verify_with_key_of(state, &envelope.key_id, claimed_actor, |key| {
        key.verify(&input, &signature)
            .map_err(|e| format!("sexp envelope: {e}"))
    })
    .await
}

/// Verifies a JSON-LD document's own FEP-8b32 proof and returns the actor
/// it proves: the proof's key must be one `claimed_actor` owns (fetched and
/// cached as for HTTP signatures).
pub async fn authenticate_proof(
    state: &AppState,
    doc: &Value,
    proof: &Proof,
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    remote::verify_with_key_of(state, &proof.verification_method, claimed_actor, |key| {
        proof
            .verify(doc, key)
            .map_err(|e| format!("object proof: {e}"))
    })
    .await
}

/// The document's FEP-8b32 proof, if it has one; an unreadable one is 401.
pub fn proof_of(doc: &Value) -> Result<Option<Proof>, AppError> {
    proof::find(doc).map_err(|e| AppError::Unauthorized(format!("object proof: {e}")))
}
