//! RFC 9421's own examples (Appendix B, committed under
//! `tests/vectors/rfc9421/`), the hub's signer against its verifier, and
//! the refusals: tampering, coverage, time, malformed fields.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use super::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/rfc9421");

/// One Appendix B example: its request, fields, expected base and key.
struct Vector {
    name: String,
    key: String,
    method: String,
    path_and_query: String,
    headers: HeaderMap,
    input: String,
    signature: String,
    base: String,
}

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("--- {name}\n"))
        .unwrap_or_else(|| panic!("no section {name}"))
        + name.len()
        + 5;
    let rest = &text[start..];
    rest.find("\n--- ").map_or(rest, |end| &rest[..end])
}

fn vector(file: &str) -> Vector {
    let text = std::fs::read_to_string(format!("{DIR}/{file}")).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("key: "))
        .unwrap()
        .to_string();
    let request = section(&text, "request");
    let (head, _body) = request.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap().split(' ');
    let method = request_line.next().unwrap().to_string();
    let path_and_query = request_line.next().unwrap().to_string();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(": ").unwrap();
        headers.append(
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    Vector {
        name: file.to_string(),
        key,
        method,
        path_and_query,
        headers,
        input: section(&text, "signature-input").trim().to_string(),
        signature: section(&text, "signature").trim().to_string(),
        base: section(&text, "base").to_string(),
    }
}

fn public_key(name: &str) -> PublicKey {
    PublicKey::parse(&std::fs::read_to_string(format!("{DIR}/{name}.pem")).unwrap()).unwrap()
}

fn target<'a>(v: &'a Vector) -> Target<'a> {
    Target {
        method: &v.method,
        scheme: "https",
        authority: "example.com",
        path_and_query: &v.path_and_query,
        headers: &v.headers,
    }
}

#[test]
fn appendix_b_request_examples_give_the_published_base_and_verify() {
    for file in ["b-2-1.txt", "b-2-2.txt", "b-2-3.txt", "b-2-6.txt"] {
        let v = vector(file);
        let sigs = parse_fields(&v.input, &v.signature).unwrap();
        assert_eq!(sigs.len(), 1, "{}", v.name);
        let sig = &sigs[0];
        let base = sig.base(&target(&v)).unwrap();
        assert_eq!(base, v.base, "{}", v.name);
        let key = public_key(&v.key);
        // B.2.1–B.2.3 name no alg: the verifier knows it is RSA-PSS.
        let alg = if v.key == "test-key-rsa-pss" {
            Algorithm::RsaPssSha512
        } else {
            Algorithm::Ed25519
        };
        key.verify_with(alg, base.as_bytes(), &sig.signature)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));

        // Tampering: one byte of the base, or another key.
        let mut tampered = base.clone().into_bytes();
        tampered[0] ^= 1;
        assert_eq!(
            key.verify_with(alg, &tampered, &sig.signature),
            Err(SignatureError::Invalid),
            "{}",
            v.name
        );
        let other = if alg == Algorithm::Ed25519 {
            public_key("test-key-rsa-pss")
        } else {
            public_key("test-key-rsa")
        };
        assert!(other
            .verify_with(alg, base.as_bytes(), &sig.signature)
            .is_err());
    }
}

#[test]
fn appendix_b_ed25519_example_is_reproduced_by_signing() {
    let v = vector("b-2-6.txt");
    let pem = std::fs::read_to_string(format!("{DIR}/test-key-ed25519-private.pem")).unwrap();
    let der = B64
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).unwrap();
    let sig = &parse_fields(&v.input, &v.signature).unwrap()[0];
    assert_eq!(
        pair.sign(v.base.as_bytes()).as_ref(),
        sig.signature.as_slice()
    );
    // The covered headers changed: the base changes and no longer verifies.
    let mut v2 = vector("b-2-6.txt");
    v2.headers
        .insert("content-length", HeaderValue::from_static("19"));
    let base = sig.base(&target(&v2)).unwrap();
    assert!(public_key("test-key-ed25519")
        .verify_with(Algorithm::Ed25519, base.as_bytes(), &sig.signature)
        .is_err());
}

