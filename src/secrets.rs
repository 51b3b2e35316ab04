//! Random bearer secrets (API tokens, OAuth tokens and codes, session ids,
//! client secrets, CSRF tokens) and the hashes they are stored as.
//!
//! Every such secret is 256 random bits, so a plain SHA-256 is a safe way
//! to store it: there is nothing to brute-force. (Human passwords are a
//! different matter: see `oauth::passwords`.)

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::AppError;

/// A new secret: `prefix` then 256 random bits in URL-safe base64. The
/// prefix tells a leaked string's kind at a glance (and to secret scanners).
pub fn random_token(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| AppError::Internal("the system has no randomness to give".into()))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// `bytes` random bytes as lowercase hex (identifiers such as client ids).
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AppError::Internal("the system has no randomness to give".into()))?;
    Ok(hex(&buf))
}

/// SHA-256 of a secret as lowercase hex: the form secrets are stored and
/// looked up in.
pub fn hash(secret: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref())
}

/// Compares two secrets without leaking where they differ through timing.
pub fn equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hashes_stable() {
        let a = random_token("x_").unwrap();
        let b = random_token("x_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("x_") && a.len() == 2 + 43);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(equal("same", "same") && !equal("same", "samf") && !equal("a", "ab"));
        assert_eq!(random_hex(16).unwrap().len(), 32);
    }
}
