//! The `signatures` scenario: what verifying and making each kind of
//! signature costs on one core, in process, for a JSON-LD Create of about
//! 1 KiB: draft-cavage (RSA-2048), RFC 9421 with rsa-v1_5-sha256,
//! rsa-pss-sha512 and ed25519, and FEP-8b32 `eddsa-jcs-2022` proofs. Each
//! verification is the inbox's whole check of that signature: parsing the
//! fields, the time window, the body digest, the signature base or JCS,
//! and the public-key operation.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use rosefed::formats::jsonld;
use rosefed::keys::InstanceKeys;
use rosefed::signatures::cavage::{self, Signature};
use rosefed::signatures::{proof, rfc9421, Algorithm, PublicKey, Requirements};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::codec::{activity, rate};

const ACTOR: &str = "https://a.example/actors/blog";
const INBOX: &str = "https://b.example/inbox";

fn headers_of(pairs: Vec<(&'static str, String)>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).map_err(|e| e.to_string())?,
        );
    }
    headers.insert("host", HeaderValue::from_static("b.example"));
    Ok(headers)
}

/// The inbox's view of a request to `https://b.example/inbox`.
fn target(headers: &HeaderMap) -> rfc9421::Target<'_> {
    rfc9421::Target {
        method: "POST",
        scheme: "https",
        authority: "b.example",
        path_and_query: "/inbox",
        headers,
    }
}

