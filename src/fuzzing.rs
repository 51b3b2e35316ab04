//! The properties the fuzz targets in `fuzz/` check, one function per
//! target, taking the fuzzer's bytes. Not part of the hub's API (hidden
//! from the docs).
//!
//! They live in the library, not in `fuzz/`, for two reasons: the targets
//! there are one line each and `tests/fuzz_regressions.rs` replays the
//! committed inputs (`fuzz/regressions/<target>/`) through the very same
//! functions in a plain `cargo test`, without libFuzzer or a nightly
//! flag; and being inside the crate they reach parsers that need not be
//! public for anything else. A cargo feature would hide them from normal
//! builds, but then `cargo test --workspace` would need that feature to
//! replay anything; the module is small and does nothing until called.
//!
//! Each function panics when a property fails, which is what libFuzzer
//! and the test harness both report. Properties are stated in each
//! function's comments; "must not panic" holds throughout.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use url::Url;

use crate::config::{Config, HubArgs, Mode};
use crate::db::oauth::Client;
use crate::discovery::webfinger::{self, Target};
use crate::error::AppError;
use crate::formats::sexp::markup::{to_html, RenderLimits};
use crate::formats::sexp::{self, as2 as sexp_as2, canonical, pretty, Limits};
use crate::formats::{self, jsonld, DecodeLimits, Format};
use crate::oauth::clients::{self, Registration};
use crate::oauth::endpoints::{apps, authorize, register};
use crate::oauth::{grants, scopes};
use crate::signatures::cavage::Signature;
use crate::signatures::{self, rfc9421, Requirements};

/// A target's check: panics when a property fails.
pub type Check = fn(&[u8]);

/// The names of the targets, as `fuzz/Cargo.toml` lists them, with their
/// checks: what the regression test walks.
pub const TARGETS: [(&str, Check); 8] = [
    ("read", read),
    ("render", render),
    ("activity", activity),
    ("json_guard", json_guard),
    ("signature_header", signature_header),
    ("signature_input", signature_input),
    ("webfinger_resource", webfinger_resource),
    ("oauth_params", oauth_params),
];

// ---------------------------------------------------------------- sexp

/// The sexp reader (`docs/sexp.md` §1–2) with the default limits, and the
/// printers on everything it accepts: the canonical text, when there is
/// one, reads back to a datum with the same canonical text, and the pretty
/// text reads back to the very same datum.
pub fn read(data: &[u8]) {
    let Ok(datum) = sexp::read(data, &Limits::default()) else {
        return;
    };
    // Printed text may be longer than the input (a raw tab becomes `\t`,
    // pretty adds indentation), so it is read back without a size limit;
    // every other limit still holds, as the datum is the same.
    let reread = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    if let Ok(text) = canonical(&datum) {
        let again = sexp::read(text.as_bytes(), &reread)
            .unwrap_or_else(|e| panic!("canonical text does not read: {e}\n{text}"));
        assert_eq!(canonical(&again).as_ref(), Ok(&text));
    }
    let text = pretty(&datum);
    let again = sexp::read(text.as_bytes(), &reread)
        .unwrap_or_else(|e| panic!("pretty text does not read: {e}\n{text}"));
    assert_eq!(again, datum, "{text}");
}

/// The markup renderer (`docs/sexp.md` §5) on every datum the reader
/// accepts: whatever HTML it writes holds only allow-listed tags, `href`
/// and `rel` only on `a`, and only absolute http(s) or mailto links; and
/// it is deterministic (the AS2 mapping relies on that).
pub fn render(data: &[u8]) {
    let Ok(datum) = sexp::read(data, &Limits::default()) else {
        return;
    };
    if let Ok(html) = to_html(&datum, &RenderLimits::default()) {
        check_html(&html);
        assert_eq!(to_html(&datum, &RenderLimits::default()).ok(), Some(html));
    }
}

const TAGS: [&str; 24] = [
    "p",
    "br",
    "hr",
    "a",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "span",
];

