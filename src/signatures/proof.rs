//! FEP-8b32 Object Integrity Proofs with the `eddsa-jcs-2022` cryptosuite
//! (W3C Data Integrity EdDSA): a signature carried *inside* a JSON-LD
//! document, so the document proves its author wherever it travels (a
//! forward, a relay, a fetch from a cache), unlike an HTTP signature, which
//! proves only the request that carried it.
//!
//! A proof is `{type: DataIntegrityProof, cryptosuite: eddsa-jcs-2022,
//! verificationMethod, proofPurpose: assertionMethod, created, proofValue}`.
//! The signature is Ed25519 over `SHA-256(JCS(proof options)) ‖
//! SHA-256(JCS(document without proof))`, where the proof options are the
//! proof without `proofValue`, and JCS is [`crate::formats::jcs`]. The
//! `proofValue` is `z` + base58btc of the 64 signature bytes.
//!
//! No I/O: which key a `verificationMethod` names, and whether its actor
//! owns it, is the caller's business ([`crate::remote`]).

use aws_lc_rs::digest::{digest, SHA256};
use serde_json::{Map, Value};

use super::{Algorithm, PublicKey};
use crate::formats::actor::ed25519_key_id;
use crate::formats::jcs;
use crate::keys::InstanceKeys;

/// The cryptosuite the hub signs and verifies with.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The context that defines `proof` and `DataIntegrityProof`; added to the
/// documents the hub signs.
pub const CONTEXT: &str = "https://w3id.org/security/data-integrity/v2";

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("malformed proof: {0}")]
    Malformed(&'static str),
    #[error("proof context is not a prefix of the document's")]
    Context,
    #[error("document has no canonical form: {0}")]
    Canonical(#[from] jcs::JcsError),
    #[error("proof does not verify")]
    Invalid,
}

/// An `eddsa-jcs-2022` proof found on a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The key id (usually `actor#ed25519-key`).
    pub verification_method: String,
    /// The proof without `proofValue`: what is hashed.
    options: Map<String, Value>,
    signature: Vec<u8>,
}

/// The document's `eddsa-jcs-2022` proof, if it has one. Proofs of other
/// cryptosuites are not ours to check and are ignored (`None`), as other
/// signatures a peer does not understand are; a proof of ours that cannot
/// be read is an error.
pub fn find(doc: &Value) -> Result<Option<Proof>, ProofError> {
    let proofs: Vec<&Value> = match doc.get("proof") {
        None => return Ok(None),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
    };
    let ours = proofs.into_iter().find(|p| {
        p.get("cryptosuite").and_then(Value::as_str) == Some(CRYPTOSUITE)
            && p.get("type").and_then(Value::as_str) == Some("DataIntegrityProof")
    });
    let Some(Value::Object(proof)) = ours else {
        return Ok(None);
    };
    if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
        return Err(ProofError::Malformed("proofPurpose is not assertionMethod"));
    }
    let verification_method = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .ok_or(ProofError::Malformed("no verificationMethod"))?
        .to_string();
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or(ProofError::Malformed("no proofValue"))?;
    let signature = value
        .strip_prefix('z')
        .filter(|b58| b58.len() <= 128)
        .and_then(|b58| bs58::decode(b58).into_vec().ok())
        .filter(|bytes| bytes.len() == 64)
        .ok_or(ProofError::Malformed(
            "proofValue is not a base58btc Ed25519 signature",
        ))?;
    let mut options = proof.clone();
    options.remove("proofValue");
    Ok(Some(Proof {
        verification_method,
        options,
        signature,
    }))
}

impl Proof {
    /// When the proof says it was made (its `created`), in seconds since
    /// the epoch, if it says so readably.
    pub fn created(&self) -> Option<i64> {
        let text = self.options.get("created")?.as_str()?;
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp())
    }

    /// Verifies the proof on `doc` with `key` (an Ed25519 key).
    pub fn verify(&self, doc: &Value, key: &PublicKey) -> Result<(), ProofError> {
        let mut unsecured = doc.clone();
        if let Some(members) = unsecured.as_object_mut() {
            members.remove("proof");
            // The proof's context must be the start of the document's; the
            // document is then hashed under the proof's (vc-di-eddsa §3.3).
            if let Some(context) = self.options.get("@context") {
                let theirs = as_list(context);
                let doc_context = members.get("@context").map(as_list).unwrap_or_default();
                if !doc_context.starts_with(&theirs) {
                    return Err(ProofError::Context);
                }
                members.insert("@context".into(), context.clone());
            }
        }
        let hashed = hash_data(&self.options, &unsecured)?;
        key.verify_with(Algorithm::Ed25519, &hashed, &self.signature)
            .map_err(|_| ProofError::Invalid)
    }
}

