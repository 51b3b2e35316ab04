//! Member passwords: argon2id (RFC 9106 / OWASP parameters, the argon2
//! crate's defaults: 19 MiB, 2 passes), stored as PHC strings so the
//! parameters can be raised later without invalidating old hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AppError;

/// Shortest password accepted (NIST SP 800-63B's minimum).
pub const MIN_LENGTH: usize = 8;
/// Longest accepted, so nobody makes the server hash megabytes.
pub const MAX_LENGTH: usize = 1024;

pub fn hash(password: &str) -> Result<String, AppError> {
    check(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("cannot hash the password: {e}")))
}

pub fn check(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(AppError::BadRequest(format!(
            "the password must have at least {MIN_LENGTH} characters"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(AppError::BadRequest(format!(
            "the password must be at most {MAX_LENGTH} bytes"
        )));
    }
    Ok(())
}

/// Whether `password` matches the stored hash. An unreadable stored hash
/// counts as a mismatch (and is logged): it must never let anyone in.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_LENGTH {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash is not a PHC string");
            false
        }
    }
}

/// Spends the time of one verification without a stored hash, so that an
/// unknown user name takes as long to refuse as a wrong password (no user
/// enumeration through timing).
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(dummy) = DUMMY.get_or_init(|| hash("not-a-real-password").ok()) {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterx", &stored));
        assert!(!verify("anything", "not a hash"));
        assert!(hash("short").is_err());
    }
}
