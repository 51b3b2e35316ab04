//! Signatures on HTTP requests and on activities: what the hub signs with
//! its instance keys and what it accepts from peers.
//!
//! - [`cavage`]: draft-cavage-http-signatures-12 (`Signature` alone), what
//!   most of the fediverse still speaks;
//! - [`rfc9421`]: RFC 9421 HTTP Message Signatures (`Signature-Input` and
//!   `Signature`), its successor;
//! - [`digest`]: the body digests both bind a body with (`Digest`, RFC 3230;
//!   `Content-Digest`, RFC 9530);
//! - [`knock`]: which of the two HTTP schemes to sign a request to a host
//!   with (RFC 9421 first, draft-cavage for hosts that refuse it);
//! - [`envelope`]: a sexp activity's own signature (`docs/sexp.md` §6);
//! - [`proof`]: a JSON-LD document's own signature (FEP-8b32
//!   `eddsa-jcs-2022`), which survives forwarding.
//!
//! The key types they verify with are here: [`PublicKey`] reads what actors
//! publish (an RSA `publicKeyPem`, or a FEP-521a `Multikey`), and
//! [`Algorithm`] names what a signature was made with. Verification goes
//! through aws-lc-rs (constant-time, and independent of the `rsa` crate's timing
//! advisory, RUSTSEC-2023-0071); the `rsa` crate only reads PEM.

use aws_lc_rs::signature::{
    UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA512,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;

pub mod cavage;
pub mod digest;
pub mod envelope;
pub mod knock;
pub mod proof;
pub mod rfc9421;

/// Why a signature was refused. Each maps to 401 at the inbox, with this
/// text in the answer and in the log line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("no Signature header")]
    Missing,
    #[error("malformed Signature header: {0}")]
    Malformed(String),
    #[error("malformed Signature-Input: {0}")]
    MalformedInput(String),
    #[error("unsupported signature algorithm '{0}'")]
    Algorithm(String),
    #[error("signature does not cover required header '{0}'")]
    Uncovered(&'static str),
    #[error("signature does not cover {0}")]
    UncoveredComponent(&'static str),
    #[error("unsupported covered component {0}")]
    Component(String),
    #[error("signed header '{0}' is missing from the request")]
    HeaderMissing(String),
    #[error("Date is outside the allowed window (skew {0} s)")]
    Skew(i64),
    #[error("signature has expired")]
    Expired,
    #[error("signature has no 'created' time")]
    NoCreated,
    #[error("signature names no keyid")]
    NoKeyId,
    #[error("unreadable Date header")]
    BadDate,
    #[error("Digest does not match the body")]
    DigestMismatch,
    #[error("no SHA-256 Digest for the body")]
    DigestMissing,
    #[error("Content-Digest does not match the body")]
    ContentDigestMismatch,
    #[error("no sha-256 or sha-512 Content-Digest for the body")]
    ContentDigestMissing,
    #[error("signature does not verify")]
    Invalid,
    #[error("unreadable public key: {0}")]
    BadKey(String),
    #[error("a {key} key cannot verify an {alg} signature")]
    KeyMismatch {
        key: &'static str,
        alg: &'static str,
    },
}

/// What an inbound request's signature must prove, and how much clock skew
/// is allowed; the same for both schemes.
pub struct Requirements {
    /// The request has a body, which a digest must bind.
    pub has_body: bool,
    pub max_skew: std::time::Duration,
}

/// What a signature was made with: the algorithms of RFC 9421's registry
/// that the hub verifies (asymmetric only: it shares no secrets with
/// peers), plus draft-cavage's `rsa-sha256`, which is the first. It signs
/// with `rsa-v1_5-sha256` and `ed25519` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`rsa-v1_5-sha256`; draft-cavage's
    /// `rsa-sha256`, and `hs2019` with an RSA key).
    RsaV15Sha256,
    /// RSASSA-PSS with SHA-512 and a 64-byte salt (`rsa-pss-sha512`).
    RsaPssSha512,
    /// Ed25519 (`ed25519`).
    Ed25519,
    /// ECDSA on P-256 with SHA-256, `r ‖ s` (`ecdsa-p256-sha256`).
    EcdsaP256Sha256,
}

impl Algorithm {
    /// The RFC 9421 name (`alg` parameter).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        }
    }

    /// Reads an RFC 9421 `alg` value.
    pub fn from_name(name: &str) -> Result<Algorithm, SignatureError> {
        match name {
            "rsa-v1_5-sha256" => Ok(Algorithm::RsaV15Sha256),
            "rsa-pss-sha512" => Ok(Algorithm::RsaPssSha512),
            "ed25519" => Ok(Algorithm::Ed25519),
            "ecdsa-p256-sha256" => Ok(Algorithm::EcdsaP256Sha256),
            other => Err(SignatureError::Algorithm(other.chars().take(64).collect())),
        }
    }
}