fn as_list(context: &Value) -> Vec<Value> {
    match context {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    }
}

/// `SHA-256(JCS(options)) ‖ SHA-256(JCS(document))`.
fn hash_data(options: &Map<String, Value>, unsecured: &Value) -> Result<Vec<u8>, ProofError> {
    let options = jcs::canonicalize(&Value::Object(options.clone()))?;
    let document = jcs::canonicalize(unsecured)?;
    let mut hashed = digest(&SHA256, &options).as_ref().to_vec();
    hashed.extend_from_slice(digest(&SHA256, &document).as_ref());
    Ok(hashed)
}

/// Signs `doc` (a JSON object) and attaches the proof as `proof`, with
/// `sign` making the Ed25519 signature: the data-integrity context is added
/// to the document's `@context` first, and the proof carries that context.
/// `created` is an RFC 3339 time.
pub fn attach(
    doc: &mut Value,
    verification_method: &str,
    created: &str,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Result<(), ProofError> {
    let Some(members) = doc.as_object_mut() else {
        return Err(ProofError::Malformed("only an object can carry a proof"));
    };
    members.remove("proof");
    if let Some(context) = members.get_mut("@context") {
        let mut list = as_list(context);
        if !list.iter().any(|c| c == CONTEXT) {
            list.push(Value::from(CONTEXT));
        }
        *context = Value::Array(list);
    }
    let mut options = Map::new();
    if let Some(context) = members.get("@context") {
        options.insert("@context".into(), context.clone());
    }
    options.insert("type".into(), "DataIntegrityProof".into());
    options.insert("cryptosuite".into(), CRYPTOSUITE.into());
    options.insert("verificationMethod".into(), verification_method.into());
    options.insert("proofPurpose".into(), "assertionMethod".into());
    options.insert("created".into(), created.into());
    let hashed = hash_data(&options, doc)?;
    let signature = sign(&hashed);
    options.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature).into_string()).into(),
    );
    if let Some(members) = doc.as_object_mut() {
        members.insert("proof".into(), Value::Object(options));
    }
    Ok(())
}

