//! The `codec` scenario: the per-activity work of the inbox's edge, in
//! process and on one core, for a signed activity of about 1 KiB in each
//! format. No HTTP and no database: what decoding and verifying cost.
//!
//! - sexp: read the envelope, check it, write the canonical signing input,
//!   verify the RSA signature, map the payload to the AS2 tree.
//! - JSON-LD: parse the body, check the HTTP signature's Digest and Date,
//!   build its signing string, verify the RSA signature.
//!
//! Both verify one RSA-2048 signature; the difference is the format's own
//! cost. The target (docs: Sexp issue) is ≥ 20,000 sexp activities/s.

use std::time::{Duration, Instant, SystemTime};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use rosefed::formats::{activity::Activity, jsonld, sexp};
use rosefed::keys::InstanceKeys;
use rosefed::signatures::cavage::{self, Signature};
use rosefed::signatures::{envelope, PublicKey, Requirements};
use serde_json::json;

const KEY_ID: &str = "https://a.example/actors/blog#main-key";
const INBOX: &str = "https://b.example/inbox";

/// A Create of a post of about 1 KiB in all, with a sexp body.
pub fn activity() -> serde_json::Value {
    let words = "The co-op's market opens on Saturday; bring bags, and friends. ".repeat(4);
    let tree = sexp::Sexp::List(vec![
        sexp::Sexp::Symbol("p".into()),
        sexp::Sexp::String(words),
        sexp::Sexp::List(vec![
            sexp::Sexp::Symbol("a".into()),
            sexp::Sexp::Keyword("href".into()),
            sexp::Sexp::String("https://a.example/market".into()),
            sexp::Sexp::String("the market".into()),
        ]),
    ]);
    let body = sexp::as2::body(&tree.to_string(), &sexp::Limits::default())
        .unwrap_or_else(|e| panic!("benchmark body: {e}"));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://a.example/activities/0192f0e8-8f0a-7c3e-b1a2-3c4d5e6f7a8b",
        "type": "Create",
        "actor": "https://a.example/actors/blog",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://a.example/actors/blog/followers"],
        "object": {
            "id": "https://a.example/objects/0192f0e8-8f0a-7c3e-b1a2-3c4d5e6f7a8c",
            "type": "Note",
            "attributedTo": "https://a.example/actors/blog",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-12-01T12:00:00Z",
            "content": body.html,
            "source": { "content": body.source, "mediaType": "application/sexp" },
        },
    })
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs `work` `n` times on this thread; returns per-second rate.
pub fn rate(n: usize, mut work: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    for _ in 0..n / 10 {
        work()?;
    }
    let started = Instant::now();
    for _ in 0..n {
        work()?;
    }
    Ok(n as f64 / started.elapsed().max(Duration::from_nanos(1)).as_secs_f64())
}

pub fn run(iterations: usize) -> Result<(), String> {
    let stored = InstanceKeys::generate().map_err(|e| e.to_string())?;
    let keys = InstanceKeys::from_stored(&stored).map_err(|e| e.to_string())?;
    let public = PublicKey::from_pem(keys.rsa_public_pem()).map_err(|e| e.to_string())?;
    let doc = activity();

    // sexp: a signed envelope, as rosefed delivers it.
    let payload = sexp::as2::from_json(&doc).map_err(|e| e.to_string())?;
    let signed = envelope::sign(&keys, KEY_ID, payload, now_secs()).map_err(|e| e.to_string())?;
    let sexp_body = signed.to_sexp().to_string().into_bytes();
    let limits = sexp::Limits::default();
    let window = envelope::Window {
        max_skew: 3600,
        max_age: 24 * 3600,
    };
    let sexp_once = || -> Result<(), String> {
        let (tree, env) =
            sexp::as2::decode_activity(&sexp_body, &limits).map_err(|e| e.to_string())?;
        let env = env.ok_or("no envelope")?;
        let (input, sig) = envelope::prepare(&env, now_secs(), window)?;
        public.verify(&input, &sig).map_err(|e| e.to_string())?;
        Activity::from_doc(tree).map_err(|e| e.to_string())?;
        Ok(())
    };

    // JSON-LD: the same activity with an HTTP signature over it.
    let json_body = jsonld::encode(&doc);
    let url = url::Url::parse(INBOX).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    for (name, value) in cavage::sign(
        &keys,
        KEY_ID,
        "POST",
        &url,
        Some(&json_body),
        SystemTime::now(),
    )
    .map_err(|e| e.to_string())?
    {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).map_err(|e| e.to_string())?,
        );
    }
    let requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(3600),
    };
    let json_once = || -> Result<(), String> {
        let doc = jsonld::decode(&json_body, 64).map_err(|e| e.to_string())?;
        let raw = headers
            .get("signature")
            .and_then(|v| v.to_str().ok())
            .ok_or("no signature")?;
        let sig = Signature::parse(raw).map_err(|e| e.to_string())?;
        cavage::check_request(&sig, &headers, &json_body, &requirements, SystemTime::now())
            .map_err(|e| e.to_string())?;
        let text = cavage::signing_string("POST", url.path(), &headers, &sig)
            .map_err(|e| e.to_string())?;
        public
            .verify(&text, &sig.signature)
            .map_err(|e| e.to_string())?;
        Activity::from_doc(doc).map_err(|e| e.to_string())?;
        Ok(())
    };

    // The parts, to see where the time goes.
    let read_only = || {
        sexp::read(&sexp_body, &limits)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let canonical_only = || envelope::prepare(&signed, now_secs(), window).map(|_| ());
    let (input, sig) = envelope::prepare(&signed, now_secs(), window)?;
    let verify_only = || public.verify(&input, &sig).map_err(|e| e.to_string());

    println!(
        "codec: one core, {iterations} iterations each; sexp envelope {} bytes, JSON-LD body {} bytes",
        sexp_body.len(),
        json_body.len()
    );
    let sexp_rate = rate(iterations, sexp_once)?;
    let json_rate = rate(iterations, json_once)?;
    println!("  sexp    read + canonical + verify + map: {sexp_rate:>8.0} activities/s (target ≥ 20,000)");
    println!("  JSON-LD parse + HTTP signature + verify: {json_rate:>8.0} activities/s");
    println!(
        "  parts: sexp read {:.0}/s, envelope check + canonical signing input {:.0}/s, RSA-2048 verify {:.0}/s",
        rate(iterations, read_only)?,
        rate(iterations, canonical_only)?,
        rate(iterations, verify_only)?,
    );
    Ok(())
}