/// A light scanner of rendered HTML, independent of the renderer's code.
fn check_html(html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        assert!(!rest[..open].contains('>'), "raw > in text of {html}");
        let tag = &rest[open + 1..];
        let end = tag
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html}"));
        let inside = &tag[..end];
        let name_end = inside.find(' ').unwrap_or(inside.len());
        let name = inside[..name_end].trim_start_matches('/');
        assert!(TAGS.contains(&name), "tag <{inside}> in {html}");
        let attrs = &inside[name_end..];
        if !attrs.is_empty() {
            assert_eq!(name, "a", "attributes on <{inside}>");
            let href = attrs
                .strip_prefix(" href=\"")
                .and_then(|a| a.strip_suffix("\" rel=\"nofollow noopener noreferrer\""))
                .unwrap_or_else(|| panic!("attributes of <{inside}>"));
            assert!(!href.contains('"') && !href.contains('<'), "{href}");
            // Schemes are case-insensitive; the renderer keeps the href as
            // written.
            let scheme = href.to_ascii_lowercase();
            assert!(
                scheme.starts_with("http://")
                    || scheme.starts_with("https://")
                    || scheme.starts_with("mailto:"),
                "href {href}"
            );
        }
        rest = &tag[end + 1..];
    }
    assert!(!rest.contains('>'), "raw > in text of {html}");
}

/// The sexp inbox decoder (`docs/sexp.md` §3, §8): reading, the envelope,
/// the head check and the mapping to the AS2 tree; a decoded tree maps
/// back to sexp and again to the very same tree.
pub fn activity(data: &[u8]) {
    let Ok((doc, _envelope)) = sexp_as2::decode_activity(data, &Limits::default()) else {
        return;
    };
    let datum = sexp_as2::from_json(&doc)
        .unwrap_or_else(|e| panic!("decoded tree does not map back: {e}\n{doc}"));
    let again = sexp_as2::to_json(&datum).unwrap_or_else(|e| panic!("{e}\n{datum}"));
    assert_eq!(again, doc);
}

// ----------------------------------------------------------- JSON-LD

/// The inbox's JSON-LD decoding ([`formats::decode`]): the nesting guard,
/// the NUL rule and the activity checks, on arbitrary bytes. The first
/// byte picks the depth limit (0–15, or the default 64), so the fuzzer
/// reaches both sides of the guard with small inputs.
///
/// - The guard agrees with a real parse: on any body serde_json reads,
///   [`jsonld::depth_exceeds`] is true exactly when the tree nests deeper
///   than the limit.
/// - The body is accepted exactly when it is a JSON object, within the
///   limit and without a NUL in any string or key (what PostgreSQL cannot
///   store), and then it is valid UTF-8 (the inbox stores it as text).
/// - An accepted activity has bounded http(s) ids, and its tree re-encodes
///   to bytes that decode to the same activity; when the tree maps to sexp
///   (as our outbox sends it), that maps back to the same tree.
pub fn json_guard(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let max = if first & 0x80 != 0 {
        64
    } else {
        usize::from(first & 0x0f)
    };
    let reference: Option<Value> = serde_json::from_slice(body).ok();
    // The depth as written, not of the tree: a repeated key keeps only its
    // last value in the tree, and the guard rightly counts the others too.
    let written = serde_json::from_slice::<WrittenDepth>(body)
        .ok()
        .map(|d| d.0);
    if let Some(written) = written {
        assert_eq!(
            jsonld::depth_exceeds(body, max),
            written > max,
            "guard and parse disagree on the depth (limit {max})"
        );
    }
    let acceptable = reference
        .as_ref()
        .filter(|t| t.is_object() && written.is_some_and(|d| d <= max) && !has_nul(t));
    let decoded = jsonld::decode(body, max);
    match (&decoded, acceptable) {
        (Ok(doc), Some(tree)) => {
            assert_eq!(doc, tree);
            assert!(std::str::from_utf8(body).is_ok(), "accepted non-UTF-8");
        }
        (Err(_), None) => {}
        (Ok(doc), None) => panic!("accepted {doc}"),
        (Err(e), Some(tree)) => panic!("refused ({e}) {tree}"),
    }

    let limits = DecodeLimits {
        max_json_depth: max,
        sexp: Limits::default(),
    };
    let Ok(received) = formats::decode(Format::JsonLd, body, &limits) else {
        return;
    };
    let activity = received.activity;
    assert_eq!(decoded.ok().as_ref(), Some(&activity.doc));
    for id in [&activity.id, &activity.actor] {
        assert!(formats::as2::check_id(id).is_ok(), "{id}");
    }
    assert_eq!(activity.doc["type"].as_str(), Some(activity.kind.as_str()));
    let bytes = jsonld::encode(&activity.doc);
    let again = formats::decode(Format::JsonLd, &bytes, &limits)
        .unwrap_or_else(|e| panic!("re-encoded activity does not decode: {e}\n{}", activity.doc));
    assert_eq!(again.activity, activity);
    if let Ok(datum) = sexp_as2::from_json(&activity.doc) {
        assert_eq!(sexp_as2::to_json(&datum).as_ref(), Ok(&activity.doc));
    }
}