#[test]
fn response_example_verifies_but_responses_are_not_read() {
    // B.2.4 signs a response (`@status`), which the hub never verifies:
    // its fields are refused by name. Its ECDSA P-256 signature over the
    // published base verifies with the published key.
    let text = std::fs::read_to_string(format!("{DIR}/b-2-4.txt")).unwrap();
    let (input, signature) = (
        section(&text, "signature-input").trim(),
        section(&text, "signature").trim(),
    );
    assert_eq!(
        parse_fields(input, signature),
        Err(SignatureError::Component("\"@status\"".into()))
    );
    let bytes = B64
        .decode(signature.split_once("=:").unwrap().1.trim_end_matches(':'))
        .unwrap();
    let key = public_key("test-key-ecc-p256");
    assert_eq!(key.default_algorithm(), Algorithm::EcdsaP256Sha256);
    let base = section(&text, "base");
    key.verify_with(Algorithm::EcdsaP256Sha256, base.as_bytes(), &bytes)
        .unwrap();
    assert_eq!(
        key.verify_with(Algorithm::EcdsaP256Sha256, b"another base", &bytes),
        Err(SignatureError::Invalid)
    );
}

#[test]
fn hmac_example_builds_its_base_but_no_public_key_verifies_it() {
    let v = vector("b-2-5.txt");
    let sig = &parse_fields(&v.input, &v.signature).unwrap()[0];
    assert_eq!(sig.base(&target(&v)).unwrap(), v.base);
    assert_eq!(sig.alg, None);
    for key in ["test-key-rsa", "test-key-rsa-pss", "test-key-ed25519"] {
        assert!(sig.verify(&v.base, &public_key(key)).is_err(), "{key}");
    }
    // Named explicitly, HMAC is an algorithm the hub does not take.
    assert_eq!(
        parse_fields(
            &v.input.replace(";keyid", ";alg=\"hmac-sha256\";keyid"),
            &v.signature
        ),
        Err(SignatureError::Algorithm("hmac-sha256".into()))
    );
}

fn instance_keys() -> InstanceKeys {
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
    max_skew: Duration::from_secs(300),
};

/// Signs a POST as the hub does and verifies it as the inbox does.
fn round_trip(
    keys: &InstanceKeys,
    alg: Algorithm,
    signed_url: &str,
    received_path: &str,
    signed_body: &[u8],
    received_body: &[u8],
    now: SystemTime,
) -> Result<(), SignatureError> {
    let url = url::Url::parse(signed_url).unwrap();
    let headers = headers_of(
        &sign(
            keys,
            "https://hub/actors/a#k",
            alg,
            "POST",
            &url,
            Some(signed_body),
            now,
        )
        .unwrap(),
    );
    let key = match alg {
        Algorithm::Ed25519 => PublicKey::parse(&keys.ed25519_multibase()).unwrap(),
        _ => PublicKey::parse(keys.rsa_public_pem()).unwrap(),
    };
    let t = Target {
        method: "POST",
        scheme: "https",
        authority: "hub.example",
        path_and_query: received_path,
        headers: &headers,
    };
    let (sig, base) = select(parse(&headers)?, &t, received_body, &REQ, SystemTime::now())?;
    sig.verify(&base, &key)
}

