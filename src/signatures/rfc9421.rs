//! RFC 9421 HTTP Message Signatures: `Signature-Input` names what a
//! signature covers (the "components") and with which parameters;
//! `Signature` carries the bytes, both keyed by a label. The signer and the
//! verifier each build the same *signature base* from the message (one
//! `"name": value` line per component, then `"@signature-params"`), and
//! the signature is over that text.
//!
//! What the hub accepts from peers, beyond the RFC's own rules:
//! - the asymmetric algorithms of [`Algorithm`] (no HMAC: the hub shares no
//!   secrets with peers); without `alg`, the key's own algorithm;
//! - a `keyid` (keys are fetched from actors, never agreed out of band)
//!   and a `created` within the allowed skew; an `expires` not past;
//! - coverage of `@method`, of the target (`@target-uri`, or `@authority`
//!   or `host` with `@path` or `@request-target`) and, with a body, of a
//!   `Content-Digest` that matches it;
//! - derived components of requests and plain header fields, without
//!   field parameters (`sf`, `bs`, `key`, `req`, `tr`), which no fediverse
//!   signer uses: one is refused by name rather than mis-verified;
//! - bounded input: at most [`MAX_LABELS`] signatures, [`MAX_COMPONENTS`]
//!   components and [`MAX_FIELD_BYTES`] per field.
//!
//! The target components (`@target-uri`, `@authority`, `@scheme`) are
//! built from the hub's own public URL, not from what the request says,
//! so a signature made for another server never verifies here.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::SystemTime;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sfv::visitor::{DictionaryVisitor, EntryVisitor, Ignored};
use sfv::{BareItem, FieldType, ListEntry};

use super::digest::{content_digest_header, verify_content_digest};
use super::{Algorithm, PublicKey, Requirements, SignatureError};
use crate::error::AppError;
use crate::keys::InstanceKeys;

/// Longest `Signature-Input` or `Signature` field read, in bytes.
pub const MAX_FIELD_BYTES: usize = 8192;
/// Most signatures (labels) one request may carry.
pub const MAX_LABELS: usize = 8;
/// Most components one signature may cover.
pub const MAX_COMPONENTS: usize = 32;
/// Most parameters one signature may have.
const MAX_PARAMETERS: usize = 16;

/// One covered component: a derived one (`@method`, …) or a header field,
/// lower-case; `@query-param` names its parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Component {
    pub name: String,
    pub query_param: Option<String>,
}

/// One signature of a request, as `Signature-Input` and `Signature`
/// describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    pub label: String,
    pub components: Vec<Component>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub key_id: Option<String>,
    pub alg: Option<Algorithm>,
    pub signature: Vec<u8>,
    /// The `@signature-params` value: the covered components and the
    /// parameters, serialized as RFC 8941 says.
    params: String,
}

/// The request a signature base is built from. The target's scheme and
/// authority are the hub's own (see the module docs).
pub struct Target<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    pub authority: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
}

/// Reads every signature of a request from its `Signature-Input` and
/// `Signature` fields (several field lines are joined, as RFC 9110 says).
pub fn parse(headers: &HeaderMap) -> Result<Vec<MessageSignature>, SignatureError> {
    let input = joined(headers, "signature-input")
        .ok_or_else(|| SignatureError::MalformedInput("not text".into()))?;
    let signature = joined(headers, "signature").ok_or(SignatureError::Missing)?;
    parse_fields(&input, &signature)
}

/// The field lines of `name`, joined with ", "; None when one is not text.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Option<Vec<&str>> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok())
        .collect();
    values.map(|v| v.join(", "))
}