/// How deeply arrays and objects nest in a JSON text (a scalar is 0),
/// counting every member as written, repeated keys included.
struct WrittenDepth(usize);

impl<'de> serde::Deserialize<'de> for WrittenDepth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WrittenDepthVisitor).map(WrittenDepth)
    }
}

struct WrittenDepthVisitor;

impl<'de> serde::de::Visitor<'de> for WrittenDepthVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut deepest = 0;
        while let Some(WrittenDepth(d)) = seq.next_element()? {
            deepest = deepest.max(d);
        }
        Ok(deepest + 1)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut deepest = 0;
        while let Some((serde::de::IgnoredAny, WrittenDepth(d))) = map.next_entry()? {
            deepest = deepest.max(d);
        }
        Ok(deepest + 1)
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

// -------------------------------------------------- HTTP signatures

/// A fixed "now" when the input gives no usable Date: 2026-01-01.
const NOW: u64 = 1_767_225_600;

/// The `Signature` header parser and the checks after it. The input's
/// first line is the header; the second and third, if any, the `Date` and
/// `Digest` headers; the rest the body. "Now" is the Date when it parses,
/// so the fuzzer can get past the time window.
///
/// - A parsed header round-trips: written back (quoting every value that
///   can be quoted) it parses to the same [`Signature`]; header names are
///   lower-case, non-empty and without whitespace.
/// - [`signatures::cavage::check_request`] and [`signatures::cavage::signing_string`] run
///   on whatever parsed, and a signing string has one `name: value` line
///   per covered header, in order.
pub fn signature_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let header = parts.next().unwrap_or_default();
    let date = parts.next();
    let digest = parts.next();
    let body = parts.next().unwrap_or_default().as_bytes();
    let Ok(sig) = Signature::parse(header) else {
        return;
    };
    let written = header_of(&sig);
    assert_eq!(
        Signature::parse(&written).as_ref(),
        Ok(&sig),
        "written back as {written}"
    );
    for name in &sig.headers {
        assert!(!name.is_empty() && !name.contains(char::is_whitespace));
        assert_eq!(name, &name.to_ascii_lowercase());
    }
    if let Some(alg) = &sig.algorithm {
        assert_eq!(alg, &alg.to_ascii_lowercase());
    }

    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("coop.example"));
    for (name, value) in [("date", date), ("digest", digest)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, v);
        }
    }
    let now = date
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
    for has_body in [true, false] {
        let req = Requirements {
            has_body,
            max_skew: Duration::from_secs(3600),
        };
        let _ = signatures::cavage::check_request(&sig, &headers, body, &req, now);
    }
    if let Ok(s) = signatures::cavage::signing_string("POST", "/inbox", &headers, &sig) {
        if sig.headers.is_empty() {
            assert_eq!(s, "");
        } else {
            let lines: Vec<&str> = s.split('\n').collect();
            assert_eq!(lines.len(), sig.headers.len(), "{s}");
            for (line, name) in lines.iter().zip(&sig.headers) {
                assert!(line.starts_with(&format!("{name}: ")), "{s}");
            }
        }
    }
}

