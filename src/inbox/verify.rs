//! Who sent this? Checks the HTTP signature of an inbox request (RFC 9421
//! or draft-cavage: coverage, time, digest, Host), the signed envelope of
//! a sexp activity, or a JSON-LD activity's own FEP-8b32 proof,
//! and proves, through [`crate::remote`], that the signing key belongs to
//! the activity's actor.

use std::time::SystemTime;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::db::remote::RemoteActor;
use crate::error::AppError;
use crate::formats::sexp::Envelope;
use crate::instance::AppState;
use crate::remote;
use crate::remote::request::SignedRequest;
use crate::signatures;
use crate::signatures::proof::{self, Proof};

/// Verifies the request's signature and returns the actor it proves (see
/// [`remote::request`]); the key must be `claimed_actor`'s.
pub async fn authenticate(
    state: &AppState,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    let request = SignedRequest {
        method,
        path_and_query,
        headers,
        body: Some(body),
    };
    remote::request::signer(state, &request, Some(claimed_actor)).await
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

/// Whether a proof is recent enough to stand for its activity alone: made
/// within `--sexp-signature-max-age-secs` (the same bound as a sexp
/// envelope's) and not in the future beyond the allowed skew.
pub fn fresh(state: &AppState, proof: &Proof) -> bool {
    let fed = &state.config.federation;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    proof.created().is_some_and(|created| {
        let age = now.saturating_sub(created);
        age <= fed.sexp_signature_max_age_secs as i64 && -age <= fed.signature_max_skew_secs as i64
    })
}

/// The document's FEP-8b32 proof, if it has one; an unreadable one is 401.
pub fn proof_of(doc: &Value) -> Result<Option<Proof>, AppError> {
    proof::find(doc).map_err(|e| AppError::Unauthorized(format!("object proof: {e}")))
}