pub fn run(iterations: usize) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let keys = InstanceKeys::from_stored(&InstanceKeys::generate().map_err(|e| err(&e))?)
        .map_err(|e| err(&e))?;
    let rsa_public = PublicKey::parse(keys.rsa_public_pem()).map_err(|e| err(&e))?;
    let ed_public = PublicKey::parse(&keys.ed25519_multibase()).map_err(|e| err(&e))?;
    let body = jsonld::encode(&activity());
    let url = url::Url::parse(INBOX).map_err(|e| err(&e))?;
    let now = SystemTime::now();
    let requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(3600),
    };

    // draft-cavage, RSA.
    let cavage_headers = headers_of(
        cavage::sign(
            &keys,
            &format!("{ACTOR}#main-key"),
            "POST",
            &url,
            Some(&body),
            now,
        )
        .map_err(|e| err(&e))?,
    )?;
    let cavage_verify = || -> Result<(), String> {
        let raw = cavage_headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .ok_or("no signature")?;
        let sig = Signature::parse(raw).map_err(|e| err(&e))?;
        cavage::check_request(
            &sig,
            &cavage_headers,
            &body,
            &requirements,
            SystemTime::now(),
        )
        .map_err(|e| err(&e))?;
        let text =
            cavage::signing_string("POST", "/inbox", &cavage_headers, &sig).map_err(|e| err(&e))?;
        rsa_public
            .verify_with(Algorithm::RsaV15Sha256, text.as_bytes(), &sig.signature)
            .map_err(|e| err(&e))
    };

    // RFC 9421, each algorithm.
    let signed_9421 = |alg: Algorithm| -> Result<HeaderMap, String> {
        headers_of(
            rfc9421::sign(
                &keys,
                &format!("{ACTOR}#k"),
                alg,
                "POST",
                &url,
                Some(&body),
                now,
            )
            .map_err(|e| err(&e))?,
        )
    };
    let ed_headers = signed_9421(Algorithm::Ed25519)?;
    let rsa_headers = signed_9421(Algorithm::RsaV15Sha256)?;
    // RSA-PSS: the hub does not sign with it, so a key of the bench's own
    // signs the same base with alg rsa-pss-sha512.
    let pss_private =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| err(&e))?;
    let pss_public = PublicKey::parse(
        &rsa::RsaPublicKey::from(&pss_private)
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| err(&e))?,
    )
    .map_err(|e| err(&e))?;
    let pss_pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(
        pss_private.to_pkcs8_der().map_err(|e| err(&e))?.as_bytes(),
    )
    .map_err(|e| err(&e))?;
    let mut pss_headers = ed_headers.clone();
    let pss_input = ed_headers
        .get("signature-input")
        .and_then(|v| v.to_str().ok())
        .ok_or("no signature-input")?
        .replace("\"ed25519\"", "\"rsa-pss-sha512\"");
    pss_headers.insert(
        "signature-input",
        HeaderValue::from_str(&pss_input).map_err(|e| err(&e))?,
    );
    let unsigned = rfc9421::parse(&pss_headers).map_err(|e| err(&e))?.remove(0);
    let base = unsigned.base(&target(&pss_headers)).map_err(|e| err(&e))?;
    let mut pss_sig = vec![0; pss_pair.public_modulus_len()];
    pss_pair
        .sign(
            &aws_lc_rs::signature::RSA_PSS_SHA512,
            &aws_lc_rs::rand::SystemRandom::new(),
            base.as_bytes(),
            &mut pss_sig,
        )
        .map_err(|e| err(&e))?;
    pss_headers.insert(
        "signature",
        HeaderValue::from_str(&format!(
            "sig1=:{}:",
            base64::engine::general_purpose::STANDARD.encode(&pss_sig)
        ))
        .map_err(|e| err(&e))?,
    );
    let verify_9421 = |headers: &HeaderMap, key: &PublicKey| -> Result<(), String> {
        let sigs = rfc9421::parse(headers).map_err(|e| err(&e))?;
        let (sig, base) = rfc9421::select(
            sigs,
            &target(headers),
            &body,
            &requirements,
            SystemTime::now(),
        )
        .map_err(|e| err(&e))?;
        sig.verify(&base, key).map_err(|e| err(&e))
    };

    // FEP-8b32.
    let mut proven = activity();
    proof::attach(
        &mut proven,
        &format!("{ACTOR}#ed25519-key"),
        "2026-12-07T00:00:00Z",
        |m| keys.sign_ed25519(m),
    )
    .map_err(|e| err(&e))?;
    let proof_verify = || -> Result<(), String> {
        let found = proof::find(&proven)
            .map_err(|e| err(&e))?
            .ok_or("no proof")?;
        found.verify(&proven, &ed_public).map_err(|e| err(&e))
    };

    println!(
        "signatures: one core, {iterations} iterations each, a JSON-LD Create of {} bytes",
        body.len()
    );
    println!("  verifications/s (fields, window, digest, base, key operation):");
    let cavage_rate = rate(iterations, cavage_verify)?;
    println!("    draft-cavage rsa-sha256          {cavage_rate:>8.0}");
    for (name, headers, key) in [
        ("RFC 9421 rsa-v1_5-sha256", &rsa_headers, &rsa_public),
        ("RFC 9421 rsa-pss-sha512 ", &pss_headers, &pss_public),
        ("RFC 9421 ed25519        ", &ed_headers, &ed_public),
    ] {
        let r = rate(iterations, || verify_9421(headers, key))?;
        println!(
            "    {name}         {r:>8.0}  ({:.2} × draft-cavage)",
            r / cavage_rate
        );
    }
    let r = rate(iterations, proof_verify)?;
    println!("    FEP-8b32 eddsa-jcs-2022 proof     {r:>8.0}");
    println!("  signings/s:");
    let r = rate(iterations, || {
        cavage::sign(&keys, "k", "POST", &url, Some(&body), now)
            .map(|_| ())
            .map_err(|e| err(&e))
    })?;
    println!("    draft-cavage RSA-2048            {r:>8.0}");
    let r = rate(iterations, || {
        rfc9421::sign(
            &keys,
            "k",
            Algorithm::Ed25519,
            "POST",
            &url,
            Some(&body),
            now,
        )
        .map(|_| ())
        .map_err(|e| err(&e))
    })?;
    println!("    RFC 9421 Ed25519                 {r:>8.0}");
    let doc = activity();
    let r = rate(iterations, || {
        let mut d = doc.clone();
        proof::attach(&mut d, "k", "2026-12-07T00:00:00Z", |m| {
            keys.sign_ed25519(m)
        })
        .map_err(|e| err(&e))
    })?;
    println!("    FEP-8b32 proof                   {r:>8.0}");
    Ok(())
}
