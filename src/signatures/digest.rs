//! Body digests that a signature covers to bind the body: `Digest`
//! (RFC 3230, with draft-cavage) and `Content-Digest` (RFC 9530, with
//! RFC 9421). Both are checked against the raw bytes received.

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::SignatureError;

/// `SHA-256=<base64>` of a body.
pub fn digest_header(body: &[u8]) -> String {
    format!(
        "SHA-256={}",
        B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
    )
}

/// The Digest header must carry a SHA-256 (`SHA-256=` or `sha-256=`) that
/// matches the raw body; other algorithms listed beside it are ignored.
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let value = headers
        .get("digest")
        .and_then(|v| v.to_str().ok())
        .ok_or(SignatureError::DigestMissing)?;
    let expected = B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body));
    let mut saw_sha256 = false;
    for part in value.split(',') {
        if let Some((alg, digest)) = part.trim().split_once('=') {
            if alg.eq_ignore_ascii_case("sha-256") {
                saw_sha256 = true;
                // Base64 may itself end in '='; split_once kept the rest.
                if digest.trim() == expected {
                    return Ok(());
                }
            }
        }
    }
    Err(if saw_sha256 {
        SignatureError::DigestMismatch
    } else {
        SignatureError::DigestMissing
    })
}

/// `sha-256=:<base64>:` of a body (RFC 9530), what the hub sends.
pub fn content_digest_header(body: &[u8]) -> String {
    format!(
        "sha-256=:{}:",
        B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
    )
}

/// The `Content-Digest` must hold a `sha-256` or `sha-512` digest, and
/// every one of those it holds must match the raw body; other algorithms
/// listed beside them are ignored.
pub fn verify_content_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let values: Vec<&str> = headers
        .get_all("content-digest")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Err(SignatureError::ContentDigestMissing);
    }
    // Several field lines are one dictionary, joined as RFC 9110 says.
    let dict: sfv::Dictionary = sfv::Parser::new(&values.join(", "))
        .parse()
        .map_err(|_| SignatureError::ContentDigestMissing)?;
    let mut checked = false;
    for (name, entry) in &dict {
        let algorithm = match name.as_str() {
            "sha-256" => &aws_lc_rs::digest::SHA256,
            "sha-512" => &aws_lc_rs::digest::SHA512,
            _ => continue,
        };
        let sfv::ListEntry::Item(item) = entry else {
            return Err(SignatureError::ContentDigestMismatch);
        };
        let Some(given) = item.bare_item.as_byte_sequence() else {
            return Err(SignatureError::ContentDigestMismatch);
        };
        if given != aws_lc_rs::digest::digest(algorithm, body).as_ref() {
            return Err(SignatureError::ContentDigestMismatch);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(SignatureError::ContentDigestMissing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers_of(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn digests() {
        let body = b"hello";
        let good = digest_header(body);
        for form in [
            good.clone(),
            good.replace("SHA-256", "sha-256"),
            format!("MD5=abc,{good}"),
        ] {
            let h = headers_of(&[("digest", form.clone())]);
            verify_digest(&h, body).unwrap_or_else(|e| panic!("{form}: {e}"));
        }
        let h = headers_of(&[("digest", "SHA-512=abc".into())]);
        assert_eq!(verify_digest(&h, body), Err(SignatureError::DigestMissing));
        let h = headers_of(&[("digest", digest_header(b"other"))]);
        assert_eq!(verify_digest(&h, body), Err(SignatureError::DigestMismatch));
    }

    #[test]
    fn content_digests() {
        let body = br#"{"hello": "world"}"#;
        // RFC 9530 Appendix / RFC 9421 B.2: the sha-512 of that body.
        let rfc = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
        let ours = content_digest_header(body);
        for form in [
            rfc.to_string(),
            ours.clone(),
            format!("md5=:AAAA:, {ours}"),
            format!("{ours}, {rfc}"),
        ] {
            let h = headers_of(&[("content-digest", form.clone())]);
            verify_content_digest(&h, body).unwrap_or_else(|e| panic!("{form}: {e}"));
        }
        for (form, err) in [
            (
                "md5=:AAAA:".to_string(),
                SignatureError::ContentDigestMissing,
            ),
            ("sha-256".to_string(), SignatureError::ContentDigestMismatch),
            (
                "sha-256=\"x\"".to_string(),
                SignatureError::ContentDigestMismatch,
            ),
            (
                "not a dictionary((".to_string(),
                SignatureError::ContentDigestMissing,
            ),
            (
                format!(
                    "{ours}, {}",
                    content_digest_header(b"other").replace("sha-256", "sha-512")
                ),
                SignatureError::ContentDigestMismatch,
            ),
            (
                content_digest_header(b"other"),
                SignatureError::ContentDigestMismatch,
            ),
        ] {
            let h = headers_of(&[("content-digest", form.clone())]);
            assert_eq!(verify_content_digest(&h, body), Err(err), "{form}");
        }
        assert_eq!(
            verify_content_digest(&HeaderMap::new(), body),
            Err(SignatureError::ContentDigestMissing)
        );
    }
}