#[test]
fn the_hubs_signatures_verify_and_tampering_is_refused() {
    let keys = instance_keys();
    let url = "https://hub.example/actors/blog/inbox";
    let now = SystemTime::now();
    for alg in [Algorithm::Ed25519, Algorithm::RsaV15Sha256] {
        let body = br#"{"type":"Follow"}"#;
        round_trip(&keys, alg, url, "/actors/blog/inbox", body, body, now).unwrap();
        // The body, the path, the time.
        assert_eq!(
            round_trip(&keys, alg, url, "/actors/blog/inbox", body, b"{}", now),
            Err(SignatureError::ContentDigestMismatch)
        );
        assert_eq!(
            round_trip(&keys, alg, url, "/inbox", body, body, now),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            round_trip(
                &keys,
                alg,
                "https://other.example/actors/blog/inbox",
                "/actors/blog/inbox",
                body,
                body,
                now
            ),
            Err(SignatureError::Invalid)
        );
        assert!(matches!(
            round_trip(&keys, alg, url, "/actors/blog/inbox", body, body, now - Duration::from_secs(600)),
            Err(SignatureError::Skew(s)) if s < -500
        ));
    }
    // Another instance's key.
    let url = url::Url::parse(url).unwrap();
    let headers = headers_of(
        &sign(
            &keys,
            "k",
            Algorithm::Ed25519,
            "POST",
            &url,
            Some(b"x"),
            now,
        )
        .unwrap(),
    );
    let sig = parse(&headers).unwrap().remove(0);
    let t = Target {
        method: "POST",
        scheme: "https",
        authority: "hub.example",
        path_and_query: "/actors/blog/inbox",
        headers: &headers,
    };
    let base = sig.base(&t).unwrap();
    let stranger = PublicKey::parse(&instance_keys().ed25519_multibase()).unwrap();
    assert_eq!(sig.verify(&base, &stranger), Err(SignatureError::Invalid));
    // alg says Ed25519; an RSA key cannot verify it.
    let rsa = PublicKey::parse(keys.rsa_public_pem()).unwrap();
    assert!(matches!(
        sig.verify(&base, &rsa),
        Err(SignatureError::KeyMismatch { .. })
    ));
}

fn input(value: &str) -> Result<MessageSignature, SignatureError> {
    parse_fields(value, "sig1=:AAAA:").map(|mut v| v.remove(0))
}

#[test]
fn coverage_time_and_keyid_are_required() {
    let now = SystemTime::now();
    let t = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = b"x";
    let headers = headers_of(&[("content-digest", content_digest_header(body))]);
    let check = |fields: &str| {
        input(&format!("sig1={fields}"))
            .unwrap()
            .check(&headers, body, &REQ, now)
    };
    let ok = format!("(\"@method\" \"@target-uri\" \"content-digest\");created={t};keyid=\"k\"");
    check(&ok).unwrap();
    check(&format!(
        "(\"@method\" \"@authority\" \"@path\" \"content-digest\");created={t};keyid=\"k\""
    ))
    .unwrap();
    check(&format!(
        "(\"@method\" \"host\" \"@request-target\" \"content-digest\");created={t};keyid=\"k\""
    ))
    .unwrap();
    for (fields, err) in [
        (format!("(\"@target-uri\" \"content-digest\");created={t};keyid=\"k\""), SignatureError::UncoveredComponent("@method")),
        (format!("(\"@method\" \"@path\" \"content-digest\");created={t};keyid=\"k\""), SignatureError::UncoveredComponent("the target (@target-uri, or @authority and @path)")),
        (format!("(\"@method\" \"@target-uri\");created={t};keyid=\"k\""), SignatureError::UncoveredComponent("content-digest")),
        ("(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\"".to_string(), SignatureError::NoCreated),
        (format!("(\"@method\" \"@target-uri\" \"content-digest\");created={t}"), SignatureError::NoKeyId),
        (format!("(\"@method\" \"@target-uri\" \"content-digest\");created={t};expires={};keyid=\"k\"", t - 1), SignatureError::Expired),
        (format!("(\"@method\" \"@target-uri\" \"content-digest\");created={};keyid=\"k\"", -999_999_999_999_999i64), SignatureError::Skew(0)),
    ] {
        let got = check(&fields);
        match (&got, &err) {
            (Err(SignatureError::Skew(_)), SignatureError::Skew(_)) => {}
            _ => assert_eq!(got, Err(err), "{fields}"),
        }
    }
}