/// RFC 9421's fields ([`rfc9421::parse_fields`]) and what runs after
/// them, and the public-key reader. The first line is `Signature-Input`,
/// the second `Signature`, the third `Content-Digest`, the rest the body;
/// the whole input is also read as a public key.
///
/// - Whatever parses is within the limits: at most [`rfc9421::MAX_LABELS`]
///   signatures with distinct labels, at most
///   [`rfc9421::MAX_COMPONENTS`] distinct components each.
/// - Its `@signature-params` text parses again to the same signature: the
///   base the hub builds is over what the peer described.
/// - `check` and `base` run on it, and a base has a line per component
///   (at least) and ends with the `@signature-params` line.
/// - [`signatures::PublicKey::parse`] never panics.
pub fn signature_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = signatures::PublicKey::parse(text);
    let mut parts = text.splitn(4, '\n');
    let input = parts.next().unwrap_or_default();
    let signature = parts.next().unwrap_or_default();
    let digest = parts.next();
    let body = parts.next().unwrap_or_default().as_bytes();
    let Ok(sigs) = rfc9421::parse_fields(input, signature) else {
        return;
    };
    assert!(!sigs.is_empty() && sigs.len() <= rfc9421::MAX_LABELS);
    let mut labels = std::collections::HashSet::new();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("coop.example"));
    headers.insert(
        "date",
        HeaderValue::from_static("Thu, 01 Jan 2026 00:00:00 GMT"),
    );
    if let Some(v) = digest.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert("content-digest", v);
    }
    let target = rfc9421::Target {
        method: "POST",
        scheme: "https",
        authority: "coop.example",
        path_and_query: "/inbox?a=1&b=%20",
        headers: &headers,
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    for sig in &sigs {
        assert!(
            labels.insert(sig.label.clone()),
            "label {} twice",
            sig.label
        );
        assert!(sig.components.len() <= rfc9421::MAX_COMPONENTS);
        let again = rfc9421::parse_fields(
            &format!("{}={}", sig.label, sig.params()),
            &format!("{}=:{}:", sig.label, B64.encode(&sig.signature)),
        )
        .unwrap_or_else(|e| panic!("{} does not parse again: {e}", sig.params()));
        assert_eq!(again.as_slice(), std::slice::from_ref(sig));
        for has_body in [true, false] {
            let req = Requirements {
                has_body,
                max_skew: Duration::from_secs(3600),
            };
            let _ = sig.check(&headers, body, &req, now);
        }
        if let Ok(base) = sig.base(&target) {
            assert!(
                base.ends_with(&format!("\"@signature-params\": {}", sig.params())),
                "{base}"
            );
            assert!(base.lines().count() > sig.components.len(), "{base}");
        }
    }
}

/// A `Signature` header with these fields. A value is quoted unless it
/// holds a `"` (then it came unquoted, so it has no `,` and no outer
/// whitespace, and is written the same way).
fn header_of(sig: &Signature) -> String {
    let value = |v: &str| {
        if v.contains('"') {
            v.to_string()
        } else {
            format!("\"{v}\"")
        }
    };
    let mut out = format!(
        "keyId={},headers={},signature=\"{}\"",
        value(&sig.key_id),
        value(&sig.headers.join(" ")),
        B64.encode(&sig.signature)
    );
    if let Some(alg) = &sig.algorithm {
        out.push_str(&format!(",algorithm={}", value(alg)));
    }
    if let Some(c) = sig.created {
        out.push_str(&format!(",created={c}"));
    }
    if let Some(e) = sig.expires {
        out.push_str(&format!(",expires={e}"));
    }
    out
}