/// The text of `activity` as the hub sends it: with a proof by `actor_id`
/// (its `#ed25519-key`, the instance's Ed25519 key), created now. A
/// document that has no canonical form (an integer beyond 2^53) goes
/// without one, with a warning: the proof is an addition that the HTTP
/// signature does not depend on.
pub fn signed_body(keys: &InstanceKeys, actor_id: &str, activity: &Value) -> String {
    let mut signed = activity.clone();
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match attach(&mut signed, &ed25519_key_id(actor_id), &created, |m| {
        keys.sign_ed25519(m)
    }) {
        Ok(()) => signed.to_string(),
        Err(e) => {
            tracing::warn!(id = ?activity.get("id"), error = %e, "activity sent without an object proof");
            activity.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/fep-8b32");

    fn json(name: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{name}")).unwrap()).unwrap()
    }

    /// The FEP's key pair: its secret key is multicodec `ed25519-priv`
    /// (0x1300, varint 0x80 0x26) + the 32-byte seed.
    fn fep_key() -> (
        aws_lc_rs::signature::Ed25519KeyPair,
        PublicKey,
        String,
        String,
    ) {
        let key = json("key.json");
        let secret = bs58::decode(&key["secretKeyMultibase"].as_str().unwrap()[1..])
            .into_vec()
            .unwrap();
        assert_eq!(&secret[..2], &[0x80, 0x26]);
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&secret[2..]).unwrap();
        let public = PublicKey::parse(key["publicKeyMultibase"].as_str().unwrap()).unwrap();
        (
            pair,
            public,
            key["verificationMethod"].as_str().unwrap().to_string(),
            key["created"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn the_feps_signed_example_verifies() {
        let (_, public, method, _) = fep_key();
        let signed = json("signed.json");
        let proof = find(&signed).unwrap().unwrap();
        assert_eq!(proof.verification_method, method);
        assert_eq!(proof.created(), Some(1_677_281_798));
        proof.verify(&signed, &public).unwrap();
    }

    #[test]
    fn signing_the_feps_example_gives_its_proof() {
        let (pair, _, method, created) = fep_key();
        let mut doc = json("unsigned.json");
        attach(&mut doc, &method, &created, |m| {
            pair.sign(m).as_ref().to_vec()
        })
        .unwrap();
        assert_eq!(doc, json("signed.json"));
    }

    #[test]
    fn tampering_breaks_the_proof() {
        let (_, public, _, _) = fep_key();
        let signed = json("signed.json");
        let proof = find(&signed).unwrap().unwrap();
        let mut changed = signed.clone();
        changed["object"]["content"] = "Goodbye".into();
        assert_eq!(proof.verify(&changed, &public), Err(ProofError::Invalid));
        // A number written another way is the same number: still valid.
        let respelled =
            serde_json::from_str::<Value>(&signed.to_string().replace("25.273962", "2.5273962e1"))
                .unwrap();
        proof.verify(&respelled, &public).unwrap();
        // The proof's own fields are signed too.
        let mut later = signed.clone();
        later["proof"]["created"] = "2024-01-01T00:00:00Z".into();
        let moved = find(&later).unwrap().unwrap();
        assert_eq!(moved.verify(&later, &public), Err(ProofError::Invalid));
        // The document dropped a context the proof was made under.
        let mut narrowed = signed.clone();
        narrowed["@context"] = "https://www.w3.org/ns/activitystreams".into();
        assert_eq!(proof.verify(&narrowed, &public), Err(ProofError::Context));
        // Another key.
        let keys = InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap();
        let stranger = PublicKey::parse(&keys.ed25519_multibase()).unwrap();
        assert_eq!(proof.verify(&signed, &stranger), Err(ProofError::Invalid));
        let rsa = PublicKey::parse(keys.rsa_public_pem()).unwrap();
        assert_eq!(proof.verify(&signed, &rsa), Err(ProofError::Invalid));
    }

    #[test]
    fn the_hubs_proofs_verify() {
        let keys = InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap();
        let mut doc = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://hub/a/1", "type": "Like", "actor": "https://hub/actors/blog",
            "object": "https://r/n/1", "n": 0.1,
        });
        attach(
            &mut doc,
            "https://hub/actors/blog#ed25519-key",
            "2026-12-07T00:00:00Z",
            |m| keys.sign_ed25519(m),
        )
        .unwrap();
        assert_eq!(doc["@context"][1], CONTEXT);
        let public = PublicKey::parse(&keys.ed25519_multibase()).unwrap();
        find(&doc).unwrap().unwrap().verify(&doc, &public).unwrap();
        // Signing again replaces the proof rather than signing over it.
        attach(
            &mut doc,
            "https://hub/actors/blog#ed25519-key",
            "2026-12-07T00:00:01Z",
            |m| keys.sign_ed25519(m),
        )
        .unwrap();
        assert!(doc["proof"].is_object());
        find(&doc).unwrap().unwrap().verify(&doc, &public).unwrap();
    }

    #[test]
    fn proofs_are_found_or_refused_with_a_reason() {
        let signed = json("signed.json");
        assert_eq!(find(&serde_json::json!({"id": "x"})), Ok(None));
        // Another cryptosuite is not ours: ignored.
        let mut other = signed.clone();
        other["proof"]["cryptosuite"] = "ecdsa-rdfc-2019".into();
        assert_eq!(find(&other), Ok(None));
        // In a list, ours is found.
        let mut listed = signed.clone();
        listed["proof"] = Value::Array(vec![other["proof"].clone(), signed["proof"].clone()]);
        assert!(find(&listed).unwrap().is_some());
        for (field, value, why) in [
            ("proofValue", Value::from("zzz0OIl"), "proofValue"),
            ("proofValue", Value::from("uAAAA"), "proofValue"),
            ("proofValue", Value::from(7), "no proofValue"),
            (
                "proofPurpose",
                Value::from("authentication"),
                "proofPurpose",
            ),
            ("verificationMethod", Value::Null, "no verificationMethod"),
        ] {
            let mut bad = signed.clone();
            bad["proof"][field] = value;
            let err = find(&bad).unwrap_err();
            assert!(err.to_string().contains(why), "{field}: {err}");
        }
    }
}