#[test]
fn malformed_fields_are_refused_with_a_reason() {
    let many = (0..40)
        .map(|i| format!("\"x-h{i}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let labels = (0..9)
        .map(|i| format!("s{i}=()"))
        .collect::<Vec<_>>()
        .join(", ");
    let params = (0..20).map(|i| format!(";p{i}=1")).collect::<String>();
    let long = format!("sig1=(\"{}\")", "a".repeat(9000));
    for (fields, expected) in [
        ("sig1=(\"@method\"), sig1=(\"@path\")", "appears twice"),
        ("sig1=(\"@method\" \"@method\")", "covered twice"),
        (&format!("sig1=({many})") as &str, "more than 32 components"),
        (&labels, "more than 8 signatures"),
        (&format!("sig1=(){params}"), "more than 16 parameters"),
        (&long, "longer than 8192"),
        ("sig1=\"@method\"", "not a list of components"),
        ("sig1=(@method)", "malformed"),
        ("sig1=(1 2)", "not a string"),
        ("sig1=();created=\"now\"", "not an integer"),
        ("sig1=();keyid=5", "not a string"),
        ("", "no signature is described"),
        ("((((", "malformed"),
    ] {
        let got = input(fields);
        let message = got
            .as_ref()
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains(expected),
            "{fields:.60}: expected '{expected}', got {got:?}"
        );
    }
    for (fields, expected) in [
        ("sig1=(\"@status\")", "\"@status\""),
        ("sig1=(\"@foo\")", "\"@foo\""),
        ("sig1=(\"Date\")", "\"Date\""),
        ("sig1=(\"@query-param\")", "\"@query-param\""),
        ("sig1=(\"date\";sf)", ";sf"),
        ("sig1=(\"date\";key=\"a\")", ";key"),
        ("sig1=(\"@method\";bs)", ";bs"),
    ] {
        assert!(
            matches!(input(fields), Err(SignatureError::Component(ref m)) if m.contains(expected)),
            "{fields}: {:?}",
            input(fields)
        );
    }
    assert!(matches!(
        input("sig1=();alg=\"rsa-sha1\""),
        Err(SignatureError::Algorithm(_))
    ));
    // A Signature without the label, or not a byte sequence.
    assert!(matches!(
        parse_fields("sig1=()", "sig2=:AAAA:"),
        Err(SignatureError::Malformed(_))
    ));
    assert!(matches!(
        parse_fields("sig1=()", "sig1=\"AAAA\""),
        Err(SignatureError::Malformed(_))
    ));
    assert!(matches!(
        parse_fields("sig1=()", "sig1=:!!:"),
        Err(SignatureError::Malformed(_))
    ));
    assert_eq!(parse_fields("sig1=()", ""), Err(SignatureError::Missing));
}

#[test]
fn a_missing_covered_header_is_named() {
    let headers = HeaderMap::new();
    let sig = input("sig1=(\"@method\" \"x-missing\")").unwrap();
    let t = Target {
        method: "POST",
        scheme: "https",
        authority: "h",
        path_and_query: "/",
        headers: &headers,
    };
    assert_eq!(
        sig.base(&t),
        Err(SignatureError::HeaderMissing("x-missing".into()))
    );
    // `name` is the encoded name; "a%20b" and "a+b" both decode to it.
    let sig = input("sig1=(\"@query-param\";name=\"a%20b\")").unwrap();
    let t = Target {
        path_and_query: "/?a%20b=c+d&a+b=%2B&ab=x",
        ..t
    };
    assert_eq!(
        sig.base(&t).unwrap(),
        "\"@query-param\";name=\"a%20b\": c%20d\n\"@query-param\";name=\"a%20b\": %2B\n\"@signature-params\": (\"@query-param\";name=\"a%20b\")"
    );
}