// ---------------------------------------------------------- WebFinger

/// Two hubs: a production one on the default port and a development one
/// on an explicit port, so `acct:` hosts with and without ports are tried.
fn hubs() -> &'static [Config; 2] {
    static HUBS: OnceLock<[Config; 2]> = OnceLock::new();
    HUBS.get_or_init(|| {
        let hub = |url: &str| {
            Config::from_args(&HubArgs::with_public_url(url))
                .unwrap_or_else(|e| panic!("{url}: {e}"))
        };
        [hub("https://coop.example"), hub("http://127.0.0.1:8080")]
    })
}

/// The WebFinger query parser and the `resource` resolver. The input is a
/// raw query string; its text is also resolved as a resource by itself.
///
/// - An accepted query has exactly one non-blank `resource` of at most
///   1,024 bytes.
/// - Resolving answers a target, 400 or 404, nothing else; a target is
///   what its canonical names (`acct:NAME@AUTHORITY`, its actor id, its
///   profile URL) resolve to as well.
/// - The scheme's case does not matter (RFC 3986 §3.1, RFC 7565).
pub fn webfinger_resource(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = webfinger::parse_query(Some(text));
    let mut resources = vec![text.to_string()];
    if let Ok((resource, _rels)) = &parsed {
        assert!(!resource.trim().is_empty() && resource.len() <= 1024);
        resources.push(resource.clone());
    }
    for config in hubs() {
        for resource in &resources {
            let target = webfinger::resolve(config, resource);
            match &target {
                Ok(Target::App(name)) => {
                    for canonical in [
                        format!("acct:{name}@{}", config.authority()),
                        config.actor_id(name),
                        config.url(&format!("/@{name}")),
                    ] {
                        assert_eq!(
                            webfinger::resolve(config, &canonical).ok().as_ref(),
                            Some(&Target::App(name.clone())),
                            "{canonical}"
                        );
                    }
                }
                Ok(Target::Instance) => {
                    for canonical in [
                        format!("acct:{}@{}", config.domain(), config.authority()),
                        config.instance_actor_id(),
                        config.url("/"),
                    ] {
                        assert_eq!(
                            webfinger::resolve(config, &canonical).ok(),
                            Some(Target::Instance),
                            "{canonical}"
                        );
                    }
                }
                Err(AppError::BadRequest(_) | AppError::NotFound(_)) => {}
                Err(e) => panic!("{resource}: {e:?}"),
            }
            let trimmed = resource.trim();
            if let Some((scheme, rest)) = trimmed.split_once(':') {
                let lower = format!("{}:{rest}", scheme.to_ascii_lowercase());
                assert_eq!(
                    same_answer(&webfinger::resolve(config, &lower)),
                    same_answer(&target),
                    "{resource} and {lower}"
                );
            }
        }
    }
}

/// An answer without its message, for comparing two.
fn same_answer(answer: &Result<Target, AppError>) -> Result<&Target, u16> {
    answer.as_ref().map_err(|e| e.status().as_u16())
}

// -------------------------------------------------------------- OAuth

/// The OAuth parameter parsing: the first byte picks what the rest is.
///
/// 0. An authorization request's form (`/oauth/authorize`): it reads as
///    axum reads it, and the query it is re-issued with (the sign-in
///    `next` and the consent form) reads back to the same request.
/// 1. The token request's `redirect_uri` against the code's: accepted only
///    when exactly equal, or absent where the request named none.
/// 2. A Mastodon app registration (`/api/v1/apps`, form or JSON), then
///    3. an RFC 7591 one (`/oauth/register`), both through
///    [`check_registered`].
/// 4. `Authorization: Basic`: what is read is what was sent, decoded.
/// 5. Scopes: normalising is idempotent and keeps the set.
/// 6. PKCE: an accepted challenge is 43 base64url characters.
pub fn oauth_params(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => authorize_form(rest),
        1 => token_redirect_uri(rest),
        2 => {
            if let Ok(reg) = apps::read_registration(which & 0x80 != 0, rest) {
                check_registered(&reg);
            }
        }
        3 => {
            let Ok(metadata) = serde_json::from_slice::<register::Metadata>(rest) else {
                return;
            };
            if let Ok(request) = register::read_metadata(metadata) {
                check_registered(&request.registration);
            }
        }
        4 => basic(rest),
        5 => scope(rest),
        _ => pkce(which, rest),
    }
}

