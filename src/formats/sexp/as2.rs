//! ActivityStreams in sexp (`docs/sexp.md` §3): the AS2 tree written as
//! S-expressions and read back, losslessly. JSON → sexp → JSON is the
//! identity for every AS2 tree (every tree whose `content` members are not
//! arrays or objects; property-tested below); a post's body travels as its
//! markup tree, which JSON carries as rendered HTML plus the tree in
//! `source`.

use serde_json::{Map, Number, Value};

use super::markup::{self, RenderLimits};
use super::{canonical, is_symbol, read, Envelope, Limits, Sexp, MEDIA_TYPE};
use crate::formats::activity::HANDLED;
use crate::formats::FormatError;

/// The head symbol of an object without a (symbol) type.
const UNTYPED: &str = "@";

/// A post body written in sexp: the HTML this hub renders from it, and the
/// tree's canonical text (what `source.content` carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub html: String,
    pub source: String,
}

/// Reads a post body written in sexp (`(p "hi")`) and renders it.
pub fn body(text: &str, limits: &Limits) -> Result<Body, FormatError> {
    let tree = read(text.as_bytes(), limits)
        .map_err(|e| FormatError::invalid(format!("sexp body {e}")))?;
    if !matches!(tree, Sexp::List(_)) {
        return Err(FormatError::invalid(
            "a sexp body is a list, such as (p \"hi\")",
        ));
    }
    let html = markup::to_html(&tree, &RenderLimits::default())
        .map_err(|e| FormatError::invalid(format!("sexp body: {e}")))?;
    let source = canonical(&tree).map_err(|e| FormatError::invalid(format!("sexp body: {e}")))?;
    Ok(Body { html, source })
}

/// The sexp body of a received post object, if it has one: `source` with
/// `mediaType` `application/sexp`. The HTML is this hub's rendering of the
/// tree, whatever `content` the sender wrote beside it.
pub fn body_of(object: &Value) -> Option<Result<Body, FormatError>> {
    let source = object.get("source")?;
    if source.get("mediaType")?.as_str()? != MEDIA_TYPE {
        return None;
    }
    let text = source.get("content")?.as_str()?;
    Some(body(text, &Limits::default()))
}

/// Decodes a received sexp activity (`docs/sexp.md` §8): one datum, either
/// an activity headed by a type the hub handles or a signed envelope around
/// one. Returns its AS2 tree and the envelope, still to be verified.
pub fn decode_activity(
    body: &[u8],
    limits: &Limits,
) -> Result<(Value, Option<Envelope>), FormatError> {
    let datum = read(body, limits).map_err(|e| FormatError::invalid(format!("sexp {e}")))?;
    let (payload, envelope) = if Envelope::is_envelope(&datum) {
        let mut envelope =
            Envelope::from_sexp(datum).map_err(|e| FormatError::invalid(e.to_string()))?;
        let payload = std::mem::replace(&mut envelope.payload, Sexp::Nil);
        (payload, Some(envelope))
    } else {
        (datum, None)
    };
    match payload.head() {
        Some(head) if HANDLED.contains(&head) => {}
        other => {
            let at = match (&envelope, head_position(body)) {
                (None, Some((line, column))) => format!("{line}:{column}: "),
                _ => String::new(),
            };
            return Err(FormatError::invalid(format!(
                "sexp {at}unknown head {}: an activity is headed by one of {}, or by `signed`",
                other.map_or("(none)".to_string(), |h| format!("symbol '{h}'")),
                HANDLED.join(", ")
            )));
        }
    }
    let doc = to_json(&payload)?;
    let envelope = envelope.map(|mut e| {
        e.payload = payload;
        e
    });
    Ok((doc, envelope))
}

/// Line and column (from 1, in characters) of the first datum inside the
/// document's outer list: where its head symbol stands.
fn head_position(body: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(body).ok()?;
    let (mut line, mut column) = (1u32, 1u32);
    let mut chars = text.chars().peekable();
    let mut opened = false;
    while let Some(&c) = chars.peek() {
        match c {
            ';' => while chars.next_if(|&c| c != '\n').is_some() {},
            '\n' => {
                chars.next();
                line += 1;
                column = 1;
            }
            c if c.is_ascii_whitespace() => {
                chars.next();
                column += 1;
            }
            '(' if !opened => {
                opened = true;
                chars.next();
                column += 1;
            }
            _ => return opened.then_some((line, column)),
        }
    }
    None
}

