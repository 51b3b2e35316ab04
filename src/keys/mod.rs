//! The instance keypair: one RSA-2048 key (draft-cavage HTTP Signatures, the
//! key every `publicKey` in the actor documents shows) and one Ed25519 key
//! (published as a FEP-521a `Multikey`, ready for RFC 9421 and object
//! proofs).
//!
//! Keys are generated on the first start, stored in the database and reused
//! forever after. The rsa crate generates keys and does the PEM work; signing
//! goes through aws-lc-rs, which is constant-time and many times faster than
//! the rsa crate (RUSTSEC-2023-0071 concerns the latter's private-key
//! operations). Private keys never leave this module except to the database:
//! `Debug` prints fingerprints only.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::db::keys::{self as store, StoredKeys};
use crate::db::{now_millis, Db};
use crate::error::AppError;

const RSA_BITS: usize = 2048;
/// Multicodec prefix of an Ed25519 public key (varint 0xed).
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// The loaded keypair, ready to sign.
pub struct InstanceKeys {
    rsa_public_pem: String,
    rsa_public_der: Vec<u8>,
    rsa: RsaKeyPair,
    ed25519: Ed25519KeyPair,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl InstanceKeys {
    /// Makes a new keypair in its stored form.
    pub fn generate() -> Result<StoredKeys, AppError> {
        let mut rng = rsa::rand_core::OsRng;
        let private = RsaPrivateKey::new(&mut rng, RSA_BITS).map_err(AppError::internal)?;
        let rsa_private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(AppError::internal)?
            .to_string();
        let rsa_public_pem = RsaPublicKey::from(&private)
            .to_public_key_pem(LineEnding::LF)
            .map_err(AppError::internal)?;
        let ed =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(AppError::internal)?;
        let ed_pair = Ed25519KeyPair::from_pkcs8(ed.as_ref()).map_err(AppError::internal)?;
        Ok(StoredKeys {
            rsa_private_pem,
            rsa_public_pem,
            ed25519_pkcs8: B64.encode(ed.as_ref()),
            ed25519_public: B64.encode(ed_pair.public_key().as_ref()),
            created_at: now_millis(),
        })
    }

    /// Loads a stored keypair, checking that the public halves match the
    /// private ones (a mismatch means the row was damaged or edited).
    pub fn from_stored(stored: &StoredKeys) -> Result<InstanceKeys, AppError> {
        let damaged = |what: &str| AppError::Internal(format!("stored instance key: {what}"));
        let private = RsaPrivateKey::from_pkcs8_pem(&stored.rsa_private_pem)
            .map_err(|e| damaged(&format!("RSA private key unreadable: {e}")))?;
        let public = RsaPublicKey::from(&private);
        let rsa_public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(AppError::internal)?;
        if rsa_public_pem.trim() != stored.rsa_public_pem.trim() {
            return Err(damaged("RSA public key does not match the private key"));
        }
        let rsa_public_der = public
            .to_public_key_der()
            .map_err(AppError::internal)?
            .into_vec();
        let der = private.to_pkcs8_der().map_err(AppError::internal)?;
        let rsa = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| damaged(&format!("RSA key refused by signer: {e}")))?;

        let ed_pkcs8 = B64
            .decode(&stored.ed25519_pkcs8)
            .map_err(|e| damaged(&format!("Ed25519 key is not base64: {e}")))?;
        let ed25519 = Ed25519KeyPair::from_pkcs8(&ed_pkcs8)
            .map_err(|e| damaged(&format!("Ed25519 key unreadable: {e}")))?;
        if B64.encode(ed25519.public_key().as_ref()) != stored.ed25519_public {
            return Err(damaged("Ed25519 public key does not match the private key"));
        }
        Ok(InstanceKeys {
            rsa_public_pem,
            rsa_public_der,
            rsa,
            ed25519,
            created_at: stored.created_at,
        })
    }

    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as Mastodon publishes it.
    pub fn rsa_public_pem(&self) -> &str {
        &self.rsa_public_pem
    }

