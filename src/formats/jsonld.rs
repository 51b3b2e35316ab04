//! The JSON-LD codec: request bytes to the AS2 tree and back, with its
//! guards: nesting depth before parsing, so a hostile body costs a linear
//! scan and a 400, never a deep recursion; NUL after it, on the tree.
//!
//! AS2 is read as plain JSON, as the fediverse writes it; nothing is
//! expanded against remote contexts.

use serde_json::Value;

use super::FormatError;

/// The media type this hub sends.
pub const MEDIA_TYPE: &str = "application/activity+json";
/// The media types read as ActivityStreams JSON.
pub const READ_MEDIA_TYPES: [&str; 3] = [
    "application/activity+json",
    "application/ld+json",
    "application/json",
];

/// Parses an AS2 document from request bytes: refuses nesting deeper than
/// `max_depth` before parsing, then anything that is not a JSON object and
/// NUL characters in any string or key (PostgreSQL cannot store them).
pub fn decode(body: &[u8], max_depth: usize) -> Result<Value, FormatError> {
    if depth_exceeds(body, max_depth) {
        return Err(FormatError::invalid(format!(
            "JSON nested deeper than {max_depth} levels"
        )));
    }
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| FormatError::invalid(format!("malformed JSON: {e}")))?;
    if !doc.is_object() {
        return Err(FormatError::invalid("the document is not a JSON object"));
    }
    // On the tree, not the bytes: a byte scan for `\u0000` also refused
    // the harmless text `\\u0000` (an escaped backslash, then `u0000`),
    // as a post about JSON may well contain (found by the json_guard fuzz
    // target). A raw NUL byte is malformed JSON already. The recursion is
    // bounded: the tree is within `max_depth`.
    if has_nul(&doc) {
        return Err(FormatError::invalid("NUL characters are not accepted"));
    }
    Ok(doc)
}

/// Whether a string or key anywhere in `value` holds a NUL.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The bytes of a document as sent.
pub fn encode(doc: &Value) -> Vec<u8> {
    doc.to_string().into_bytes()
}

/// Whether arrays and objects in `body` nest deeper than `max`, stopping
/// as soon as they do. Brackets inside strings do not count.
pub fn depth_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_real_nesting_only() {
        assert!(!depth_exceeds(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(depth_exceeds(br#"{"a":[1,{"b":[]}]}"#, 3));
        assert!(!depth_exceeds(br#"{"a":"[[[[[[[[[[{{{{"}"#, 1));
        assert!(!depth_exceeds(br#"{"a":"\"[[[["}"#, 1));
        assert!(depth_exceeds(&[b'['; 100_000], 64));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_text_not_nul() {
        let doc = decode(br#"{"content":"write \\u0000 for NUL"}"#, 8).unwrap();
        assert_eq!(doc["content"], "write \\u0000 for NUL");
    }

    #[test]
    fn decodes_objects_only() {
        assert!(decode(br#"{"id":"x"}"#, 8).is_ok());
        assert!(decode(b"[1]", 8).is_err());
        assert!(decode(b"{", 8).is_err());
        assert!(decode(br#"{"a":"\u0000"}"#, 8).is_err());
        assert!(decode(br#"{"a":["x\u0000"]}"#, 8).is_err());
        assert!(decode(br#"{"\u0000":1}"#, 8).is_err());
        assert!(decode(&[b'['; 100], 8).is_err());
        let doc = decode(br#"{"b":1,"a":[true,null]}"#, 8).unwrap();
        assert_eq!(decode(&encode(&doc), 8).unwrap(), doc);
    }
}
