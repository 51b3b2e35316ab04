//! draft-cavage-http-signatures-12, as the fediverse uses it: the
//! `Signature` header alone, over `(request-target) host date digest`.
//! The hub signs every outgoing request this way when a peer does not take
//! RFC 9421, and verifies what peers send.
//!
//! `rsa-sha256` and `hs2019` are both accepted; `hs2019` means "the key's
//! own algorithm", which for an RSA key is the same thing.

use std::time::SystemTime;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::digest::{digest_header, verify_digest};
use super::{Requirements, SignatureError};
use crate::error::AppError;
use crate::keys::InstanceKeys;

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub key_id: String,
    pub algorithm: Option<String>,
    /// Lower-cased header names, in signing order.
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

impl Signature {
    /// Parses `keyId="…",algorithm="…",headers="…",signature="…"`.
    pub fn parse(value: &str) -> Result<Signature, SignatureError> {
        let malformed = |m: &str| SignatureError::Malformed(m.to_string());
        let mut key_id = None;
        let mut algorithm = None;
        let mut headers = None;
        let mut signature = None;
        let mut created = None;
        let mut expires = None;
        let mut rest = value.trim();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or_else(|| malformed("expected name=value"))?;
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (val, tail) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| malformed("unterminated quote"))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            match name.as_str() {
                "keyid" => key_id = Some(val.to_string()),
                "algorithm" => algorithm = Some(val.to_ascii_lowercase()),
                "headers" => {
                    headers = Some(
                        val.split_whitespace()
                            .map(str::to_ascii_lowercase)
                            .collect(),
                    )
                }
                "signature" => {
                    signature = Some(
                        B64.decode(val)
                            .map_err(|_| malformed("signature is not base64"))?,
                    )
                }
                "created" => created = Some(val.parse().map_err(|_| malformed("bad created"))?),
                "expires" => expires = Some(val.parse().map_err(|_| malformed("bad expires"))?),
                _ => {}
            }
            rest = tail
                .trim_start()
                .strip_prefix(',')
                .unwrap_or(tail)
                .trim_start();
        }
        Ok(Signature {
            key_id: key_id.ok_or_else(|| malformed("no keyId"))?,
            algorithm,
            // The spec's default is (created) only; peers always list them.
            headers: headers.unwrap_or_else(|| vec!["(created)".into()]),
            signature: signature.ok_or_else(|| malformed("no signature"))?,
            created,
            expires,
        })
    }
}