/// As [`parse`], from the two field values.
pub fn parse_fields(input: &str, signature: &str) -> Result<Vec<MessageSignature>, SignatureError> {
    let malformed = |m: String| SignatureError::MalformedInput(m);
    if input.len() > MAX_FIELD_BYTES || signature.len() > MAX_FIELD_BYTES {
        return Err(malformed(format!("longer than {MAX_FIELD_BYTES} bytes")));
    }
    if signature.is_empty() {
        return Err(SignatureError::Missing);
    }
    // A dictionary keeps the last of repeated keys; a repeated label is
    // refused instead, since two readers could pair it differently.
    let labels = sfv::Parser::new(input)
        .parse_dictionary_with_visitor(Labels::default())
        .map_err(|e| malformed(e.to_string()))?;
    let mut seen = HashSet::new();
    for label in &labels {
        if !seen.insert(label.as_str()) {
            return Err(malformed(format!("label '{label}' appears twice")));
        }
    }
    if labels.is_empty() {
        return Err(malformed("no signature is described".into()));
    }
    if labels.len() > MAX_LABELS {
        return Err(malformed(format!("more than {MAX_LABELS} signatures")));
    }
    let inputs: sfv::Dictionary = sfv::Parser::new(input)
        .parse()
        .map_err(|e| malformed(e.to_string()))?;
    let signatures: sfv::Dictionary = sfv::Parser::new(signature)
        .parse()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    inputs
        .iter()
        .map(|(label, entry)| {
            let label = label.as_str();
            let ListEntry::InnerList(list) = entry else {
                return Err(malformed(format!("'{label}' is not a list of components")));
            };
            let bytes = match signatures.get(label) {
                Some(ListEntry::Item(item)) => item.bare_item.as_byte_sequence(),
                _ => None,
            }
            .ok_or_else(|| {
                SignatureError::Malformed(format!("no byte sequence for label '{label}'"))
            })?;
            read_signature(label, list, bytes.to_vec())
        })
        .collect()
}

/// Collects a dictionary's keys as written, repeats included.
#[derive(Default)]
struct Labels(Vec<String>);

impl<'de> DictionaryVisitor<'de> for Labels {
    type Out = Vec<String>;
    type Error = Infallible;

    fn entry(&mut self, key: &'de sfv::KeyRef) -> Result<impl EntryVisitor<'de>, Infallible> {
        self.0.push(key.as_str().to_string());
        Ok(Ignored)
    }

    fn finish(self) -> Result<Vec<String>, Infallible> {
        Ok(self.0)
    }
}

fn read_signature(
    label: &str,
    list: &sfv::InnerList,
    signature: Vec<u8>,
) -> Result<MessageSignature, SignatureError> {
    let malformed = |m: String| SignatureError::MalformedInput(format!("'{label}': {m}"));
    if list.items.len() > MAX_COMPONENTS {
        return Err(malformed(format!("more than {MAX_COMPONENTS} components")));
    }
    if list.params.len() > MAX_PARAMETERS {
        return Err(malformed(format!("more than {MAX_PARAMETERS} parameters")));
    }
    let mut components = Vec::with_capacity(list.items.len());
    let mut seen = HashSet::new();
    for item in &list.items {
        let component = read_component(item).map_err(|e| match e {
            SignatureError::MalformedInput(m) => malformed(m),
            other => other,
        })?;
        if !seen.insert(component.clone()) {
            return Err(malformed(format!("{} is covered twice", show(&component))));
        }
        components.push(component);
    }
    let mut sig = MessageSignature {
        label: label.to_string(),
        components,
        created: None,
        expires: None,
        key_id: None,
        alg: None,
        signature,
        params: String::new(),
    };
    for (name, value) in &list.params {
        let integer = || {
            value
                .as_integer()
                .map(i64::from)
                .ok_or_else(|| malformed(format!("{name} is not an integer")))
        };
        let string = || {
            value
                .as_string()
                .map(|s| s.as_str().to_string())
                .ok_or_else(|| malformed(format!("{name} is not a string")))
        };
        match name.as_str() {
            "created" => sig.created = Some(integer()?),
            "expires" => sig.expires = Some(integer()?),
            "keyid" => sig.key_id = Some(string()?),
            "alg" => sig.alg = Some(Algorithm::from_name(&string()?)?),
            // nonce, tag and future parameters: signed over, not acted on.
            _ => {}
        }
    }
    sig.params = vec![ListEntry::InnerList(list.clone())]
        .serialize()
        .ok_or_else(|| malformed("cannot be serialized".into()))?;
    Ok(sig)
}

/// The derived components of a request that the hub computes.
const DERIVED: [&str; 7] = [
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
];

fn read_component(item: &sfv::Item) -> Result<Component, SignatureError> {
    let BareItem::String(name) = &item.bare_item else {
        return Err(SignatureError::MalformedInput(
            "a component is not a string".into(),
        ));
    };
    let name = name.as_str();
    let shown = || name.chars().take(64).collect::<String>();
    let mut query_param = None;
    for (param, value) in &item.params {
        match (param.as_str(), value.as_string()) {
            ("name", Some(value)) if name == "@query-param" => {
                query_param = Some(value.as_str().to_string())
            }
            (param, _) => {
                return Err(SignatureError::Component(format!(
                    "\"{}\" with parameter ;{}",
                    shown(),
                    param
                )))
            }
        }
    }
    let known = if let Some(derived) = name.strip_prefix('@') {
        DERIVED.contains(&name) || (derived == "query-param" && query_param.is_some())
    } else {
        // A field name as HTTP allows it, lower-cased as RFC 9421 requires.
        !name.is_empty()
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            })
    };
    if !known {
        return Err(SignatureError::Component(format!("\"{}\"", shown())));
    }
    Ok(Component {
        name: name.to_string(),
        query_param,
    })
}

