//! The signed envelope (`docs/sexp.md` §6) as data: parsing and validating
//! `(signed :key-id … :algorithm … :created … [:expires …] :signature …
//! PAYLOAD)`, the signing input, and the envelope as sent.
//!
//! Pure: no keys, no clock, no RSA. Checking the signature, the key's owner
//! and the times is the verifier's job; this module guarantees it gets
//! well-typed parameters and the exact bytes that were signed.

use super::canonical::{write_canonical, CanonicalError};
use super::{write_string, Sexp};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::fmt::Write;

/// The head symbol of an envelope.
pub const SIGNED: &str = "signed";
/// The one algorithm §6 defines: RSASSA-PKCS1-v1_5 with SHA-256.
pub const RSA_SHA256: &str = "rsa-sha256";

/// A parsed envelope. `signature` is the base64 text as sent (checked to be
/// standard base64 with padding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub key_id: String,
    pub algorithm: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub signature: String,
    pub payload: Sexp,
}

/// Why a datum is not a valid envelope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a signed envelope: expected a list headed by `signed`")]
    NotEnvelope,
    #[error("the envelope has no payload: its last element must be the signed activity, a list")]
    MissingPayload,
    #[error("the envelope must end with exactly one payload datum, after its parameters")]
    ExtraDatum,
    /// The keyword's written form, e.g. `:nonce`.
    #[error("unknown envelope parameter {0}")]
    UnknownParameter(String),
    #[error("envelope parameter :{0} is given twice")]
    RepeatedParameter(&'static str),
    #[error("envelope parameter :{0} is missing")]
    MissingParameter(&'static str),
    #[error("envelope parameter :{param} must be {expected}")]
    WrongType {
        param: &'static str,
        expected: &'static str,
    },
    #[error("envelope :signature is not standard base64 with padding")]
    BadSignatureEncoding,
}

impl Envelope {
    /// Whether `datum` claims to be an envelope (a list headed by `signed`);
    /// [`Envelope::from_sexp`] says whether it is a valid one.
    pub fn is_envelope(datum: &Sexp) -> bool {
        datum.head() == Some(SIGNED)
    }

    /// Parses and validates an envelope: the four required parameters with
    /// their types, `:expires` optional, no other or repeated parameter, and
    /// exactly one payload, a list, last.
    pub fn from_sexp(datum: Sexp) -> Result<Envelope, EnvelopeError> {
        if !Envelope::is_envelope(&datum) {
            return Err(EnvelopeError::NotEnvelope);
        }
        let Sexp::List(mut items) = datum else {
            return Err(EnvelopeError::NotEnvelope);
        };
        // A last element that is not a list is most often the value of a
        // parameter, or a parameter without a value: either way, the
        // payload is missing.
        let payload = match items.pop() {
            Some(payload @ Sexp::List(_)) => payload,
            _ => return Err(EnvelopeError::MissingPayload),
        };
        let mut key_id = None;
        let mut algorithm = None;
        let mut created = None;
        let mut expires = None;
        let mut signature = None;
        let mut params = items.into_iter().skip(1);
        while let Some(name) = params.next() {
            let Sexp::Keyword(name) = name else {
                return Err(EnvelopeError::ExtraDatum);
            };
            let Some(value) = params.next() else {
                return Err(EnvelopeError::MissingPayload);
            };
            match name.as_str() {
                "key-id" => set(&mut key_id, "key-id", value, string)?,
                "algorithm" => set(&mut algorithm, "algorithm", value, string)?,
                "created" => set(&mut created, "created", value, integer)?,
                "expires" => set(&mut expires, "expires", value, integer)?,
                "signature" => set(&mut signature, "signature", value, string)?,
                _ => {
                    return Err(EnvelopeError::UnknownParameter(
                        Sexp::Keyword(name).to_string(),
                    ))
                }
            }
        }
        let signature = signature.ok_or(EnvelopeError::MissingParameter("signature"))?;
        if STANDARD.decode(&signature).is_err() {
            return Err(EnvelopeError::BadSignatureEncoding);
        }
        Ok(Envelope {
            key_id: key_id.ok_or(EnvelopeError::MissingParameter("key-id"))?,
            algorithm: algorithm.ok_or(EnvelopeError::MissingParameter("algorithm"))?,
            created: created.ok_or(EnvelopeError::MissingParameter("created"))?,
            expires,
            signature,
            payload,
        })
    }

    /// The bytes that are signed: the canonical text of `(signed :algorithm
    /// A :created C [:expires E] :key-id K PAYLOAD)`. That list is never a
    /// property list (the payload makes its tail odd), so its order is the
    /// one written here, and it is written directly rather than built as a
    /// [`Sexp`], which would copy the payload.
    pub fn signing_input(
        key_id: &str,
        algorithm: &str,
        created: i64,
        expires: Option<i64>,
        payload: &Sexp,
    ) -> Result<String, CanonicalError> {
        let mut out = String::from("(signed :algorithm ");
        write_string(&mut out, algorithm);
        // Writing to a String cannot fail.
        let _ = write!(out, " :created {created}");
        if let Some(expires) = expires {
            let _ = write!(out, " :expires {expires}");
        }
        out.push_str(" :key-id ");
        write_string(&mut out, key_id);
        out.push(' ');
        write_canonical(&mut out, payload)?;
        out.push(')');
        Ok(out)
    }

    /// The envelope as sent: `(signed :key-id … :algorithm … :created …
    /// [:expires …] :signature … PAYLOAD)`.
    pub fn to_sexp(&self) -> Sexp {
        let mut items = vec![
            Sexp::Symbol(SIGNED.into()),
            Sexp::Keyword("key-id".into()),
            Sexp::String(self.key_id.clone()),
            Sexp::Keyword("algorithm".into()),
            Sexp::String(self.algorithm.clone()),
            Sexp::Keyword("created".into()),
            Sexp::Integer(self.created),
        ];
        if let Some(expires) = self.expires {
            items.push(Sexp::Keyword("expires".into()));
            items.push(Sexp::Integer(expires));
        }
        items.push(Sexp::Keyword("signature".into()));
        items.push(Sexp::String(self.signature.clone()));
        items.push(self.payload.clone());
        Sexp::List(items)
    }
}

/// Fills a parameter's slot: a repeat is reported before the value's type.
fn set<T>(
    slot: &mut Option<T>,
    param: &'static str,
    value: Sexp,
    convert: fn(&'static str, Sexp) -> Result<T, EnvelopeError>,
) -> Result<(), EnvelopeError> {
    if slot.is_some() {
        return Err(EnvelopeError::RepeatedParameter(param));
    }
    *slot = Some(convert(param, value)?);
    Ok(())
}

fn string(param: &'static str, value: Sexp) -> Result<String, EnvelopeError> {
    match value {
        Sexp::String(s) => Ok(s),
        _ => Err(EnvelopeError::WrongType {
            param,
            expected: "a string",
        }),
    }
}

fn integer(param: &'static str, value: Sexp) -> Result<i64, EnvelopeError> {
    match value {
        Sexp::Integer(n) => Ok(n),
        _ => Err(EnvelopeError::WrongType {
            param,
            expected: "an integer",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::sexp::{canonical, pretty, read, Limits};
    use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::sha2::Sha256;
    use rsa::signature::{SignatureEncoding, Signer, Verifier};

    fn datum(text: &str) -> Sexp {
        read(text.as_bytes(), &Limits::default()).unwrap()
    }

    fn envelope(text: &str) -> Result<Envelope, EnvelopeError> {
        Envelope::from_sexp(datum(text))
    }

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        envelope: String,
        signing_input: String,
        signature: String,
    }

    #[test]
    fn committed_vectors() {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(include_str!(
            "../../../docs/sexp-vectors/test-key.pem"
        ))
        .unwrap();
        let signer = SigningKey::<Sha256>::new(key.clone());
        let verifier = VerifyingKey::<Sha256>::new(key.to_public_key());
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../../docs/sexp-vectors/signatures.json"))
                .unwrap();
        assert_eq!(vectors.cases.len(), 5);
        let mut with_expires = 0;
        for case in &vectors.cases {
            let name = &case.name;
            let e = envelope(&case.envelope).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(e.signature, case.signature, "{name}");
            assert_eq!(e.algorithm, RSA_SHA256, "{name}");
            with_expires += usize::from(e.expires.is_some());
            let input =
                Envelope::signing_input(&e.key_id, &e.algorithm, e.created, e.expires, &e.payload)
                    .unwrap();
            assert_eq!(input, case.signing_input, "{name}");

            let signature =
                Signature::try_from(STANDARD.decode(&e.signature).unwrap().as_slice()).unwrap();
            verifier
                .verify(input.as_bytes(), &signature)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            // PKCS#1 v1.5 is deterministic: signing again gives the vector.
            let again = signer.sign(input.as_bytes());
            assert_eq!(STANDARD.encode(again.to_bytes()), case.signature, "{name}");

            // The envelope as sent reads back to the same envelope, in any
            // layout, and a changed payload no longer verifies.
            let sent = e.to_sexp();
            assert_eq!(
                Envelope::from_sexp(datum(&pretty(&sent))).unwrap(),
                e,
                "{name}"
            );
            assert_eq!(
                Envelope::from_sexp(datum(&sent.to_string())).unwrap(),
                e,
                "{name}"
            );
            let tampered = input.replacen(
                "https://a.example/actors/blog\"",
                "https://a.example/actors/blob\"",
                1,
            );
            assert_ne!(tampered, input, "{name}");
            assert!(
                verifier.verify(tampered.as_bytes(), &signature).is_err(),
                "{name}"
            );
        }
        assert_eq!(with_expires, 1);
    }

    const PAYLOAD: &str = r#"(Follow :id "https://a.example/f" :actor "https://a.example/a" :object "https://b.example/b")"#;

    fn with_params(params: &str) -> String {
        format!("(signed {params} {PAYLOAD})")
    }

    const GOOD: &str = r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AAAA""#;

    #[test]
    fn parses_parameters_in_any_order() {
        let e = envelope(&with_params(
            r#":signature "c2ln" :expires -5 :created 1700000000 :algorithm "x-future" :key-id "https://a.example/k""#,
        ))
        .unwrap();
        assert_eq!(
            e,
            Envelope {
                key_id: "https://a.example/k".into(),
                algorithm: "x-future".into(),
                created: 1_700_000_000,
                expires: Some(-5),
                signature: "c2ln".into(),
                payload: datum(PAYLOAD),
            }
        );
        assert!(Envelope::is_envelope(&datum(&with_params(GOOD))));
        assert!(Envelope::is_envelope(&datum("(signed)")));
        assert!(!Envelope::is_envelope(&datum(PAYLOAD)));
        assert!(!Envelope::is_envelope(&datum("signed")));
        assert!(!Envelope::is_envelope(&datum(r#"("signed")"#)));
    }

    #[test]
    fn refuses_what_section_6_refuses() {
        use EnvelopeError as E;
        let wrong = |param, expected| E::WrongType { param, expected };
        let cases: Vec<(String, EnvelopeError)> = vec![
            (PAYLOAD.into(), E::NotEnvelope),
            ("signed".into(), E::NotEnvelope),
            ("(signed)".into(), E::MissingPayload),
            (format!("(signed {GOOD})"), E::MissingPayload),
            (format!("(signed {GOOD} :expires)"), E::MissingPayload),
            (
                format!("(signed {GOOD} :expires {PAYLOAD})"),
                E::MissingPayload,
            ),
            (format!("(signed {GOOD} \"text\")"), E::MissingPayload),
            (
                format!("(signed {GOOD} {PAYLOAD} {PAYLOAD})"),
                E::ExtraDatum,
            ),
            (
                format!("(signed {PAYLOAD} {GOOD} {PAYLOAD})"),
                E::ExtraDatum,
            ),
            (format!("(signed {GOOD} 7 {PAYLOAD})"), E::ExtraDatum),
            (
                with_params(&format!("{GOOD} :nonce \"n\"")),
                E::UnknownParameter(":nonce".into()),
            ),
            (
                with_params(&format!("{GOOD} :\"odd key\" 1")),
                E::UnknownParameter(":\"odd key\"".into()),
            ),
            (
                with_params(&format!("{GOOD} :created 2")),
                E::RepeatedParameter("created"),
            ),
            (
                with_params(&format!("{GOOD} :key-id 2")),
                E::RepeatedParameter("key-id"),
            ),
            (
                with_params(&format!("{GOOD} :expires 2 :expires 3")),
                E::RepeatedParameter("expires"),
            ),
            (
                with_params(r#":algorithm "rsa-sha256" :created 1 :signature "AAAA""#),
                E::MissingParameter("key-id"),
            ),
            (
                with_params(r#":key-id "k" :created 1 :signature "AAAA""#),
                E::MissingParameter("algorithm"),
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :signature "AAAA""#),
                E::MissingParameter("created"),
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :created 1"#),
                E::MissingParameter("signature"),
            ),
            (
                with_params(r#":key-id k :algorithm "rsa-sha256" :created 1 :signature "AAAA""#),
                wrong("key-id", "a string"),
            ),
            (
                with_params(r#":key-id "k" :algorithm :rsa :created 1 :signature "AAAA""#),
                wrong("algorithm", "a string"),
            ),
            (
                with_params(
                    r#":key-id "k" :algorithm "rsa-sha256" :created "1" :signature "AAAA""#,
                ),
                wrong("created", "an integer"),
            ),
            (
                with_params(
                    r#":key-id "k" :algorithm "rsa-sha256" :created 1.0 :signature "AAAA""#,
                ),
                wrong("created", "an integer"),
            ),
            (
                with_params(
                    r#":key-id "k" :algorithm "rsa-sha256" :created 99999999999999999999 :signature "AAAA""#,
                ),
                wrong("created", "an integer"),
            ),
            (
                with_params(&format!("{GOOD} :expires nil")),
                wrong("expires", "an integer"),
            ),
            (
                with_params(
                    r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature ("AAAA")"#,
                ),
                wrong("signature", "a string"),
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AAA""#),
                E::BadSignatureEncoding,
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AA-_""#),
                E::BadSignatureEncoding,
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AA=""#),
                E::BadSignatureEncoding,
            ),
            (
                with_params(r#":key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AB==""#),
                E::BadSignatureEncoding,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(envelope(&text), Err(expected), "{text}");
        }
        assert_eq!(
            EnvelopeError::WrongType {
                param: "created",
                expected: "an integer"
            }
            .to_string(),
            "envelope parameter :created must be an integer"
        );
    }

    #[test]
    fn signing_input_is_the_canonical_unsigned_envelope() {
        let payload = datum(r#"(Note :to ("x") :id "n" :content (p :b "1" "t"))"#);
        let input = Envelope::signing_input("k\"1", "rsa-sha256", -3, Some(9), &payload).unwrap();
        assert_eq!(
            input,
            r#"(signed :algorithm "rsa-sha256" :created -3 :expires 9 :key-id "k\"1" (Note :content (p :b "1" "t") :id "n" :to ("x")))"#
        );
        // The same bytes as the canonical form of that list built as a datum.
        let built = datum(&format!(
            r#"(signed :algorithm "rsa-sha256" :created -3 :expires 9 :key-id "k\"1" {payload})"#
        ));
        assert_eq!(canonical(&built).unwrap(), input);
        let no_expiry = Envelope::signing_input("k", "a", 0, None, &payload).unwrap();
        assert!(no_expiry.starts_with(r#"(signed :algorithm "a" :created 0 :key-id "k" (Note"#));
        // A payload without a canonical form cannot be signed.
        let repeated = datum(r#"(Note :id "a" :id "b")"#);
        assert!(Envelope::signing_input("k", "a", 0, None, &repeated).is_err());
    }

    #[test]
    fn to_sexp_writes_the_parameters_in_the_documented_order() {
        let e = envelope(&with_params(&format!("{GOOD} :expires 2"))).unwrap();
        assert_eq!(
            e.to_sexp().to_string(),
            format!(
                r#"(signed :key-id "k" :algorithm "rsa-sha256" :created 1 :expires 2 :signature "AAAA" {PAYLOAD})"#
            )
        );
        let e = Envelope { expires: None, ..e };
        assert_eq!(
            e.to_sexp().to_string(),
            format!(
                r#"(signed :key-id "k" :algorithm "rsa-sha256" :created 1 :signature "AAAA" {PAYLOAD})"#
            )
        );
    }
}