/// The string both sides sign: one `name: value` line per covered header.
pub fn signing_string(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    sig: &Signature,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(sig.headers.len());
    for name in &sig.headers {
        let value = match name.as_str() {
            "(request-target)" => format!("{} {path_and_query}", method.to_ascii_lowercase()),
            "(created)" => sig
                .created
                .ok_or_else(|| SignatureError::HeaderMissing(name.clone()))?
                .to_string(),
            "(expires)" => sig
                .expires
                .ok_or_else(|| SignatureError::HeaderMissing(name.clone()))?
                .to_string(),
            _ => {
                let values: Vec<&str> = headers
                    .get_all(name.as_str())
                    .iter()
                    .map(|v| v.to_str().map(str::trim))
                    .collect::<Result<_, _>>()
                    .map_err(|_| SignatureError::HeaderMissing(name.clone()))?;
                if values.is_empty() {
                    return Err(SignatureError::HeaderMissing(name.clone()));
                }
                values.join(", ")
            }
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// Checks algorithm, coverage, Date window and Digest: everything that needs
/// no key. Cheap, so the inbox runs it before fetching anything.
pub fn check_request(
    sig: &Signature,
    headers: &HeaderMap,
    body: &[u8],
    req: &Requirements,
    now: SystemTime,
) -> Result<(), SignatureError> {
    if let Some(alg) = &sig.algorithm {
        if alg != "rsa-sha256" && alg != "hs2019" {
            return Err(SignatureError::Algorithm(alg.clone()));
        }
    }
    let covers = |h: &str| sig.headers.iter().any(|x| x == h);
    if !covers("(request-target)") {
        return Err(SignatureError::Uncovered("(request-target)"));
    }
    if !covers("host") {
        return Err(SignatureError::Uncovered("host"));
    }
    if !covers("date") && !covers("(created)") {
        return Err(SignatureError::Uncovered("date"));
    }
    if req.has_body && !covers("digest") {
        return Err(SignatureError::Uncovered("digest"));
    }
    let now_s = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let max = req.max_skew.as_secs();
    // `created` and `expires` are any i64 the peer wrote: saturating, so
    // an extreme one is refused as a skew instead of overflowing (found
    // while writing the signature_header fuzz target).
    let skew_of = |t: i64| t.saturating_sub(now_s);
    if covers("date") {
        let date = headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| SignatureError::HeaderMissing("date".into()))?;
        let when = httpdate::parse_http_date(date).map_err(|_| SignatureError::BadDate)?;
        let when_s = when
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let skew = skew_of(when_s);
        if skew.unsigned_abs() > max {
            return Err(SignatureError::Skew(skew));
        }
    }
    if let Some(created) = sig.created {
        let skew = skew_of(created);
        if skew.unsigned_abs() > max {
            return Err(SignatureError::Skew(skew));
        }
    }
    if let Some(expires) = sig.expires {
        if expires < now_s {
            return Err(SignatureError::Skew(skew_of(expires)));
        }
    }
    if covers("digest") || req.has_body {
        verify_digest(headers, body)?;
    }
    Ok(())
}

/// Headers for a signed request: `Date`, `Host`, `Digest` (with a body) and
/// `Signature`, covering `(request-target) host date [digest]`.
pub fn sign(
    keys: &InstanceKeys,
    key_id: &str,
    method: &str,
    url: &url::Url,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, AppError> {
    let host = crate::net::authority(url);
    let date = httpdate::fmt_http_date(now);
    let path = crate::net::path_and_query(url);
    let mut out = vec![("date", date.clone()), ("host", host.clone())];
    let mut names = "(request-target) host date".to_string();
    let mut to_sign = format!(
        "(request-target): {} {path}\nhost: {host}\ndate: {date}",
        method.to_ascii_lowercase()
    );
    if let Some(body) = body {
        let digest = digest_header(body);
        to_sign.push_str(&format!("\ndigest: {digest}"));
        names.push_str(" digest");
        out.push(("digest", digest));
    }
    let signature = B64.encode(keys.sign_rsa_sha256(to_sign.as_bytes())?);
    out.push((
        "signature",
        format!("keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{names}\",signature=\"{signature}\""),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signatures::PublicKey;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn keys() -> InstanceKeys {
        InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap()
    }

    fn headers_of(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const REQ: Requirements = Requirements {
        has_body: true,
        max_skew: Duration::from_secs(3600),
    };

    #[test]
    fn round_trip_and_tampering() {
        let k = keys();
        let url = url::Url::parse("http://127.0.0.1:9/actors/blog/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        let now = SystemTime::now();
        let pairs = sign(
            &k,
            "http://a/actors/x#main-key",
            "POST",
            &url,
            Some(body),
            now,
        )
        .unwrap();
        let headers = headers_of(&pairs);
        let sig = Signature::parse(headers["signature"].to_str().unwrap()).unwrap();
        assert_eq!(sig.key_id, "http://a/actors/x#main-key");
        check_request(&sig, &headers, body, &REQ, now).unwrap();
        let s = signing_string("POST", "/actors/blog/inbox", &headers, &sig).unwrap();
        let public = PublicKey::from_pem(k.rsa_public_pem()).unwrap();
        public.verify(&s, &sig.signature).unwrap();

        // Another path, another key, another body: all refused.
        let other = signing_string("POST", "/inbox", &headers, &sig).unwrap();
        assert_eq!(
            public.verify(&other, &sig.signature),
            Err(SignatureError::Invalid)
        );
        let stranger = PublicKey::from_pem(keys().rsa_public_pem()).unwrap();
        assert_eq!(
            stranger.verify(&s, &sig.signature),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check_request(&sig, &headers, b"{}", &REQ, now),
            Err(SignatureError::DigestMismatch)
        );
    }

    #[test]
    fn date_window() {
        let k = keys();
        let url = url::Url::parse("http://h/inbox").unwrap();
        let then = SystemTime::now() - Duration::from_secs(7200);
        let pairs = sign(&k, "k", "POST", &url, Some(b"x"), then).unwrap();
        let headers = headers_of(&pairs);
        let sig = Signature::parse(headers["signature"].to_str().unwrap()).unwrap();
        assert!(matches!(
            check_request(&sig, &headers, b"x", &REQ, SystemTime::now()),
            Err(SignatureError::Skew(s)) if s < -7000
        ));
    }

    #[test]
    fn extreme_created_and_expires_are_skews_not_overflows() {
        let h = HeaderMap::new();
        let req = Requirements {
            has_body: false,
            max_skew: Duration::from_secs(3600),
        };
        for (field, value) in [
            ("created", i64::MIN),
            ("created", i64::MAX),
            ("expires", i64::MIN),
        ] {
            let sig = Signature::parse(&format!(
                r#"keyId="k",headers="(request-target) host (created)",signature="AAAA",{field}={value}"#
            ))
            .unwrap();
            let checked = check_request(&sig, &h, b"", &req, SystemTime::now());
            assert!(
                matches!(checked, Err(SignatureError::Skew(_))),
                "{field}={value}: {checked:?}"
            );
        }
    }

    #[test]
    fn coverage_and_algorithms() {
        let mut sig = Signature::parse(
            r#"keyId="k",algorithm="hs2019",headers="(request-target) host date digest",signature="AAAA""#,
        )
        .unwrap();
        let h = HeaderMap::new();
        sig.headers.retain(|x| x != "digest");
        assert_eq!(
            check_request(&sig, &h, b"x", &REQ, SystemTime::now()),
            Err(SignatureError::Uncovered("digest"))
        );
        sig.algorithm = Some("hmac-sha256".into());
        assert!(matches!(
            check_request(&sig, &h, b"x", &REQ, SystemTime::now()),
            Err(SignatureError::Algorithm(_))
        ));
        for bad in [
            "",
            "keyId=",
            r#"keyId="k""#,
            r#"keyId="k",signature="!!""#,
            r#"keyId="k,signature="x""#,
        ] {
            assert!(Signature::parse(bad).is_err(), "{bad}");
        }
    }
}