    /// SHA-256 of the RSA public key's DER, hex: a short name for the key.
    pub fn rsa_fingerprint(&self) -> String {
        hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.rsa_public_der).as_ref())
    }

    pub fn ed25519_public(&self) -> &[u8] {
        self.ed25519.public_key().as_ref()
    }

    /// `z` + base58btc(multicodec ed25519-pub ++ key): FEP-521a
    /// `publicKeyMultibase`.
    pub fn ed25519_multibase(&self) -> String {
        let mut bytes = ED25519_MULTICODEC.to_vec();
        bytes.extend_from_slice(self.ed25519_public());
        format!("z{}", bs58::encode(bytes).into_string())
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256, the algorithm of draft-cavage
    /// `rsa-sha256` / `hs2019` signatures.
    pub fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, AppError> {
        let mut signature = vec![0; self.rsa.public_modulus_len()];
        self.rsa
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(AppError::internal)?;
        Ok(signature)
    }

    pub fn sign_ed25519(&self, message: &[u8]) -> Vec<u8> {
        self.ed25519.sign(message).as_ref().to_vec()
    }
}

impl fmt::Debug for InstanceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceKeys")
            .field("rsa_sha256", &self.rsa_fingerprint())
            .field("ed25519", &self.ed25519_multibase())
            .finish_non_exhaustive()
    }
}

/// Loads the instance keypair, generating and storing it on the first start.
/// Returns whether this call created it.
pub async fn load_or_create(db: &Db) -> Result<(InstanceKeys, bool), AppError> {
    if let Some(stored) = store::load(db).await? {
        return Ok((InstanceKeys::from_stored(&stored)?, false));
    }
    let fresh = tokio::task::spawn_blocking(InstanceKeys::generate)
        .await
        .map_err(AppError::internal)??;
    store::insert_if_absent(db, &fresh).await?;
    // Reload: a concurrent first start may have won the insert.
    let stored = store::load(db)
        .await?
        .ok_or_else(|| AppError::Internal("instance key vanished after insert".into()))?;
    let created = stored.rsa_public_pem == fresh.rsa_public_pem;
    Ok((InstanceKeys::from_stored(&stored)?, created))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    #[test]
    fn generated_keys_load_and_sign_verifiably() {
        let stored = InstanceKeys::generate().unwrap();
        assert!(stored.rsa_private_pem.contains("BEGIN PRIVATE KEY"));
        assert!(stored
            .rsa_public_pem
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let keys = InstanceKeys::from_stored(&stored).unwrap();

        // aws-lc-rs signs; an independent implementation (the rsa crate) verifies
        // against the published PEM, as a remote peer would.
        let msg = b"(request-target): post /inbox";
        let sig = keys.sign_rsa_sha256(msg).unwrap();
        let public = RsaPublicKey::from_public_key_pem(keys.rsa_public_pem()).unwrap();
        let verifier = VerifyingKey::<rsa::sha2::Sha256>::new(public);
        verifier
            .verify(msg, &Signature::try_from(sig.as_slice()).unwrap())
            .unwrap();
        assert!(verifier
            .verify(b"tampered", &Signature::try_from(sig.as_slice()).unwrap())
            .is_err());

        let ed_sig = keys.sign_ed25519(msg);
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ED25519,
            keys.ed25519_public(),
        )
        .verify(msg, &ed_sig)
        .unwrap();
        assert!(keys.ed25519_multibase().starts_with("z6Mk"));
    }

    #[test]
    fn debug_never_prints_private_material() {
        let stored = InstanceKeys::generate().unwrap();
        let keys = InstanceKeys::from_stored(&stored).unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains("PRIVATE"));
        let body = stored.rsa_private_pem.lines().nth(1).unwrap();
        assert!(!shown.contains(body));
        assert!(!shown.contains(&stored.ed25519_pkcs8));
    }

    #[test]
    fn mismatched_halves_are_refused() {
        let a = InstanceKeys::generate().unwrap();
        let b = InstanceKeys::generate().unwrap();
        let mixed = StoredKeys {
            rsa_public_pem: b.rsa_public_pem.clone(),
            ..a
        };
        assert!(InstanceKeys::from_stored(&mixed).is_err());
    }
}