fn authorize_form(form: &[u8]) {
    let Ok(params) = serde_urlencoded::from_bytes::<authorize::AuthorizeParams>(form) else {
        return;
    };
    let _ = crate::oauth::endpoints::oversized(params.values());
    let without_form_fields = authorize::AuthorizeParams {
        csrf: None,
        decision: None,
        ..params.clone()
    };
    let again: authorize::AuthorizeParams = serde_urlencoded::from_str(&params.query(false))
        .unwrap_or_else(|e| panic!("{e}: {}", params.query(false)));
    assert_eq!(again, without_form_fields);
    let again: authorize::AuthorizeParams =
        serde_urlencoded::from_str(&params.query(true)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        again,
        authorize::AuthorizeParams {
            prompt: None,
            ..without_form_fields
        }
    );
}

fn token_redirect_uri(rest: &[u8]) {
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (stored, presented) = text.split_once('\n').unwrap_or((text, ""));
    for given in [false, true] {
        for presented in [None, Some(presented)] {
            let ok = grants::token_redirect_uri(stored, given, presented).is_ok();
            let expected = match presented {
                Some(p) => p == stored,
                None => !given,
            };
            assert_eq!(ok, expected, "{stored:?} {given} {presented:?}");
        }
    }
}

/// A registration, checked in both modes. For what passes:
///
/// - what production accepts, development does too;
/// - the redirect URIs stored (one per line) read back as registered;
/// - each is selected when named exactly, and the only one when none is
///   named; near misses (a case change, a slash, a fragment, a prefix)
///   that were not registered themselves are never selected;
/// - the browser is sent to the registered address: the Location keeps its
///   scheme, host, port and path, has no fragment, is a valid header
///   value, and ends its query with our parameters, in order.
fn check_registered(reg: &Registration) {
    let production = clients::check_registration(Mode::Production, reg);
    let development = clients::check_registration(Mode::Development, reg);
    if let Ok(p) = &production {
        assert_eq!(development.as_ref().ok(), Some(p));
    }
    let Ok(checked) = development else {
        return;
    };
    let count = checked.name.chars().count();
    assert!((1..=100).contains(&count) && checked.name == checked.name.trim());
    let scope = scopes::parse(&checked.scopes).unwrap_or_else(|e| panic!("{e}"));
    assert!(!scopes::has(&scope, "publish"));
    let client = Client {
        client_id: "c".into(),
        secret_hash: None,
        name: checked.name.clone(),
        website: reg.website.clone(),
        redirect_uris: checked.redirect_uris.clone(),
        scopes: checked.scopes.clone(),
        first_party: 0,
        app_name: None,
        created_at: 0,
    };
    let stored: Vec<&str> = client.redirect_uris().collect();
    assert_eq!(stored, reg.redirect_uris, "{:?}", checked.redirect_uris);
    let single = (stored.len() == 1).then(|| stored[0].to_string());
    assert_eq!(clients::select_redirect_uri(&client, None), single);
    for uri in &stored {
        assert_eq!(
            clients::select_redirect_uri(&client, Some(uri)).as_deref(),
            Some(*uri)
        );
        let near_misses = [
            uri.to_ascii_uppercase(),
            uri.to_ascii_lowercase(),
            format!("{uri}/"),
            format!("{uri}#x"),
            format!("{uri}x"),
            uri[..uri.len() - uri.chars().last().map_or(0, char::len_utf8)].to_string(),
        ];
        for miss in near_misses.iter().filter(|m| !stored.contains(&m.as_str())) {
            assert_eq!(clients::select_redirect_uri(&client, Some(miss)), None);
        }
        if *uri == authorize::OOB {
            continue;
        }
        let state = "s&t=a#te";
        let iss = "https://coop.example";
        let location = authorize::redirect_location(uri, &[("code", "c+1")], Some(state), iss)
            .unwrap_or_else(|| panic!("accepted {uri} is not a URL"));
        assert!(HeaderValue::from_str(&location).is_ok(), "{location}");
        let registered = Url::parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        let sent = Url::parse(&location).unwrap_or_else(|e| panic!("{location}: {e}"));
        assert_eq!(
            (sent.scheme(), sent.host(), sent.port(), sent.path()),
            (
                registered.scheme(),
                registered.host(),
                registered.port(),
                registered.path()
            ),
            "{uri} -> {location}"
        );
        assert_eq!(sent.fragment(), None);
        let pairs: Vec<(String, String)> = sent.query_pairs().into_owned().collect();
        let ours = [("code", "c+1"), ("state", state), ("iss", iss)];
        assert!(pairs.len() >= ours.len(), "{location}");
        let tail = &pairs[pairs.len() - ours.len()..];
        for ((k, v), (ek, ev)) in tail.iter().zip(ours) {
            assert_eq!((k.as_str(), v.as_str()), (ek, ev), "{location}");
        }
        assert!(!matches!(
            sent.scheme(),
            "javascript" | "data" | "vbscript" | "file" | "blob" | "about"
        ));
    }
}

