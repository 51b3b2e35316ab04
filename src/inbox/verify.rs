//! Who sent this? Checks the HTTP signature of an inbox request (covered
//! headers, Date, Digest, Host), or the signed envelope of a sexp activity,
//! and proves, through [`crate::remote`], that the signing key belongs to
//! the activity's actor.

use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;

use crate::db::remote::RemoteActor;
use crate::error::AppError;
use crate::formats::sexp::Envelope;
use crate::instance::AppState;
use crate::remote;
use crate::signatures::{self, Requirements, Signature};

/// Verifies the request's signature and returns the actor it proves.
/// Cheap checks (coverage, Date, Digest, Host) run before any fetch.
pub async fn authenticate(
    state: &AppState,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    claimed_actor: &str,
) -> Result<RemoteActor, AppError> {
    let unauthorized = |why: String| AppError::Unauthorized(why);
    let raw = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized(signatures::SignatureError::Missing.to_string()))?;
    let sig = Signature::parse(raw).map_err(|e| unauthorized(e.to_string()))?;
    let requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(state.config.federation.signature_max_skew_secs),
    };
    signatures::check_request(&sig, headers, body, &requirements, SystemTime::now())
        .map_err(|e| unauthorized(e.to_string()))?;
    // The signed Host must be ours: a request signed for another server
    // cannot be replayed here.
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !host.eq_ignore_ascii_case(state.config.authority()) {
        return Err(unauthorized(format!(
            "signed for host '{host}', not {}",
            state.config.authority()
        )));
    }
    let signing_string = signatures::signing_string(method, path_and_query, headers, &sig)
        .map_err(|e| unauthorized(e.to_string()))?;
    remote::verify_with_key_of(state, &sig.key_id, claimed_actor, |key| {
        key.verify(&signing_string, &sig.signature)
            .map_err(|e| e.to_string())
    })
    .await
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