/// Multicodec prefixes (unsigned varints) of the public keys a FEP-521a
/// `Multikey` can hold: `ed25519-pub` (0xed) and `rsa-pub` (0x1205, PKCS#1
/// DER follows).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const RSA_PUB: [u8; 2] = [0x85, 0x24];
/// The DER of an Ed25519 SubjectPublicKeyInfo up to the key's 32 bytes
/// (RFC 8410): `SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }`.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// The DER of a P-256 SubjectPublicKeyInfo up to its uncompressed point
/// (RFC 5480): `SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 } BIT
/// STRING }`.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A public key in the form aws-lc-rs verifies with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// PKCS#1 DER.
    Rsa(Vec<u8>),
    Ed25519([u8; 32]),
    /// The uncompressed point (65 bytes, `04 ‖ x ‖ y`).
    EcdsaP256(Vec<u8>),
}

impl PublicKey {
    /// Reads a key as actors publish them: PEM (`BEGIN PUBLIC KEY` with an
    /// RSA or Ed25519 key, or `BEGIN RSA PUBLIC KEY`), or a Multikey's
    /// `publicKeyMultibase` (`z` + base58btc of a multicodec key).
    pub fn parse(text: &str) -> Result<PublicKey, SignatureError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            PublicKey::from_pem(text)
        } else if let Some(base58) = text.strip_prefix('z') {
            PublicKey::from_multibase(base58)
        } else {
            Err(SignatureError::BadKey(
                "neither PEM nor a base58btc multibase key".into(),
            ))
        }
    }

    /// Accepts SPKI (`BEGIN PUBLIC KEY`: RSA or Ed25519) and PKCS#1 (`BEGIN
    /// RSA PUBLIC KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<PublicKey, SignatureError> {
        let pem = pem.trim();
        if let Ok(key) =
            RsaPublicKey::from_public_key_pem(pem).or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        {
            let der = key
                .to_pkcs1_der()
                .map_err(|e| SignatureError::BadKey(e.to_string()))?;
            return Ok(PublicKey::Rsa(der.as_bytes().to_vec()));
        }
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = B64
            .decode(body)
            .map_err(|_| SignatureError::BadKey("PEM body is not base64".into()))?;
        if let Some(key) = der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
            ed25519(key)
        } else if let Some(point) = der
            .strip_prefix(&P256_SPKI_PREFIX[..])
            .filter(|p| p.len() == 65 && p[0] == 0x04)
        {
            Ok(PublicKey::EcdsaP256(point.to_vec()))
        } else {
            Err(SignatureError::BadKey(
                "PEM holds no RSA, Ed25519 or P-256 public key".into(),
            ))
        }
    }

    fn from_multibase(base58: &str) -> Result<PublicKey, SignatureError> {
        // The longest key we read is RSA-8192: about 1,100 bytes of base58.
        if base58.len() > 2048 {
            return Err(SignatureError::BadKey("multibase key is too long".into()));
        }
        let bytes = bs58::decode(base58)
            .into_vec()
            .map_err(|_| SignatureError::BadKey("multibase key is not base58btc".into()))?;
        if let Some(key) = bytes.strip_prefix(&ED25519_PUB[..]) {
            ed25519(key)
        } else if let Some(der) = bytes.strip_prefix(&RSA_PUB[..]) {
            RsaPublicKey::from_pkcs1_der(der)
                .map_err(|e| SignatureError::BadKey(format!("rsa-pub multikey: {e}")))?;
            Ok(PublicKey::Rsa(der.to_vec()))
        } else {
            Err(SignatureError::BadKey(
                "multikey is neither ed25519-pub nor rsa-pub".into(),
            ))
        }
    }

    /// What kind of key this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            PublicKey::Rsa(_) => "RSA",
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::EcdsaP256(_) => "P-256",
        }
    }

    /// The algorithm a signature by this key is assumed to use when it
    /// names none (draft-cavage `hs2019`, RFC 9421 without `alg`).
    pub fn default_algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Rsa(_) => Algorithm::RsaV15Sha256,
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::EcdsaP256(_) => Algorithm::EcdsaP256Sha256,
        }
    }

    /// Verifies `signature` over `message` made with `alg`; the key must be
    /// of the algorithm's kind.
    pub fn verify_with(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let verified = match (self, alg) {
            (PublicKey::Rsa(der), Algorithm::RsaV15Sha256) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(message, signature)
            }
            (PublicKey::Rsa(der), Algorithm::RsaPssSha512) => {
                UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA512, der).verify(message, signature)
            }
            (PublicKey::Ed25519(key), Algorithm::Ed25519) => {
                UnparsedPublicKey::new(&ED25519, key).verify(message, signature)
            }
            (PublicKey::EcdsaP256(point), Algorithm::EcdsaP256Sha256) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
            (key, alg) => {
                return Err(SignatureError::KeyMismatch {
                    key: key.kind(),
                    alg: alg.name(),
                })
            }
        };
        verified.map_err(|_| SignatureError::Invalid)
    }

    /// Verifies with the key's own algorithm ([`Self::default_algorithm`]):
    /// draft-cavage signatures and sexp envelopes.
    pub fn verify(&self, message: &str, signature: &[u8]) -> Result<(), SignatureError> {
        self.verify_with(self.default_algorithm(), message.as_bytes(), signature)
    }
}

