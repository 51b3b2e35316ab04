//! Signed sexp envelopes (`docs/sexp.md` §6): signing an activity with the
//! instance key, and the checks a received envelope must pass before its
//! signature is verified (algorithm, time window), as pure functions. The
//! envelope's syntax is [`crate::formats::sexp::envelope`]'s.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::error::AppError;
use crate::formats::sexp::envelope::{Envelope, RSA_SHA256};
use crate::formats::sexp::Sexp;
use crate::keys::InstanceKeys;

/// Signs `payload` as `key_id` with the instance's RSA key, dated `created`
/// (Unix seconds).
pub fn sign(
    keys: &InstanceKeys,
    key_id: &str,
    payload: Sexp,
    created: i64,
) -> Result<Envelope, AppError> {
    let input = Envelope::signing_input(key_id, RSA_SHA256, created, None, &payload)
        .map_err(|e| AppError::Internal(format!("cannot sign a sexp activity: {e}")))?;
    let signature = B64.encode(keys.sign_rsa_sha256(input.as_bytes())?);
    Ok(Envelope {
        key_id: key_id.to_string(),
        algorithm: RSA_SHA256.to_string(),
        created,
        expires: None,
        signature,
        payload,
    })
}

/// How old and how far in the future a received envelope may be.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Allowed clock skew, in seconds (into the future).
    pub max_skew: i64,
    /// Oldest `created` accepted, in seconds before now.
    pub max_age: i64,
}

/// Checks an envelope's algorithm and times at `now` (Unix seconds); on
/// success returns the signing input and the signature's bytes, to be
/// verified with the key of `envelope.key_id`.
pub fn prepare(envelope: &Envelope, now: i64, window: Window) -> Result<(String, Vec<u8>), String> {
    if envelope.algorithm != RSA_SHA256 {
        return Err(format!(
            "algorithm '{}' is not supported (use {RSA_SHA256})",
            envelope.algorithm.escape_debug()
        ));
    }
    if envelope.created > now.saturating_add(window.max_skew) {
        return Err(format!("created {} is in the future", envelope.created));
    }
    if envelope.created < now.saturating_sub(window.max_age) {
        return Err(format!(
            "created {} is older than {} s",
            envelope.created, window.max_age
        ));
    }
    if envelope.expires.is_some_and(|e| e < now) {
        return Err("it has expired".into());
    }
    let input = Envelope::signing_input(
        &envelope.key_id,
        &envelope.algorithm,
        envelope.created,
        envelope.expires,
        &envelope.payload,
    )
    .map_err(|e| e.to_string())?;
    let signature = B64
        .decode(&envelope.signature)
        .map_err(|e| format!("signature is not base64: {e}"))?;
    Ok((input, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signatures::PublicKey;

    fn note(id: &str) -> Sexp {
        Sexp::List(vec![
            Sexp::Symbol("Like".into()),
            Sexp::Keyword("id".into()),
            Sexp::String(id.into()),
        ])
    }

    #[test]
    fn signed_envelopes_verify_and_tampering_does_not() {
        let keys = InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap();
        let public = PublicKey::from_pem(keys.rsa_public_pem()).unwrap();
        let window = Window {
            max_skew: 60,
            max_age: 3600,
        };
        let envelope = sign(
            &keys,
            "https://a/actors/blog#main-key",
            note("https://a/1"),
            1000,
        )
        .unwrap();
        let (input, sig) = prepare(&envelope, 1000, window).unwrap();
        public.verify(&input, &sig).unwrap();

        let mut tampered = envelope.clone();
        tampered.payload = note("https://a/2");
        let (input, sig) = prepare(&tampered, 1000, window).unwrap();
        assert!(public.verify(&input, &sig).is_err());

        let mut other_key = envelope.clone();
        other_key.key_id = "https://a/actors/other#main-key".into();
        let (input, sig) = prepare(&other_key, 1000, window).unwrap();
        assert!(public.verify(&input, &sig).is_err());

        let mut later = envelope.clone();
        later.created = 1001;
        let (input, sig) = prepare(&later, 1001, window).unwrap();
        assert!(public.verify(&input, &sig).is_err(), "created is signed");

        assert!(prepare(&envelope, 1000 + 3601, window).is_err(), "stale");
        assert!(prepare(&envelope, 1000 - 61, window).is_err(), "future");
        let mut expired = envelope.clone();
        expired.expires = Some(999);
        assert!(prepare(&expired, 1000, window).is_err());
        let mut hs = envelope;
        hs.algorithm = "hmac-sha256".into();
        assert!(prepare(&hs, 1000, window).is_err());
    }
}