/// A component as Signature-Input writes it, for messages and the base.
fn show(c: &Component) -> String {
    match &c.query_param {
        Some(p) => format!("\"{}\";name={}", c.name, sf_string(p)),
        None => format!("\"{}\"", c.name),
    }
}

/// An RFC 8941 string: quoted, with `\` and `"` escaped.
fn sf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl MessageSignature {
    /// The `@signature-params` value: what `Signature-Input` gave for this
    /// label, serialized again.
    pub fn params(&self) -> &str {
        &self.params
    }

    fn covers(&self, name: &str) -> bool {
        self.components.iter().any(|c| c.name == name)
    }

    /// What the hub requires of an inbound signature, before any key is
    /// fetched: keyid, coverage, time window and the body's digest.
    pub fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        req: &Requirements,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        if self.key_id.is_none() {
            return Err(SignatureError::NoKeyId);
        }
        if !self.covers("@method") {
            return Err(SignatureError::UncoveredComponent("@method"));
        }
        let target = self.covers("@target-uri")
            || ((self.covers("@authority") || self.covers("host"))
                && (self.covers("@path") || self.covers("@request-target")));
        if !target {
            return Err(SignatureError::UncoveredComponent(
                "the target (@target-uri, or @authority and @path)",
            ));
        }
        if req.has_body && !self.covers("content-digest") {
            return Err(SignatureError::UncoveredComponent("content-digest"));
        }
        let now_s = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let created = self.created.ok_or(SignatureError::NoCreated)?;
        // Saturating: `created` is any i64 a peer wrote.
        let skew = created.saturating_sub(now_s);
        if skew.unsigned_abs() > req.max_skew.as_secs() {
            return Err(SignatureError::Skew(skew));
        }
        if self.expires.is_some_and(|e| e < now_s) {
            return Err(SignatureError::Expired);
        }
        if self.covers("content-digest") || req.has_body {
            verify_content_digest(headers, body)?;
        }
        Ok(())
    }

    /// The signature base (RFC 9421 §2.5) of `target` for this signature.
    pub fn base(&self, target: &Target) -> Result<String, SignatureError> {
        let mut base = String::with_capacity(512);
        for c in &self.components {
            for value in component_values(c, target)? {
                base.push_str(&show(c));
                base.push_str(": ");
                base.push_str(&value);
                base.push('\n');
            }
        }
        base.push_str("\"@signature-params\": ");
        base.push_str(&self.params);
        Ok(base)
    }

    /// Verifies the signature over `base` with `key`, by `alg` or else the
    /// key's own algorithm.
    pub fn verify(&self, base: &str, key: &PublicKey) -> Result<(), SignatureError> {
        let alg = self.alg.unwrap_or_else(|| key.default_algorithm());
        key.verify_with(alg, base.as_bytes(), &self.signature)
    }
}

/// The value(s) of one component: one, except `@query-param`, which gives
/// a line per occurrence.
fn component_values(c: &Component, t: &Target) -> Result<Vec<String>, SignatureError> {
    let (path, query) = match t.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (t.path_and_query, None),
    };
    let one = |v: String| Ok(vec![v]);
    match c.name.as_str() {
        "@method" => one(t.method.to_string()),
        "@target-uri" => one(format!(
            "{}://{}{}",
            t.scheme.to_ascii_lowercase(),
            t.authority.to_ascii_lowercase(),
            t.path_and_query
        )),
        "@authority" => one(t.authority.to_ascii_lowercase()),
        "@scheme" => one(t.scheme.to_ascii_lowercase()),
        "@request-target" => one(t.path_and_query.to_string()),
        "@path" => one(if path.is_empty() { "/" } else { path }.to_string()),
        "@query" => one(format!("?{}", query.unwrap_or(""))),
        "@query-param" => {
            let wanted = c.query_param.as_deref().unwrap_or_default();
            // `name` is the parameter's name as RFC 9421 §2.2.8 encodes
            // it; names and values are decoded and encoded again alike.
            let values: Vec<String> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .filter(|(name, _)| percent_encode(name) == wanted)
                .map(|(_, value)| percent_encode(&value))
                .collect();
            if values.is_empty() {
                return Err(SignatureError::HeaderMissing(format!(
                    "@query-param {wanted}"
                )));
            }
            Ok(values)
        }
        field => {
            let values: Vec<&str> = t
                .headers
                .get_all(field)
                .iter()
                .map(|v| v.to_str().map(str::trim))
                .collect::<Result<_, _>>()
                .map_err(|_| SignatureError::HeaderMissing(field.to_string()))?;
            if values.is_empty() {
                return Err(SignatureError::HeaderMissing(field.to_string()));
            }
            one(values.join(", "))
        }
    }
}