fn ed25519(key: &[u8]) -> Result<PublicKey, SignatureError> {
    <[u8; 32]>::try_from(key)
        .map(PublicKey::Ed25519)
        .map_err(|_| SignatureError::BadKey("an Ed25519 key is 32 bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::InstanceKeys;

    #[test]
    fn keys_read_from_pem_and_multikey() {
        let keys = InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap();
        let rsa = PublicKey::parse(keys.rsa_public_pem()).unwrap();
        assert_eq!(rsa.kind(), "RSA");
        let ed = PublicKey::parse(&keys.ed25519_multibase()).unwrap();
        assert_eq!(
            ed,
            PublicKey::Ed25519(keys.ed25519_public().try_into().unwrap())
        );

        let message = b"hello";
        ed.verify_with(Algorithm::Ed25519, message, &keys.sign_ed25519(message))
            .unwrap();
        let rsa_sig = keys.sign_rsa_sha256(message).unwrap();
        rsa.verify_with(Algorithm::RsaV15Sha256, message, &rsa_sig)
            .unwrap();
        assert_eq!(
            rsa.verify_with(Algorithm::RsaPssSha512, message, &rsa_sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            ed.verify_with(Algorithm::RsaV15Sha256, message, &rsa_sig),
            Err(SignatureError::KeyMismatch {
                key: "Ed25519",
                alg: "rsa-v1_5-sha256"
            })
        );
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        let short = format!("z{}", bs58::encode([0xed, 0x01, 1, 2, 3]).into_string());
        let unknown = format!("z{}", bs58::encode([0x12, 0x00, 1, 2, 3]).into_string());
        let huge = format!("z{}", "1".repeat(5000));
        for bad in [
            "",
            "zzz0OIl",
            short.as_str(),
            unknown.as_str(),
            huge.as_str(),
            "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "uABCD",
        ] {
            assert!(
                matches!(PublicKey::parse(bad), Err(SignatureError::BadKey(_))),
                "{bad:.40}"
            );
        }
    }
}
