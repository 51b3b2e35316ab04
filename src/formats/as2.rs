//! The ActivityStreams vocabulary the hub relies on: the context and the
//! public collection, how ids are written (a string, or an object with an
//! `id`), origins, addressing, and the bounds every stored id must keep.

use serde_json::Value;
use url::Url;

use super::FormatError;

/// The ActivityStreams context.
pub const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// The special collection that addresses everyone.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Longest id accepted; PostgreSQL's index entries cap keys at ~2.7 kB.
pub const MAX_ID: usize = 2048;

/// The string form of an id that may be given inline as an object.
pub fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The first id of a property that may hold one id or a list of them
/// (`attributedTo`, `actor`).
pub fn first_id(value: &Value) -> Option<&str> {
    match value {
        Value::Array(list) => list.iter().find_map(id_of),
        other => id_of(other),
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Ids are keys in several tables: bounded, and absolute http(s) URLs.
pub fn check_id(id: &str) -> Result<(), FormatError> {
    if id.len() > MAX_ID {
        return Err(FormatError::invalid(format!(
            "an id is longer than {MAX_ID} bytes"
        )));
    }
    if !(id.starts_with("https://") || id.starts_with("http://")) || id.contains('\0') {
        return Err(FormatError::invalid(format!(
            "'{}' is not an http(s) URL",
            id.escape_debug()
        )));
    }
    Ok(())
}

/// Whether `documents` address the public (in `to` or `cc`).
pub fn is_public(documents: &[&Value]) -> bool {
    let public = |v: &Value| matches!(v.as_str(), Some(PUBLIC | "as:Public" | "Public"));
    documents.iter().any(|doc| {
        ["to", "cc"].iter().any(|field| match doc.get(*field) {
            Some(Value::Array(list)) => list.iter().any(public),
            Some(one) => public(one),
            None => false,
        })
    })
}

/// An RFC 3339 timestamp (`published`, `updated`) in Unix milliseconds.
pub fn millis(value: Option<&Value>) -> Option<i64> {
    let text = value?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Unix milliseconds as the RFC 3339 timestamp AS2 documents carry.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_origins() {
        assert_eq!(id_of(&json!("x")), Some("x"));
        assert_eq!(id_of(&json!({"id": "y"})), Some("y"));
        assert_eq!(id_of(&json!(3)), None);
        assert_eq!(first_id(&json!([3, {"id": "z"}])), Some("z"));
        assert_eq!(origin("http://a:1/x").as_deref(), Some("http://a:1"));
        assert_ne!(origin("http://a:1/x"), origin("http://a:2/x"));
    }

    #[test]
    fn ids_are_bounded_urls() {
        assert!(check_id("https://a.example/x").is_ok());
        assert!(check_id("ftp://a.example/x").is_err());
        assert!(check_id("https://a.example/\0").is_err());
        assert!(check_id(&format!("https://a.example/{}", "x".repeat(MAX_ID))).is_err());
    }

    #[test]
    fn addressing_and_time() {
        assert!(is_public(&[&json!({"to": PUBLIC})]));
        assert!(is_public(&[&json!({}), &json!({"cc": ["as:Public"]})]));
        assert!(!is_public(&[&json!({"to": ["https://a.example/u"]})]));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(millis(Some(&json!("1970-01-01T00:00:01Z"))), Some(1000));
    }
}