/// A query parameter's value re-encoded as RFC 9421 §2.2.8 says (the
/// `application/x-www-form-urlencoded` percent-encode set, spaces as
/// `%20`).
fn percent_encode(value: &str) -> String {
    // byte_serialize writes a space as '+' and a literal '+' as %2B, so
    // every '+' it writes was a space.
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Of a request's signatures, the first that passes [`MessageSignature::check`],
/// with its base for `target`; else why the first one failed.
pub fn select(
    signatures: Vec<MessageSignature>,
    target: &Target,
    body: &[u8],
    req: &Requirements,
    now: SystemTime,
) -> Result<(MessageSignature, String), SignatureError> {
    let mut first_error = None;
    for sig in signatures {
        match sig
            .check(target.headers, body, req, now)
            .and_then(|()| sig.base(target))
        {
            Ok(base) => return Ok((sig, base)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(SignatureError::Missing))
}

/// Headers that sign a request the hub sends, as RFC 9421: with a body
/// `Content-Digest` (sha-256), then `Signature-Input` and `Signature`
/// (label `sig1`) covering `@method`, `@target-uri` and the digest, with
/// `created`, `keyid` and `alg`. `alg` is Ed25519 or RSA PKCS#1 v1.5.
pub fn sign(
    keys: &InstanceKeys,
    key_id: &str,
    alg: Algorithm,
    method: &str,
    url: &url::Url,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, AppError> {
    let mut out = Vec::with_capacity(3);
    let mut headers = HeaderMap::new();
    let mut covered = String::from("(\"@method\" \"@target-uri\"");
    if let Some(body) = body {
        let digest = content_digest_header(body);
        headers.insert(
            "content-digest",
            digest.parse().map_err(AppError::internal)?,
        );
        covered.push_str(" \"content-digest\"");
        out.push(("content-digest", digest));
    }
    let created = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let params = format!(
        "{covered});created={created};keyid={};alg={}",
        sf_string(key_id),
        sf_string(alg.name())
    );
    let mut components = vec![
        Component {
            name: "@method".into(),
            query_param: None,
        },
        Component {
            name: "@target-uri".into(),
            query_param: None,
        },
    ];
    if body.is_some() {
        components.push(Component {
            name: "content-digest".into(),
            query_param: None,
        });
    }
    let sig = MessageSignature {
        label: "sig1".into(),
        components,
        created: Some(created as i64),
        expires: None,
        key_id: Some(key_id.to_string()),
        alg: Some(alg),
        signature: Vec::new(),
        params: params.clone(),
    };
    let path_and_query = crate::net::path_and_query(url);
    let authority = crate::net::authority(url);
    let base = sig
        .base(&Target {
            method,
            scheme: url.scheme(),
            authority: &authority,
            path_and_query: &path_and_query,
            headers: &headers,
        })
        .map_err(AppError::internal)?;
    let signature = match alg {
        Algorithm::Ed25519 => keys.sign_ed25519(base.as_bytes()),
        Algorithm::RsaV15Sha256 => keys.sign_rsa_sha256(base.as_bytes())?,
        Algorithm::RsaPssSha512 | Algorithm::EcdsaP256Sha256 => {
            return Err(AppError::internal(
                "the hub signs with Ed25519 or RSA PKCS#1 v1.5",
            ))
        }
    };
    out.push(("signature-input", format!("sig1={params}")));
    out.push(("signature", format!("sig1=:{}:", B64.encode(signature))));
    Ok(out)
}

#[cfg(test)]
mod tests;