fn basic(value: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(value) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(axum::http::header::AUTHORIZATION, value);
    let Ok(Some((id, secret))) = clients::basic_credentials(&headers) else {
        return;
    };
    assert!(!id.contains('\0') && !secret.contains('\0'));
    // Sent as RFC 6749 §2.3.1 says, the same credentials read back.
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let header = format!(
        "Basic {}",
        B64.encode(format!("{}:{}", encode(&id), encode(&secret)))
    );
    let mut again = HeaderMap::new();
    again.insert(
        axum::http::header::AUTHORIZATION,
        HeaderValue::from_str(&header).unwrap_or_else(|e| panic!("{e}")),
    );
    let read = clients::basic_credentials(&again).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read, Some((id, secret)));
}

fn scope(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(scope) = scopes::parse(text) else {
        return;
    };
    let normal = scopes::normalise(&scope);
    let again = scopes::parse(&normal).unwrap_or_else(|e| panic!("{normal}: {e}"));
    assert_eq!(scopes::normalise(&again), normal);
    assert!(scopes::covers(&scope, &again) && scopes::covers(&again, &scope));
    for name in scope.iter() {
        assert!(scopes::SUPPORTED.contains(&name) && scopes::has(&again, name));
    }
}

fn pkce(which: u8, rest: &[u8]) {
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (method, challenge) = match text.split_once('\n') {
        Some((m, c)) => (Some(m), Some(c)),
        None => (None, Some(text).filter(|t| !t.is_empty())),
    };
    let client = Client {
        client_id: "c".into(),
        // Public clients must use PKCE; confidential ones may.
        secret_hash: (which & 0x80 != 0).then(|| "h".into()),
        name: "n".into(),
        website: None,
        redirect_uris: String::new(),
        scopes: String::new(),
        first_party: 0,
        app_name: None,
        created_at: 0,
    };
    match grants::pkce_challenge(&client, method, challenge) {
        Ok(Some(_)) => {
            let c = challenge.unwrap_or_default();
            assert!(c.len() == 43, "{c}");
            assert_eq!(method, Some("S256"));
        }
        Ok(None) => assert!(!client.is_public() && challenge.is_none()),
        Err(_) => {}
    }
}