/// Writes an AS2 tree as sexp.
pub fn from_json(value: &Value) -> Result<Sexp, FormatError> {
    Ok(match value {
        Value::Null => Sexp::Nil,
        Value::Bool(b) => Sexp::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sexp::Integer(i),
            None => Sexp::Decimal(n.to_string()),
        },
        Value::String(s) => Sexp::String(no_nul(s)?.to_string()),
        Value::Array(items) => Sexp::List(items.iter().map(from_json).collect::<Result<_, _>>()?),
        Value::Object(members) => object_from_json(members)?,
    })
}

fn no_nul(s: &str) -> Result<&str, FormatError> {
    if s.contains('\0') {
        return Err(FormatError::invalid("NUL characters are not accepted"));
    }
    Ok(s)
}

fn object_from_json(members: &Map<String, Value>) -> Result<Sexp, FormatError> {
    let head = match members.get("type") {
        Some(Value::String(t)) if t != UNTYPED && is_symbol(t) => t.as_str(),
        _ => UNTYPED,
    };
    let body = post_body(members);
    let mut items = Vec::with_capacity(1 + 2 * members.len());
    items.push(Sexp::Symbol(head.to_string()));
    for (key, value) in members {
        if (key == "type" && head != UNTYPED) || (key == "source" && body.is_some()) {
            continue;
        }
        items.push(Sexp::Keyword(no_nul(key)?.to_string()));
        items.push(match (key.as_str(), &body, value) {
            ("content", Some(tree), _) => tree.clone(),
            // In sexp a list under :content is a markup tree (§3).
            ("content", None, Value::Array(_) | Value::Object(_)) => {
                return Err(FormatError::invalid(
                    "a content that is not a string cannot be written in sexp",
                ))
            }
            _ => from_json(value)?,
        });
    }
    Ok(Sexp::List(items))
}

/// The markup tree of a post whose JSON `content` and `source` are exactly
/// what that tree gives back (§3, JSON → sexp); `None` otherwise, and the
/// members then map one by one.
fn post_body(members: &Map<String, Value>) -> Option<Sexp> {
    let content = members.get("content")?.as_str()?;
    let source = members.get("source")?.as_object()?;
    if source.len() != 2 || source.get("mediaType")?.as_str()? != MEDIA_TYPE {
        return None;
    }
    let text = source.get("content")?.as_str()?;
    let tree = read(text.as_bytes(), &Limits::default()).ok()?;
    if !matches!(tree, Sexp::List(_)) || canonical(&tree).ok()? != text {
        return None;
    }
    (markup::to_html(&tree, &RenderLimits::default()).ok()? == content).then_some(tree)
}

/// Reads an AS2 tree from sexp.
pub fn to_json(datum: &Sexp) -> Result<Value, FormatError> {
    Ok(match datum {
        Sexp::Nil => Value::Null,
        Sexp::Bool(b) => Value::Bool(*b),
        Sexp::Integer(i) => Value::from(*i),
        Sexp::Decimal(text) => Value::Number(number(text)?),
        Sexp::String(s) => Value::String(s.clone()),
        Sexp::List(items) => match items.first() {
            Some(Sexp::Symbol(head)) => object_to_json(head, &items[1..])?,
            _ => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        },
        Sexp::Symbol(s) => {
            return Err(FormatError::invalid(format!(
                "the symbol {s} stands where a value belongs (only an object's type is a symbol)"
            )))
        }
        Sexp::Keyword(k) => {
            return Err(FormatError::invalid(format!(
                "the keyword :{k} has no value"
            )))
        }
    })
}

/// A decimal's JSON number: an integer beyond i64 that fits u64 stays
/// exact; anything else is the nearest f64 (std's parser is correctly
/// rounded, so the text JSON writes for an f64 reads back to that f64).
fn number(text: &str) -> Result<Number, FormatError> {
    if let Ok(n) = text.parse::<u64>() {
        return Ok(Number::from(n));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| FormatError::invalid(format!("the number {text} is out of range")))
}

fn object_to_json(head: &str, pairs: &[Sexp]) -> Result<Value, FormatError> {
    let mut members = Map::new();
    if head != UNTYPED {
        members.insert("type".into(), Value::String(head.to_string()));
    }
    let mut body = None;
    let mut rest = pairs.iter();
    while let Some(key) = rest.next() {
        let Sexp::Keyword(key) = key else {
            return Err(FormatError::invalid(format!(
                "in ({head} …): expected a :keyword, found {key}"
            )));
        };
        let value = rest
            .next()
            .ok_or_else(|| FormatError::invalid(format!("in ({head} …): :{key} has no value")))?;
        let value = match (key.as_str(), value) {
            ("content", tree @ Sexp::List(_)) => {
                let html = markup::to_html(tree, &RenderLimits::default())
                    .map_err(|e| FormatError::invalid(format!("the post body: {e}")))?;
                let text = canonical(tree)
                    .map_err(|e| FormatError::invalid(format!("the post body: {e}")))?;
                body = Some(text);
                Value::String(html)
            }
            _ => to_json(value)?,
        };
        if members.insert(key.clone(), value).is_some() {
            return Err(FormatError::invalid(format!(
                "in ({head} …): :{key} is given twice"
            )));
        }
    }
    if let Some(text) = body {
        let source = serde_json::json!({ "content": text, "mediaType": MEDIA_TYPE });
        if members.insert("source".into(), source).is_some() {
            return Err(FormatError::invalid(format!(
                "in ({head} …): a markup :content and a :source together"
            )));
        }
    }
    Ok(Value::Object(members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn round_trip(value: &Value) -> Value {
        let datum = from_json(value).unwrap();
        // Through text too, as on the wire.
        let text = canonical(&datum).unwrap();
        let read_back = read(text.as_bytes(), &Limits::default()).unwrap();
        to_json(&read_back).unwrap()
    }

    #[test]
    fn the_shape_of_docs_sexp_md() {
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://a/activities/1", "type": "Create", "actor": "https://a/actors/blog",
            "object": {
                "id": "https://a/objects/1", "type": "Note", "attributedTo": "https://a/actors/blog",
                "to": ["https://www.w3.org/ns/activitystreams#Public"], "content": "<p>hi</p>",
            },
        });
        let datum = from_json(&create).unwrap();
        assert_eq!(datum.head(), Some("Create"));
        let text = canonical(&datum).unwrap();
        assert!(
            text.contains(
                r#":object (Note :attributedTo "https://a/actors/blog" :content "<p>hi</p>""#
            ),
            "{text}"
        );
        assert_eq!(round_trip(&create), create);
    }

    #[test]
    fn untyped_objects_arrays_and_atoms() {
        for value in [
            json!({}),
            json!([]),
            json!({"type": "@"}),
            json!({"type": ["Note", "Article"], "x": null}),
            json!({"type": "has space"}),
            json!({"publicKey": {"id": "k", "owner": "o"}}),
            json!({"odd key": 1, "toot:discoverable": true, "@context": ["a", {"b": "c"}]}),
            json!({"n": [0, -1, i64::MAX, u64::MAX, 1.5, -0.0, 1e300, 5e-324, 3.0]}),
            json!([[[]], [{}], "s", false]),
            json!({"contentMap": {"en": "<p>hi</p>", "de": "<p>hallo</p>"}}),
        ] {
            assert_eq!(round_trip(&value), value, "{value}");
        }
    }

    #[test]
    fn a_sexp_body_travels_as_its_tree() {
        let note = Sexp::List(vec![
            Sexp::Symbol("Note".into()),
            Sexp::Keyword("content".into()),
            Sexp::List(vec![
                Sexp::Symbol("p".into()),
                Sexp::String("Hello ".into()),
                Sexp::List(vec![
                    Sexp::Symbol("a".into()),
                    Sexp::Keyword("href".into()),
                    Sexp::String("https://b.example/".into()),
                    Sexp::String("friends".into()),
                ]),
            ]),
        ]);
        let json = to_json(&note).unwrap();
        assert_eq!(
            json["content"],
            "<p>Hello <a href=\"https://b.example/\" rel=\"nofollow noopener noreferrer\">friends</a></p>"
        );
        assert_eq!(
            json["source"],
            json!({"content": "(p \"Hello \" (a :href \"https://b.example/\" \"friends\"))", "mediaType": MEDIA_TYPE})
        );
        // And back: the tree, not the HTML.
        assert_eq!(from_json(&json).unwrap(), note);
        assert_eq!(round_trip(&json), json);
    }

    #[test]
    fn a_source_that_does_not_match_its_content_is_kept_as_is() {
        let tree = "(p \"hi\")";
        for value in [
            json!({"type": "Note", "content": "<p>other</p>", "source": {"content": tree, "mediaType": MEDIA_TYPE}}),
            json!({"type": "Note", "content": "<p>hi</p>", "source": {"content": "(p  \"hi\")", "mediaType": MEDIA_TYPE}}),
            json!({"type": "Note", "content": "<p>hi</p>", "source": {"content": tree, "mediaType": "text/markdown"}}),
            json!({"type": "Note", "content": "<p>hi</p>", "source": {"content": tree, "mediaType": MEDIA_TYPE, "x": 1}}),
            json!({"type": "Note", "content": "<p>hi</p>", "source": {"content": "\"hi\"", "mediaType": MEDIA_TYPE}}),
        ] {
            let datum = from_json(&value).unwrap();
            assert!(canonical(&datum).unwrap().contains(":source"), "{value}");
            assert_eq!(round_trip(&value), value);
        }
    }

    #[test]
    fn what_is_not_as2_is_refused() {
        let list = |items: Vec<Sexp>| Sexp::List(items);
        let sym = |s: &str| Sexp::Symbol(s.into());
        let kw = |s: &str| Sexp::Keyword(s.into());
        for bad in [
            sym("Note"),
            kw("id"),
            list(vec![sym("Note"), kw("id")]),
            list(vec![sym("Note"), Sexp::String("x".into())]),
            list(vec![sym("Note"), kw("id"), Sexp::Nil, kw("id"), Sexp::Nil]),
            list(vec![
                sym("Note"),
                kw("type"),
                Sexp::String("Article".into()),
            ]),
            list(vec![
                sym("Note"),
                kw("content"),
                list(vec![sym("p")]),
                kw("source"),
                Sexp::Nil,
            ]),
            list(vec![sym("@"), kw("n"), Sexp::Decimal("1e999".into())]),
            list(vec![sym("x"), kw("v"), list(vec![sym("y")]), sym("z")]),
        ] {
            assert!(to_json(&bad).is_err(), "{bad}");
        }
        assert!(from_json(&json!({"a": "\u{0}"})).is_err());
        assert!(from_json(&json!({"content": ["a", "b"]})).is_err());
        assert!(from_json(&json!({"\u{0}": 1})).is_err());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("type".to_string()),
            Just("content".to_string()),
            Just("id".to_string()),
            "[a-zA-Z@:#/ _-]{1,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[^\u{0}]{0,12}".prop_map(Value::String),
            prop_oneof![Just("Note"), Just("Create"), Just("@"), Just("a b")]
                .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Whether every `content` member in `value` is what AS2 makes it: not
    /// an array or object.
    fn plain_contents(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().all(plain_contents),
            Value::Object(members) => members.iter().all(|(k, v)| {
                !(k == "content" && (v.is_array() || v.is_object())) && plain_contents(v)
            }),
            _ => true,
        }
    }

    proptest! {
        #[test]
        fn json_to_sexp_to_json_is_the_identity(value in json_value()) {
            if plain_contents(&value) {
                prop_assert_eq!(round_trip(&value), value);
            } else {
                prop_assert!(from_json(&value).is_err());
            }
        }
    }
}
